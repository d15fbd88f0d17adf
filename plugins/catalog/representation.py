"""The JSON of products and categories, as frontends read it (see docs/catalog.md).

Money is a decimal string with ``currency`` beside it. Products loaded with
``loading.load_products`` are turned into JSON without a query; others read their
relationships.
Other plugins add fields through the ``serialize`` hook (or ``serialize_many``) with
the kinds ``catalog.product``, ``catalog.variant`` and ``catalog.category``.
"""
from core.money import Money

from .loading import parts_of


def _money(amount, currency):
    return None if amount is None else str(Money(amount, currency))


def category_ref(category):
    if category is None:
        return None
    return {"id": category.id, "slug": category.slug, "name": category.name}


def variant_options(value_ids, names, values):
    """``{option name: value}`` of a variant with these option values, in the
    product's option order."""
    found = []
    for value_id in value_ids:
        option_id, value = values.get(value_id, (None, None))
        if option_id in names:
            position, name = names[option_id]
            found.append((position, name, value))
    return {name: value for _, name, value in sorted(found)}


def product_data(product):
    """The product as a dict of plain JSON values, without other plugins' fields."""
    parts = parts_of(product)
    names = {}  # option id -> (position index, name)
    values = {}  # value id -> (option id, value)
    options = []
    for index, (option_id, name, option_values) in enumerate(parts.options):
        names[option_id] = (index, name)
        options.append({"name": name, "values": [value for _, value in option_values]})
        for value_id, value in option_values:
            values[value_id] = (option_id, value)
    variants = []
    for variant in product.variants:
        stock = variant.stock
        available = stock.available if stock is not None else 0
        variants.append({
            "id": variant.id,
            "sku": variant.sku,
            "options": variant_options(parts.variant_values.get(variant.id, ()), names,
                                       values),
            "price": _money(variant.price, variant.currency),
            "compare_at_price": _money(variant.compare_at_price, variant.currency),
            "currency": variant.currency,
            "weight_grams": variant.weight_grams,
            "stock_available": available,
            "in_stock": available > 0,
        })
    cheapest = min(product.variants, key=lambda v: v.price, default=None)
    dearest = max(product.variants, key=lambda v: v.price, default=None)
    return {
        "id": product.id,
        "name": product.name,
        "slug": product.slug,
        "description": product.description or "",
        "brand": product.brand,
        "category": category_ref(product.category),
        "images": [{"url": url, "alt": alt or ""} for url, alt in parts.images],
        "options": options,
        "variants": variants,
        "price": _money(cheapest.price, cheapest.currency) if cheapest else None,
        "price_max": _money(dearest.price, dearest.currency) if dearest else None,
        "currency": cheapest.currency if cheapest else None,
        "in_stock": any(v["in_stock"] for v in variants),
        "is_active": product.is_active,
        "created_at": product.created_at.isoformat() if product.created_at else None,
        "updated_at": product.updated_at.isoformat() if product.updated_at else None,
    }


def products_json(request, products):
    """``product_data`` of each product with the fields enabled plugins add (kinds
    catalog.product and catalog.variant), asked of them once for the whole list."""
    data = [product_data(product) for product in products]
    plugins = request.plugins
    plugins.extend_many("catalog.variant",
                        [variant for product in products for variant in product.variants],
                        [variant for entry in data for variant in entry["variants"]], request)
    return plugins.extend_many("catalog.product", products, data, request)


def product_json(request, product):
    """``products_json`` of one product."""
    return products_json(request, [product])[0]


def category_data(category):
    return {
        "id": category.id,
        "slug": category.slug,
        "name": category.name,
        "parent_id": category.parent_id,
        "position": category.position,
        "description": category.description or "",
    }


def category_tree(request, categories):
    """The nested tree of ``categories`` (all of them, any order): a list of roots."""
    categories = list(categories)
    data = []
    for category in categories:
        data.append(dict(category_data(category), children=[]))
    request.plugins.extend_many("catalog.category", categories, data, request)
    nodes = {category.id: node for category, node in zip(categories, data)}
    roots = []
    ordered = sorted(categories, key=lambda c: (c.position, c.name.lower(), c.id))
    for category in ordered:
        node = nodes[category.id]
        parent = nodes.get(category.parent_id)
        (parent["children"] if parent is not None else roots).append(node)
    return roots
