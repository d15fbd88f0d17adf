"""Purchase limits: the most units of a product one order may hold.

The plugin of the tutorial "Write your first plugin" (docs/tutorial.md in
Emporium). It adds ``purchase_limit`` to the catalog's product JSON (the
``serialize`` hook), lets staff set limits (``/api/v1/purchase-limits``), and
refuses a checkout whose cart holds more than a limit allows (the
``checkout_validate`` hook).
"""
from core.plugins import Manifest

MANAGE = "purchase_limits.manage"

# keep the version in step with setup.cfg: raising it makes `emporium db upgrade` upgrade it
manifest = Manifest(
    name="purchase_limits",
    version="1.0.0",
    title="Purchase limits",
    summary="At most N units of a product per order, shown on the product",
    # the kernel versions this code works with; on any other the plugin is broken
    requires_kernel=">=0.1,<1",
    # its table refers to the catalog's products, and its hook reads the catalog
    depends=("catalog",),
)


def includeme(config):
    from .services import request_limits

    config.declare_permission(MANAGE, "Set and remove purchase limits of products")
    config.add_route("purchase_limits.list", "/purchase-limits")
    config.add_route("purchase_limits.limit", "/purchase-limits/{product}")
    # every limit of the shop, read at most once per request (see hooks.serialize)
    config.add_request_method(request_limits, "purchase_limits", reify=True)
    config.scan(".views")
