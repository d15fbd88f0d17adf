"""The catalog's logic, callable without HTTP: queries for the storefront, staff writes,
and variant look-ups for other plugins (cart, orders).

Writes take the validated bodies of ``schemas`` and raise ``core.api.errors``
(or marshmallow's ValidationError, a 400 naming the fields). They never commit:
the caller's transaction does.

``hook``: the hook relay of the caller (``request.plugins.hook``), used to tell
other plugins that a product changed; ``None`` tells nobody.
"""
import dataclasses
import re
import secrets
import unicodedata

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import aliased, joinedload

from core.api.errors import Conflict
from core.db import utcnow
from core.money import Money, exponent

from . import inventory, search
from .loading import ids_in, load_products
from .models import (Category, Option, OptionValue, Product, ProductImage, Stock, Variant,
                     VariantOption)
from .schemas import MAX_ID, is_slug

FACET_LIMIT = 100


# --- helpers ----------------------------------------------------------------------------


def slugify(text, max_length=190):
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].strip("-")
    if not slug:
        return "item"
    return f"n-{slug}" if slug.isdigit() else slug


def unique_slug(dbsession, model, name):
    """A free slug made from ``name``: "shirt", else "shirt-2", "shirt-3", ..."""
    base = slugify(name)
    candidates = [base] + [f"{base}-{n}" for n in range(2, 12)]
    taken = set(dbsession.scalars(sa.select(model.slug).where(model.slug.in_(candidates))))
    for candidate in candidates:
        if candidate not in taken:
            return candidate
    return f"{base}-{secrets.token_hex(3)}"


def parse_ref(ref):
    """``/things/{ref}``: an id (digits) or a slug; None when it can be neither."""
    if ref.isascii() and ref.isdigit():  # not "²", which isdigit() too
        number = int(ref)
        return ("id", number) if 0 < number <= MAX_ID else None
    return ("slug", ref) if is_slug(ref) else None


def notify(hook, dbsession, product, action):
    """Tell the enabled plugins about a product change (``hook`` None: nobody to tell)."""
    if hook is not None:
        hook.catalog_product_changed(product=product, action=action, dbsession=dbsession)


def to_minor(amount, currency, field):
    """A decimal amount of ``currency`` in minor units; a 400 on ``field`` if too precise."""
    try:
        return Money.from_decimal(amount, currency).amount
    except ValueError:
        places = exponent(currency)
        raise ValidationError({field: [
            f"{currency} amounts have at most {places} decimal places."]}) from None


# --- categories -------------------------------------------------------------------------


def all_categories(dbsession):
    return dbsession.scalars(sa.select(Category)).all()


def find_category(dbsession, ref):
    parsed = parse_ref(str(ref))
    if parsed is None:
        return None
    column = Category.id if parsed[0] == "id" else Category.slug
    return dbsession.scalars(sa.select(Category).where(column == parsed[1])).one_or_none()


def descendant_ids(category_id=None, slug=None):
    """A SELECT of the ids of a category and all the categories below it."""
    anchor = sa.select(Category.id)
    anchor = anchor.where(Category.id == category_id) if category_id is not None \
        else anchor.where(Category.slug == slug)
    tree = anchor.cte("catalog_subtree", recursive=True)
    child = aliased(Category)
    # UNION (not UNION ALL) ends the recursion even on a cycle
    tree = tree.union(sa.select(child.id).where(child.parent_id == tree.c.id))
    return sa.select(tree.c.id)


def category_path(categories, category):
    """The categories from the root down to ``category`` (breadcrumbs)."""
    by_id = {c.id: c for c in categories}
    path, seen, current = [], set(), category
    while current is not None and current.id not in seen:
        seen.add(current.id)
        path.append(current)
        current = by_id.get(current.parent_id)
    return path[::-1]


def _check_parent(dbsession, category, parent_id):
    if parent_id is None:
        return
    parent = dbsession.get(Category, parent_id)
    if parent is None:
        raise ValidationError({"parent_id": ["There is no category with this id."]})
    if category is not None and category.id is not None:
        below = set(dbsession.scalars(descendant_ids(category_id=category.id)))
        if parent_id in below:
            raise ValidationError({"parent_id": [
                "A category cannot be moved under itself or one of its sub-categories."]})


