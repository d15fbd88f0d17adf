"""Loading products for their JSON, in a number of queries that does not grow with the
page, and with as few ORM objects as the hooks need.

Plugins are handed the product, its variants (with their stock) and its category as
mapped objects (the ``serialize`` hooks), so those are loaded through the ORM, with
the images. The rest of a product's JSON (its options with their values, and which
value each variant has) only ``representation.product_data`` reads: they are read as
plain rows (``ProductParts``), which costs a fraction of building an object for
each, and a page of 24 products has over 200 of them.

The parts live in the session's ``info`` until the session flushes or its
transaction ends, so a product changed since is read again through its
relationships, never from parts older than the change.
"""
import dataclasses

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, joinedload, object_session, selectinload

from .models import Option, OptionValue, Product, Variant, VariantOption

PARTS = "catalog.product_parts"

# the rows with their category and images (joined: the queries that use it have no
# LIMIT of their own, page_query's is inside), and the variants with their stock
PRODUCT_LOAD = (joinedload(Product.category), joinedload(Product.images),
                selectinload(Product.variants).joinedload(Variant.stock))


@dataclasses.dataclass
class ProductParts:
    images: list = dataclasses.field(default_factory=list)  # [(url, alt)]
    # [(option id, name, [(value id, value)])], in the product's option order
    options: list = dataclasses.field(default_factory=list)
    variant_values: dict = dataclasses.field(default_factory=dict)  # variant id -> {value id}


def ids_in(column, ids, dialect_name):
    """``column IN ids``: on PostgreSQL as one array parameter (``= ANY``), which is
    rendered and sent once instead of once per id."""
    ids = list(ids)
    if dialect_name == "postgresql":
        return column == sa.any_(sa.literal(ids, ARRAY(sa.Integer)))
    return column.in_(ids)


def load_products(dbsession, query):
    """The products of ``query`` (a SELECT of Product), loaded for their JSON."""
    products = dbsession.scalars(query.options(*PRODUCT_LOAD)).unique().all()
    load_parts(dbsession, products)
    return products


def load_parts(dbsession, products):
    """Read the options and option values of ``products`` (loaded with their images)
    in one query."""
    if not products:
        return
    dialect_name = dbsession.get_bind().dialect.name
    parts = {product.id: ProductParts(images=[(image.url, image.alt)
                                              for image in product.images])
             for product in products}
    product_ids = list(parts)
    # the options, their values, and the variants that have each value (a value row
    # once per variant, or once with no variant if none has it), in one query
    current, last_value = None, None
    for product_id, option_id, name, value_id, value, variant_id in dbsession.execute(
            sa.select(Option.product_id, Option.id, Option.name, OptionValue.id,
                      OptionValue.value, VariantOption.variant_id)
            .outerjoin(OptionValue, OptionValue.option_id == Option.id)
            .outerjoin(VariantOption, VariantOption.value_id == OptionValue.id)
            .where(ids_in(Option.product_id, product_ids, dialect_name))
            .order_by(Option.product_id, Option.position, Option.id, OptionValue.position,
                      OptionValue.id)):
        product = parts[product_id]
        if current is None or current[0] != option_id:
            current = (option_id, name, [])
            product.options.append(current)
        if value_id is not None and value_id != last_value:
            current[2].append((value_id, value))
        last_value = value_id
        if variant_id is not None:
            product.variant_values.setdefault(variant_id, set()).add(value_id)
    dbsession.info.setdefault(PARTS, {}).update(parts)


def parts_of(product):
    """The product's ``ProductParts``: those loaded with it, or, when there are none
    (loaded otherwise, or changed since), read from its relationships."""
    dbsession = object_session(product)
    found = dbsession.info.get(PARTS, {}).get(product.id) if dbsession is not None else None
    if found is not None:
        return found
    return ProductParts(
        images=[(image.url, image.alt) for image in product.images],
        options=[(option.id, option.name, [(value.id, value.value) for value in option.values])
                 for option in product.options],
        variant_values={variant.id: {link.value_id for link in variant.option_links}
                        for variant in product.variants})


@sa.event.listens_for(Session, "after_flush")
@sa.event.listens_for(Session, "after_transaction_end")
def _forget_parts(session, *args):
    session.info.pop(PARTS, None)
