"""The catalog's hook implementations (see core/hookspecs.py)."""
from core.plugins import hookimpl

from . import demo


@hookimpl
def demo_data(dbsession):
    demo.load(dbsession)