def _check_category_slug(dbsession, slug, category=None):
    query = sa.select(Category.id).where(Category.slug == slug)
    if category is not None:
        query = query.where(Category.id != category.id)
    if dbsession.scalar(query) is not None:
        raise Conflict("A category already has this slug.", code="duplicate_slug",
                       fields={"slug": ["A category already has this slug."]})


def create_category(dbsession, data):
    if "slug" in data:
        _check_category_slug(dbsession, data["slug"])
        slug = data["slug"]
    else:
        slug = unique_slug(dbsession, Category, data["name"])
    _check_parent(dbsession, None, data.get("parent_id"))
    category = Category(name=data["name"], slug=slug, parent_id=data.get("parent_id"),
                        position=data.get("position", 0),
                        description=data.get("description", ""))
    dbsession.add(category)
    _flush(dbsession, "slug")
    return category


def update_category(dbsession, category, data):
    if "slug" in data and data["slug"] != category.slug:
        _check_category_slug(dbsession, data["slug"], category)
    if "parent_id" in data:
        _check_parent(dbsession, category, data["parent_id"])
    for key in ("name", "slug", "parent_id", "position", "description"):
        if key in data:
            setattr(category, key, data[key])
    _flush(dbsession, "slug")
    return category


def delete_category(dbsession, category):
    children = dbsession.scalar(sa.select(sa.func.count()).where(
        Category.parent_id == category.id))
    products = dbsession.scalar(sa.select(sa.func.count()).where(
        Product.category_id == category.id))
    if children or products:
        raise Conflict(
            f"The category still has {children} sub-categories and {products} products; "
            "move or delete them first.", code="category_not_empty",
            extra={"children": children, "products": products})
    dbsession.delete(category)
    dbsession.flush()


def _flush(dbsession, field):
    """Flush; a unique value that a concurrent request just took becomes a 409."""
    try:
        dbsession.flush()
    except sa.exc.IntegrityError:
        raise Conflict("Another record already uses this value.", code="conflict",
                       fields={field: ["Another record already uses this value."]}) from None


# --- reading products -------------------------------------------------------------------


@dataclasses.dataclass
class ProductFilters:
    q: str | None = None
    category_id: int | None = None
    category_slug: str | None = None
    brands: list = dataclasses.field(default_factory=list)
    min_price: int | None = None  # minor units
    max_price: int | None = None
    in_stock: bool | None = None
    options: dict = dataclasses.field(default_factory=dict)  # name -> [values]
    include_inactive: bool = False
    # the category and its descendants, resolved by resolve_categories()
    category_ids: list | None = None

    @property
    def terms(self):
        return search.query_words(self.q) if self.q else []


def listed():
    """What customers see in lists: active products that have a variant (a price)."""
    return [Product.is_active, Product.price_min.is_not(None)]


def resolve_categories(dbsession, filters):
    """Look up the ids of the filtered category and its descendants, once.

    A separate small query rather than a subquery: PostgreSQL cannot estimate
    how many categories a recursive CTE yields, and with the ids themselves it
    picks the category index instead of scanning every product.
    """
    wanted = filters.category_id is not None or filters.category_slug is not None
    if wanted and filters.category_ids is None:
        filters.category_ids = sorted(dbsession.scalars(
            descendant_ids(filters.category_id, filters.category_slug)))
    return filters


