"""Hooks the catalog offers to plugins that depend on it."""
from core.hookspecs import hookspec


@hookspec
def catalog_product_changed(product, action, dbsession):
    """A catalog product was created, updated (its variants included) or deleted.

    When: inside the transaction of the change (staff API, import): after the
    flush for ``"created"`` and ``"updated"``; for ``"deleted"`` before the row is
    deleted, so a plugin can remove its own rows that refer to the product.

    ``product``: the ``plugins.catalog.models.Product``.
    ``action``: ``"created"``, ``"updated"`` or ``"deleted"``.
    ``dbsession``: the session of the change.

    Returns: nothing.
    """
