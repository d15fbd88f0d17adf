"""Purchase limits, callable without HTTP. Nothing here commits: the caller's
transaction does."""
import sqlalchemy as sa

from plugins.catalog import services as catalog
from plugins.catalog.models import Product

from .models import PurchaseLimit


def limits_for(dbsession, product_ids=None):
    """``{product_id: max_quantity}`` of the given products (of all, for None)."""
    query = sa.select(PurchaseLimit.product_id, PurchaseLimit.max_quantity)
    if product_ids is not None:
        query = query.where(PurchaseLimit.product_id.in_(list(product_ids)))
    return dict(dbsession.execute(query).all())


def request_limits(request):
    """``request.purchase_limits``: every limit of the shop, in one query per request.

    A shop limits a handful of products, so reading them all is cheaper than one
    query per product of a page.
    """
    return limits_for(request.dbsession)


def list_query():
    """Every limit, by product name (for ``core.api.pagination.paginate_query``)."""
    return (sa.select(PurchaseLimit).join(Product, Product.id == PurchaseLimit.product_id)
            .order_by(Product.name, Product.id))


def product_names(dbsession, product_ids):
    return dict(dbsession.execute(sa.select(Product.id, Product.name).where(
        Product.id.in_(list(product_ids)))).all())


def set_limit(dbsession, product, max_quantity):
    """Set the product's limit (a new one or a change); returns the PurchaseLimit."""
    # two staff members setting the same product's limit at once: the second waits
    # here for the first, then changes its row instead of inserting a duplicate
    dbsession.execute(sa.select(Product.id).where(Product.id == product.id).with_for_update())
    limit = dbsession.get(PurchaseLimit, product.id, populate_existing=True)
    if limit is None:
        limit = PurchaseLimit(product_id=product.id)
        dbsession.add(limit)
    limit.max_quantity = max_quantity
    dbsession.flush()
    return limit


def remove_limit(dbsession, product):
    """Remove the product's limit; False if it had none."""
    deleted = dbsession.execute(
        sa.delete(PurchaseLimit).where(PurchaseLimit.product_id == product.id))
    return deleted.rowcount > 0


def cart_errors(dbsession, items):
    """What breaks a limit in a cart's ``items`` (``(item_id, variant_id, quantity)``), in
    the shape of the ``checkout_validate`` hook. Variants of one product count together."""
    infos = catalog.variant_infos(dbsession, [variant_id for _, variant_id, _ in items])
    held, first_item, names = {}, {}, {}
    for item_id, variant_id, quantity in items:
        info = infos.get(variant_id)
        if info is None:  # not in the catalog any more: the cart plugin reports it
            continue
        held[info.product_id] = held.get(info.product_id, 0) + quantity
        first_item.setdefault(info.product_id, item_id)
        names[info.product_id] = info.name
    limits = limits_for(dbsession, held)
    return [{"code": "purchase_limit_exceeded",
             "message": f"{names[product_id]}: at most {limits[product_id]} per order, "
                        f"the cart holds {quantity}.",
             "item_id": first_item[product_id]}
            for product_id, quantity in held.items()
            if product_id in limits and quantity > limits[product_id]]