def product_conditions(filters, dialect_name):
    """The WHERE clauses of a product list with these (resolved) filters."""
    conditions = [] if filters.include_inactive else listed()
    if filters.category_ids is not None:
        # a top category has hundreds of descendants: one array parameter, not one each
        conditions.append(ids_in(Product.category_id, filters.category_ids, dialect_name))
    if filters.brands:
        conditions.append(Product.brand.in_(filters.brands))
    if filters.terms:
        conditions.append(search.condition(dialect_name, filters.terms))
    # one variant must satisfy the price range, the option filters and in_stock together
    variant = sa.select(Variant.id).where(Variant.product_id == Product.id)
    variant_filtered = False
    low, high = filters.min_price, filters.max_price
    # A product has a variant at low or more exactly when its dearest one is, and at
    # high or less when its cheapest one is: these read the product row (and the
    # list indexes) only. They hold whatever else is filtered, so they always apply.
    if low is not None:
        conditions.append(Product.price_max >= low)
    if high is not None:
        conditions.append(Product.price_min <= high)
    for name, values in filters.options.items():
        variant = variant.where(Variant.id.in_(
            sa.select(VariantOption.variant_id)
            .join(OptionValue, OptionValue.id == VariantOption.value_id)
            .join(Option, Option.id == OptionValue.option_id)
            .where(Option.name == name, OptionValue.value.in_(values))))
        variant_filtered = True
    available = sa.select(Stock.variant_id).where(
        Stock.variant_id == Variant.id, Stock.on_hand > Stock.reserved).exists()
    if filters.in_stock:
        variant = variant.where(available)
        variant_filtered = True
    if variant_filtered:
        # the same variant must also be in the price range
        if low is not None:
            variant = variant.where(Variant.price >= low)
        if high is not None:
            variant = variant.where(Variant.price <= high)
        conditions.append(variant.exists())
    elif low is not None and high is not None:
        # Only a product whose prices straddle the whole range needs its variants read:
        # its cheapest one below the range and its dearest one above it.
        in_range = variant.where(Variant.price >= low, Variant.price <= high)
        conditions.append(sa.or_(Product.price_min >= low, Product.price_max <= high,
                                 in_range.exists()))
    if filters.in_stock is False:
        conditions.append(~sa.select(Variant.id).where(
            Variant.product_id == Product.id, available).exists())
    return conditions


SORTS = {
    "price": (Product.price_min.asc(), Product.id.asc()),
    "-price": (Product.price_min.desc(), Product.id.desc()),
    "name": (Product.name.asc(), Product.id.asc()),
    "-name": (Product.name.desc(), Product.id.desc()),
    "newest": (Product.created_at.desc(), Product.id.desc()),
}


def _order(filters, sort, dialect_name):
    if sort is None and filters.terms:
        relevance = search.rank(dialect_name, filters.terms)
        if relevance is not None:
            return (relevance, Product.id.desc())
    order = SORTS[sort or "newest"]
    if filters.include_inactive and sort in ("price", "-price"):
        # products without variants have no price: last, the same on every database
        order = (order[0].nulls_last(), order[1])
    return order


def page_ids(filters, sort, page, per_page, dialect_name):
    """The SELECT of the ids of one page of products, in order.

    It reads only columns the list indexes hold, so that PostgreSQL can pick a page
    from an index alone (an index-only scan) instead of reading, for every product
    the filters reject, its row from the table.
    """
    return (sa.select(Product.id).where(*product_conditions(filters, dialect_name))
            .order_by(*_order(filters, sort, dialect_name))
            .limit(per_page).offset((page - 1) * per_page))


def page_query(filters, sort, page, per_page, dialect_name):
    """The SELECT of one page of products (without the loading of their relations):
    ``page_ids``, then only those rows."""
    ids = page_ids(filters, sort, page, per_page, dialect_name).subquery()
    return (sa.select(Product).join(ids, Product.id == ids.c.id)
            .order_by(*_order(filters, sort, dialect_name)))


def list_products(dbsession, filters, sort=None, page=1, per_page=20):
    """One page of products, fully loaded, and the total: (products, total)."""
    dialect_name = dbsession.get_bind().dialect.name
    resolve_categories(dbsession, filters)
    if filters.category_ids == []:  # no such category
        return [], 0
    if _ranked(filters, sort, dialect_name):
        return _ranked_page(dbsession, filters, page, per_page, dialect_name)
    total = _count(dbsession, filters, dialect_name)
    if total == 0 or (page - 1) * per_page >= total:
        return [], total
    return load_products(dbsession, page_query(filters, sort, page, per_page, dialect_name)), total


