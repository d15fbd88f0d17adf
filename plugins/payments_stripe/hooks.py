"""The Stripe plugin's hook implementations: the ``stripe`` payment provider and the
admin dashboard's widget."""
from core.plugins import hookimpl

from .admin import admin_dashboard  # noqa: F401  (the dashboard's Stripe widget)
from .provider import StripeProvider

_PROVIDER = StripeProvider()


@hookimpl
def payment_providers():
    return [_PROVIDER]
