"""The extension author's kit: test a plugin against a real Emporium application.

Installing emporium registers ``core.testing.pytest_plugin`` with pytest (entry
point ``pytest11``, plugin name ``emporium``), so a plugin's tests get the
fixtures without importing anything: ``testapp``, ``dbsession``, ``staff_app``,
``install_plugin``, ``make_product``, ... (docs/plugin-guide.md, "Testing").

This module holds what a test or a conftest may want to call directly.
"""
from .app import (JWT_SECRET, PASSWORD, DatabaseFactory, app_settings,  # noqa: F401
                  initialize, run_lifecycle)
from .app import standalone_app  # noqa: F401
from .concurrency import postgresql_only, race  # noqa: F401
from .schema import schema_differences  # noqa: F401