def _count(dbsession, filters, dialect_name):
    conditions = product_conditions(filters, dialect_name)
    return dbsession.scalar(sa.select(sa.func.count()).select_from(Product).where(*conditions))


def _ranked(filters, sort, dialect_name):
    return sort is None and filters.terms and search.rank(dialect_name, filters.terms) is not None


def _ranked_page(dbsession, filters, page, per_page, dialect_name):
    """A page in order of relevance, and the total. Ranking reads every match from the
    table, as counting them does: both in one pass (a window count), not two."""
    rows = dbsession.execute(page_ids(filters, None, page, per_page, dialect_name)
                             .add_columns(sa.func.count().over())).all()
    if not rows:  # no match, or a page past the last one
        return [], 0 if page == 1 else _count(dbsession, filters, dialect_name)
    ids = [product_id for product_id, _ in rows]
    found = {product.id: product for product in load_products(
        dbsession, sa.select(Product).where(ids_in(Product.id, ids, dialect_name)))}
    return [found[product_id] for product_id in ids], rows[0][1]


def facets(dbsession, filters):
    """Counts of the matching products per brand and per (direct) category."""
    dialect_name = dbsession.get_bind().dialect.name
    resolve_categories(dbsession, filters)
    conditions = product_conditions(filters, dialect_name)
    count = sa.func.count(Product.id)
    brands = dbsession.execute(
        sa.select(Product.brand, count).where(*conditions, Product.brand.is_not(None))
        .group_by(Product.brand).order_by(count.desc(), Product.brand).limit(FACET_LIMIT)
    ).all()
    categories = dbsession.execute(
        sa.select(Category.id, Category.slug, Category.name, count)
        .join(Product, Product.category_id == Category.id).where(*conditions)
        .group_by(Category.id, Category.slug, Category.name)
        .order_by(count.desc(), Category.name).limit(FACET_LIMIT)
    ).all()
    return {
        "brands": [{"value": brand, "count": n} for brand, n in brands],
        "categories": [{"id": i, "slug": s, "name": name, "count": n}
                       for i, s, name, n in categories],
    }


def find_product(dbsession, ref, include_inactive=False, load=True):
    parsed = parse_ref(str(ref))
    if parsed is None:
        return None
    column = Product.id if parsed[0] == "id" else Product.slug
    query = sa.select(Product).where(column == parsed[1])
    if not include_inactive:
        query = query.where(Product.is_active)
    if load:
        found = load_products(dbsession, query)
        return found[0] if found else None
    return dbsession.scalars(query).one_or_none()


def find_variant(dbsession, variant_id):
    if not isinstance(variant_id, int) or not 0 < variant_id <= MAX_ID:
        return None
    return dbsession.get(Variant, variant_id)


@dataclasses.dataclass(frozen=True)
class VariantInfo:
    """What a cart or an order needs to know about a variant."""

    variant_id: int
    product_id: int
    product_slug: str
    name: str
    sku: str
    options: dict
    unit_price: Money
    compare_at_price: Money | None
    weight_grams: int | None
    image_url: str | None
    is_active: bool  # the product can be bought
    available: int


def variant_infos(dbsession, variant_ids):
    """``{variant_id: VariantInfo}`` in a fixed number of queries; unknown ids are left out."""
    ids = sorted({v for v in variant_ids if isinstance(v, int) and 0 < v <= MAX_ID})
    if not ids:
        return {}
    # one query: the variants with their product, stock and options, and the URL of
    # each product's first image
    first_image = (sa.select(ProductImage.url)
                   .where(ProductImage.product_id == Variant.product_id)
                   .order_by(ProductImage.position, ProductImage.id)
                   .limit(1).scalar_subquery())
    rows = dbsession.execute(
        sa.select(Variant, first_image.label("image_url")).where(Variant.id.in_(ids)).options(
            joinedload(Variant.stock),
            joinedload(Variant.product),
            joinedload(Variant.option_links).joinedload(VariantOption.value)
            .joinedload(OptionValue.option),
        )).unique().all()
    infos = {}
    for variant, image_url in rows:
        links = sorted(variant.option_links,
                       key=lambda link: (link.value.option.position, link.value.option.id))
        product = variant.product
        infos[variant.id] = VariantInfo(
            variant_id=variant.id, product_id=product.id, product_slug=product.slug,
            name=product.name, sku=variant.sku,
            options={link.value.option.name: link.value.value for link in links},
            unit_price=variant.price_money, compare_at_price=variant.compare_at_money,
            weight_grams=variant.weight_grams,
            image_url=image_url,
            is_active=product.is_active,
            available=variant.stock.available if variant.stock is not None else 0,
        )
    return infos


