"""The catalog's hook implementations (see core/hookspecs.py)."""
from core.plugins import hookimpl

from . import demo
from .admin import admin_dashboard, admin_menu  # noqa: F401  (the admin's menu and widgets)


@hookimpl
def demo_data(dbsession):
    demo.load(dbsession)