# --- writing products -------------------------------------------------------------------


def refresh(product):
    """Recompute the columns kept for sorting and search from the loaded variants."""
    product.price_min = min((v.price for v in product.variants), default=None)
    product.price_max = max((v.price for v in product.variants), default=None)
    product.search_text = search.search_text(product, [v.sku for v in product.variants])
    product.updated_at = utcnow()


def _check_product_slug(dbsession, slug, product=None):
    query = sa.select(Product.id).where(Product.slug == slug)
    if product is not None:
        query = query.where(Product.id != product.id)
    if dbsession.scalar(query) is not None:
        raise Conflict("A product already has this slug.", code="duplicate_slug",
                       fields={"slug": ["A product already has this slug."]})


def _check_category(dbsession, category_id):
    if category_id is not None and dbsession.get(Category, category_id) is None:
        raise ValidationError({"category_id": ["There is no category with this id."]})


def _brand(value):
    value = (value or "").strip()
    return value or None


def _images(data):
    return [ProductImage(url=image["url"], alt=image.get("alt", ""), position=index)
            for index, image in enumerate(data)]


def create_product(dbsession, data, currency, hook=None, user_id=None):
    """Create a product, with its images, options and variants (and their stock)."""
    if "slug" in data:
        _check_product_slug(dbsession, data["slug"])
        slug = data["slug"]
    else:
        slug = unique_slug(dbsession, Product, data["name"])
    _check_category(dbsession, data.get("category_id"))
    product = Product(
        name=data["name"], slug=slug, description=data.get("description", ""),
        brand=_brand(data.get("brand")), category_id=data.get("category_id"),
        is_active=data.get("is_active", True), images=_images(data.get("images", [])),
        search_text="",
    )
    dbsession.add(product)
    variants = data.get("variants", [])
    if "options" in data:
        _declare_options(product, data["options"])
    added = _add_variants(dbsession, product, variants, currency, prefix="variants.")
    refresh(product)
    _flush(dbsession, "slug")
    _initial_stock(dbsession, added, user_id)
    notify(hook, dbsession, product, "created")
    return product


def update_product(dbsession, product, data, hook=None):
    if "slug" in data and data["slug"] != product.slug:
        _check_product_slug(dbsession, data["slug"], product)
    if "category_id" in data:
        _check_category(dbsession, data["category_id"])
    for key in ("name", "slug", "description", "category_id", "is_active"):
        if key in data:
            setattr(product, key, data[key])
    if "brand" in data:
        product.brand = _brand(data["brand"])
    if "images" in data:
        product.images = _images(data["images"])
    if "options" in data:
        _reorder_options(product, data["options"])
    refresh(product)
    _flush(dbsession, "slug")
    notify(hook, dbsession, product, "updated")
    return product


def delete_product(dbsession, product, hook=None):
    """Delete a product with its variants; 409 if another plugin's records still use it.

    Other plugins hear of it first, so they can remove what refers to the product.
    """
    notify(hook, dbsession, product, "deleted")
    try:
        with dbsession.begin_nested():
            dbsession.delete(product)
            dbsession.flush()
    except sa.exc.IntegrityError:
        raise Conflict("Orders or other records still refer to this product; deactivate "
                       "it instead (is_active: false).", code="product_in_use") from None


def add_variant(dbsession, product, data, currency, hook=None, user_id=None):
    added = _add_variants(dbsession, product, [data], currency, prefix="")
    refresh(product)
    _flush(dbsession, "sku")
    _initial_stock(dbsession, added, user_id)
    variant = added[0][0]
    notify(hook, dbsession, product, "updated")
    return variant


def update_variant(dbsession, variant, data, currency, hook=None):
    product = variant.product
    if "sku" in data and data["sku"] != variant.sku:
        _check_skus(dbsession, {data["sku"]: "sku"}, exclude=variant.id)
        variant.sku = data["sku"]
    if "currency" in data:
        _check_currency(data["currency"], currency, "currency")
    if "price" in data:
        variant.price = to_minor(data["price"], variant.currency, "price")
    if "compare_at_price" in data:
        variant.compare_at_price = None if data["compare_at_price"] is None else to_minor(
            data["compare_at_price"], variant.currency, "compare_at_price")
    for key in ("weight_grams", "position"):
        if key in data:
            setattr(variant, key, data[key])
    if "options" in data:
        siblings = [v for v in product.variants if v is not variant]
        values = _resolve_options(product, data["options"], "options", bool(siblings))
        _check_combination(siblings, values, "options")
        _set_links(variant, values)
        dbsession.flush()
        _prune_options(product)
    refresh(product)
    _flush(dbsession, "sku")
    notify(hook, dbsession, product, "updated")
    return variant


def delete_variant(dbsession, variant, hook=None):
    product = variant.product
    try:
        with dbsession.begin_nested():
            product.variants.remove(variant)
            dbsession.flush()
    except sa.exc.IntegrityError:
        raise Conflict("Orders or other records still refer to this variant.",
                       code="variant_in_use") from None
    _prune_options(product)
    refresh(product)
    dbsession.flush()
    notify(hook, dbsession, product, "updated")


# --- options and variants ---------------------------------------------------------------


def _declare_options(product, declared):
    names = [option["name"] for option in declared]
    if len(set(names)) != len(names):
        raise ValidationError({"options": ["Each option is named once."]})
    for index, option in enumerate(declared):
        if len(set(option["values"])) != len(option["values"]):
            raise ValidationError({f"options.{index}.values": ["Each value is listed once."]})
    product.options = [
        Option(name=option["name"], position=index, values=[
            OptionValue(value=value, position=i) for i, value in enumerate(option["values"])])
        for index, option in enumerate(declared)
    ]


def _reorder_options(product, declared):
    """PATCH options: the same options and values, in a new order."""
    current = {option.name: {v.value: v for v in option.values} for option in product.options}
    given = {option["name"]: list(option["values"]) for option in declared}
    if set(given) != set(current) or any(set(given[name]) != set(values)
                                         for name, values in current.items()):
        raise ValidationError({"options": [
            "List the product's options and values, each once, in the new order; values "
            "come and go with the variants that use them."]})
    for index, option in enumerate(declared):
        if len(set(option["values"])) != len(option["values"]):
            raise ValidationError({f"options.{index}.values": ["Each value is listed once."]})
    if len(given) != len(declared):
        raise ValidationError({"options": ["Each option is named once."]})
    by_name = {option.name: option for option in product.options}
    for index, option in enumerate(declared):
        by_name[option["name"]].position = index
        for position, value in enumerate(option["values"]):
            current[option["name"]][value].position = position
    product.options.sort(key=lambda o: o.position)
    for option in product.options:
        option.values.sort(key=lambda v: v.position)


def _resolve_options(product, wanted, field, strict_names, new_values=True):
    """The OptionValue objects for ``{name: value}``, adding new values (and, for a
    product's first variant, new options) as needed."""
    by_name = {option.name: option for option in product.options}
    if strict_names or by_name:
        if set(wanted) != set(by_name):
            names = ", ".join(by_name) or "none"
            raise ValidationError({field: [
                f"Give a value for each of the product's options ({names}), and no other."]})
    values = []
    for name, value in wanted.items():
        option = by_name.get(name)
        if option is None:
            option = Option(name=name, position=len(product.options))
            product.options.append(option)
            by_name[name] = option
        found = next((v for v in option.values if v.value == value), None)
        if found is None and not new_values:
            raise ValidationError({field: [f"{value!r} is not one of the values of {name}."]})
        if found is None:
            found = OptionValue(value=value, position=len(option.values))
            option.values.append(found)
        values.append(found)
    return values


def _check_combination(siblings, values, field):
    mine = frozenset(id(v) for v in values)
    for sibling in siblings:
        theirs = frozenset(id(link.value) for link in sibling.option_links)
        if theirs == mine:
            raise Conflict("Another variant of this product has these options.",
                           code="duplicate_variant",
                           fields={field: ["Another variant of this product has these options."]})


def _check_currency(given, currency, field):
    if given.upper() != currency:
        raise ValidationError({field: [f"This shop sells in {currency}."]})


def _check_skus(dbsession, skus, exclude=None):
    """``skus``: {sku: field}. 409 naming the field of the first SKU already in use."""
    if not skus:
        return
    query = sa.select(Variant.sku).where(Variant.sku.in_(list(skus)))
    if exclude is not None:
        query = query.where(Variant.id != exclude)
    taken = set(dbsession.scalars(query))
    for sku, field in skus.items():
        if sku in taken:
            raise Conflict(f"The SKU {sku} is already used by another variant.",
                           code="duplicate_sku", fields={field: ["This SKU is already used."]})


def _add_variants(dbsession, product, items, currency, prefix):
    """Append variants (with their stock rows) to ``product``; returns [(variant, stock)]."""
    fields_of = {}
    for index, item in enumerate(items):
        field = f"{prefix}{index}.sku" if prefix else "sku"
        if item["sku"] in fields_of:
            raise ValidationError({field: ["Each variant needs its own SKU."]})
        fields_of[item["sku"]] = field
    _check_skus(dbsession, fields_of)
    # options listed with the product fix its values; otherwise variants bring them
    fixed = bool(prefix) and bool(product.options)
    siblings = list(product.variants)
    added = []
    for index, item in enumerate(items):
        at = f"{prefix}{index}." if prefix else ""
        if "currency" in item:
            _check_currency(item["currency"], currency, f"{at}currency")
        values = _resolve_options(product, item.get("options", {}), f"{at}options",
                                  strict_names=bool(product.options) or bool(siblings),
                                  new_values=not fixed)
        _check_combination(siblings, values, f"{at}options")
        variant = Variant(
            sku=item["sku"], currency=currency,
            price=to_minor(item["price"], currency, f"{at}price"),
            compare_at_price=None if item.get("compare_at_price") is None else to_minor(
                item["compare_at_price"], currency, f"{at}compare_at_price"),
            weight_grams=item.get("weight_grams"),
            position=item.get("position", len(siblings)),
            option_links=[VariantOption(value=value) for value in values],
            stock=Stock(on_hand=0, reserved=0),
        )
        product.variants.append(variant)
        siblings.append(variant)
        added.append((variant, item.get("stock", 0)))
    return added


def _set_links(variant, values):
    """Point the variant at ``values``, keeping the links that stay (same primary key)."""
    wanted = {id(value): value for value in values}
    for link in list(variant.option_links):
        if id(link.value) not in wanted:
            variant.option_links.remove(link)
        else:
            del wanted[id(link.value)]
    variant.option_links.extend(VariantOption(value=value) for value in wanted.values())


def _initial_stock(dbsession, added, user_id):
    for variant, quantity in added:
        if quantity:
            inventory.adjust(dbsession, variant.id, quantity, "initial stock", user_id=user_id,
                             kind="initial")


def _prune_options(product):
    """Drop option values no variant uses any more, and options left without values."""
    used = {link.value_id for variant in product.variants for link in variant.option_links}
    for option in list(product.options):
        option.values = [v for v in option.values if v.id in used]
        if not option.values:
            product.options.remove(option)
    for index, option in enumerate(product.options):
        option.position = index
