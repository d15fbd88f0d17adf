"""The catalog's pages in the merchant admin: products, variants, stock, categories, import.

Forms are turned into the bodies the REST API takes and loaded with the same
request schemas, then handed to the same services (``services``, ``inventory``,
``importer``): a form is refused for exactly the reasons a JSON body would be.
The routes are named ``catalog.admin_*``, so they answer 404 while the catalog is
disabled; the menu entries and dashboard widgets come from ``hooks.py``.
"""
import sqlalchemy as sa

from core.admin import add_admin_route, admin_view
from core.admin.forms import (attempt, checked, done, found_or_404, input_errors, integer,
                              lines, not_done, page_number, pager, pairs, per_page, refused,
                              text)
from core.plugins import hookimpl

from . import importer, inventory, services
from .models import Category, Product, Stock, Variant
from .representation import product_data
from .schemas import (MAX_ID, CategoryBody, CategoryPatch, ProductBody, ProductPatch,
                      StockChangeBody, VariantBody, VariantPatch)

MANAGE = "catalog.manage"
TEMPLATES = "plugins.catalog:templates/admin/"
SORTS = (("newest", "Newest first"), ("name", "Name"), ("price", "Price, lowest first"),
         ("-price", "Price, highest first"))


def includeme(config):
    add_admin_route(config, "catalog.admin_products", "/catalog/products")
    add_admin_route(config, "catalog.admin_products_new", "/catalog/products/new")
    add_admin_route(config, "catalog.admin_products_edit", r"/catalog/products/{id:\d+}")
    add_admin_route(config, "catalog.admin_products_delete",
                    r"/catalog/products/{id:\d+}/delete")
    add_admin_route(config, "catalog.admin_products_variant_new",
                    r"/catalog/products/{id:\d+}/variants")
    add_admin_route(config, "catalog.admin_products_variant", r"/catalog/variants/{id:\d+}")
    add_admin_route(config, "catalog.admin_products_variant_delete",
                    r"/catalog/variants/{id:\d+}/delete")
    add_admin_route(config, "catalog.admin_products_stock", r"/catalog/variants/{id:\d+}/stock")
    add_admin_route(config, "catalog.admin_categories", "/catalog/categories")
    add_admin_route(config, "catalog.admin_categories_edit", r"/catalog/categories/{id:\d+}")
    add_admin_route(config, "catalog.admin_categories_delete",
                    r"/catalog/categories/{id:\d+}/delete")
    add_admin_route(config, "catalog.admin_import", "/catalog/import")
    config.scan(__name__)


# --- menu and dashboard (registered through hooks.py) ---------------------------------


@hookimpl
def admin_menu(request):
    return [
        {"title": "Products", "route_name": "catalog.admin_products", "permission": MANAGE,
         "order": 100},
        {"title": "Categories", "route_name": "catalog.admin_categories", "permission": MANAGE,
         "order": 110},
        {"title": "Import", "route_name": "catalog.admin_import", "permission": MANAGE,
         "order": 120},
    ]


@hookimpl
def admin_dashboard(request):
    dbsession = request.dbsession
    active, inactive = dbsession.execute(sa.select(
        sa.func.count().filter(Product.is_active),
        sa.func.count().filter(sa.not_(Product.is_active)),
    ).select_from(Product)).one()
    categories = dbsession.scalar(sa.select(sa.func.count()).select_from(Category))
    out_of_stock = dbsession.scalar(
        sa.select(sa.func.count()).select_from(Variant)
        .join(Stock, Stock.variant_id == Variant.id)
        .join(Product, Product.id == Variant.product_id)
        .where(Product.is_active, Stock.on_hand <= Stock.reserved))
    products_url = request.route_path("catalog.admin_products")
    threshold = request.plugins.settings("catalog")["low_stock_threshold"]
    rows = [[{"text": row.name,
              "url": request.route_path("catalog.admin_products_edit", id=row.product_id)},
             {"text": row.sku,
              "url": request.route_path("catalog.admin_products_stock", id=row.id)},
             str(row.available)] for row in inventory.low_stock(dbsession, threshold)]
    return [
        {"title": "Catalog", "order": 200, "permission": MANAGE, "figures": [
            {"label": "Active products", "value": str(active), "url": products_url},
            {"label": "Inactive products", "value": str(inactive), "url": None},
            {"label": "Categories", "value": str(categories),
             "url": request.route_path("catalog.admin_categories")},
            {"label": "Variants sold out", "value": str(out_of_stock), "url": None},
        ], "link": {"title": "Add a product",
                    "url": request.route_path("catalog.admin_products_new")}},
        {"title": f"Low stock (at most {threshold} available)", "order": 210,
         "permission": MANAGE,
         "table": {"columns": ["Product", "SKU", "Available"], "rows": rows},
         "empty": "Every variant has more than that."},
    ]


# --- helpers ------------------------------------------------------------------------------


def _currency(request):
    return request.plugins.settings("catalog")["default_currency"]


def _user_id(request):
    return request.admin.user.id


def _product_or_404(request):
    return found_or_404(services.find_product(request.dbsession, request.matchdict["id"],
                                              include_inactive=True))


def _variant_or_404(request):
    parsed = services.parse_ref(request.matchdict["id"])
    return found_or_404(services.find_variant(request.dbsession, parsed[1]) if parsed else None)


def _category_or_404(request):
    return found_or_404(services.find_category(request.dbsession, request.matchdict["id"]))


def category_choices(dbsession, exclude=None):
    """(id, "Parent / Child") for every category, in tree order; without ``exclude``'s subtree."""
    categories = services.all_categories(dbsession)
    children = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    choices = []

    def walk(parent_id, trail):
        for category in sorted(children.get(parent_id, ()),
                               key=lambda c: (c.position, c.name.lower(), c.id)):
            if exclude is not None and category.id == exclude.id:
                continue
            choices.append((category.id, " / ".join(trail + [category.name])))
            walk(category.id, trail + [category.name])

    walk(None, [])
    return choices


# --- products -----------------------------------------------------------------------------


def _product_body(post):
    """The JSON body the REST API would get for this product form."""
    body = {"name": text(post, "name"), "description": post.get("description", "")
            .replace("\r\n", "\n"), "brand": text(post, "brand") or None,
            "is_active": checked(post, "is_active")}
    if text(post, "slug"):  # empty: made from the name (new), kept (edit)
        body["slug"] = text(post, "slug")
    category = text(post, "category_id")
    body["category_id"] = integer(category) if category else None
    images = []
    for line in lines(post.get("images", "")):
        url, _, alt = line.partition(" | ")
        images.append({"url": url.strip(), **({"alt": alt.strip()} if alt.strip() else {})})
    body["images"] = images
    return body


def _product_values(product):
    return {"name": product.name, "slug": product.slug, "description": product.description,
            "brand": product.brand or "", "category_id": product.category_id or "",
            "is_active": product.is_active,
            "images": "\n".join(image.url + (f" | {image.alt}" if image.alt else "")
                                for image in product.images)}


@admin_view(route_name="catalog.admin_products", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "products.jinja2")
def list_products(request):
    q = text(request.GET, "q")[:200]
    category_id = integer(text(request.GET, "category"))
    if not isinstance(category_id, int) or not 0 < category_id <= MAX_ID:
        category_id = None
    stock = request.GET.get("stock", "")
    sort = request.GET.get("sort", "newest")
    sort = sort if sort in dict(SORTS) else "newest"
    filters = services.ProductFilters(
        q=q or None, include_inactive=True,
        category_id=category_id,
        in_stock={"in": True, "out": False}.get(stock))
    page_no, size = page_number(request), per_page(request)
    products, total = services.list_products(request.dbsession, filters, sort=sort,
                                             page=page_no, per_page=size)
    return {"products": [product_data(p) for p in products], "page": pager(request, total),
            "q": q, "category": filters.category_id, "stock": stock, "sort": sort,
            "sorts": SORTS, "categories": category_choices(request.dbsession)}


def _new_form(request, values, errors=None, error=None):
    return {"values": values, "errors": errors or {}, "error": error,
            "categories": category_choices(request.dbsession)}


@admin_view(route_name="catalog.admin_products_new", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "product_new.jinja2")
def new_product_form(request):
    return _new_form(request, {"is_active": True, "stock": "0"})


@admin_view(route_name="catalog.admin_products_new", request_method="POST", permission=MANAGE,
            renderer=TEMPLATES + "product_new.jinja2")
def create_product(request):
    post = request.POST
    body = _product_body(post)
    if text(post, "sku") or text(post, "price"):
        variant = {"sku": text(post, "sku"), "price": text(post, "price")}
        if text(post, "stock"):
            variant["stock"] = integer(text(post, "stock"))
        body["variants"] = [variant]

    def create():
        return services.create_product(request.dbsession, ProductBody().load(body),
                                       _currency(request), hook=request.plugins.hook,
                                       user_id=_user_id(request))

    product, refusal = attempt(request, create)
    if refusal is not None:
        values = dict(post.items())
        values["is_active"] = checked(post, "is_active")
        return _new_form(request, values,
                         input_errors(refusal.fields, strip=("variants.0.",),
                                      collapse=("images",)), refused(request, refusal))
    return done(request, f"Product “{product.name}” created.", "catalog.admin_products_edit",
                 id=product.id)


def _edit_page(request, product, values=None, errors=None, error=None, variant_values=None,
               variant_errors=None):
    data = product_data(product)
    for shown, variant in zip(data["variants"], product.variants):
        shown["on_hand"] = variant.stock.on_hand if variant.stock else 0
        shown["reserved"] = variant.stock.reserved if variant.stock else 0
    return {"product": data, "values": values or _product_values(product),
            "errors": errors or {}, "error": error,
            "categories": category_choices(request.dbsession),
            "variant_values": variant_values or {"stock": "0"},
            "variant_errors": variant_errors or {}}


@admin_view(route_name="catalog.admin_products_edit", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "product_edit.jinja2")
def edit_product_form(request):
    return _edit_page(request, _product_or_404(request))


@admin_view(route_name="catalog.admin_products_edit", request_method="POST", permission=MANAGE,
            renderer=TEMPLATES + "product_edit.jinja2")
def update_product(request):
    product = _product_or_404(request)
    body = _product_body(request.POST)
    _, refusal = attempt(request, lambda: services.update_product(
        request.dbsession, product, ProductPatch(partial=True).load(body),
        hook=request.plugins.hook))
    if refusal is not None:
        values = dict(request.POST.items())
        values["is_active"] = checked(request.POST, "is_active")
        request.dbsession.expire_all()
        return _edit_page(request, _product_or_404(request), values,
                          input_errors(refusal.fields, collapse=("images",)),
                          refused(request, refusal))
    return done(request, f"Product “{product.name}” saved.", "catalog.admin_products_edit",
                 id=product.id)


@admin_view(route_name="catalog.admin_products_delete", request_method="POST",
            permission=MANAGE)
def delete_product(request):
    product = _product_or_404(request)
    if not checked(request.POST, "confirm"):
        return not_done(request, "Tick the box to confirm that the product is to be deleted.",
                        "catalog.admin_products_edit", id=product.id)
    name = product.name
    _, refusal = attempt(request, lambda: services.delete_product(
        request.dbsession, product, hook=request.plugins.hook))
    if refusal is not None:
        return not_done(request, refusal, "catalog.admin_products_edit", id=product.id)
    return done(request, f"Product “{name}” deleted.", "catalog.admin_products")


# --- variants -----------------------------------------------------------------------------


def _variant_body(post, new):
    body = {"sku": text(post, "sku"), "price": text(post, "price"),
            "compare_at_price": text(post, "compare_at_price") or None}
    weight = text(post, "weight_grams")
    body["weight_grams"] = integer(weight) if weight else None
    if text(post, "position"):
        body["position"] = integer(text(post, "position"))
    options, bad = pairs(post.get("options", ""))
    body["options"] = options
    if new and text(post, "stock"):
        body["stock"] = integer(text(post, "stock"))
    errors = {"options": [f"Write each option as Name=Value, not “{line}”." for line in bad]} \
        if bad else {}
    return body, errors


def _options_text(options):
    return "\n".join(f"{name}={value}" for name, value in options.items())


@admin_view(route_name="catalog.admin_products_variant_new", request_method="POST",
            permission=MANAGE, renderer=TEMPLATES + "product_edit.jinja2")
def create_variant(request):
    product = _product_or_404(request)
    body, errors = _variant_body(request.POST, new=True)
    refusal = None
    if not errors:
        variant, refusal = attempt(request, lambda: services.add_variant(
            request.dbsession, product, VariantBody().load(body), _currency(request),
            hook=request.plugins.hook, user_id=_user_id(request)))
        errors = input_errors(refusal.fields) if refusal else {}
    if errors or refusal is not None:
        request.response.status = 400
        message = refused(request, refusal) if refusal else "Some fields are not valid."
        request.dbsession.expire_all()
        return _edit_page(request, _product_or_404(request),
                          error=f"The variant was not added. {message}",
                          variant_values=dict(request.POST.items()), variant_errors=errors)
    return done(request, f"Variant {variant.sku} added.", "catalog.admin_products_edit",
                 id=product.id)


def _variant_page(request, variant, values=None, errors=None, error=None):
    product = variant.product
    data = product_data(services.find_product(request.dbsession, product.id,
                                              include_inactive=True))
    shown = next(v for v in data["variants"] if v["id"] == variant.id)
    return {"product": data, "variant": shown, "errors": errors or {}, "error": error,
            "values": values or {
                "sku": shown["sku"], "price": shown["price"],
                "compare_at_price": shown["compare_at_price"] or "",
                "weight_grams": "" if shown["weight_grams"] is None else shown["weight_grams"],
                "position": variant.position, "options": _options_text(shown["options"])}}


@admin_view(route_name="catalog.admin_products_variant", request_method="GET",
            permission=MANAGE, renderer=TEMPLATES + "variant.jinja2")
def edit_variant_form(request):
    return _variant_page(request, _variant_or_404(request))


@admin_view(route_name="catalog.admin_products_variant", request_method="POST",
            permission=MANAGE, renderer=TEMPLATES + "variant.jinja2")
def update_variant(request):
    variant = _variant_or_404(request)
    body, errors = _variant_body(request.POST, new=False)
    refusal = None
    if not errors:
        _, refusal = attempt(request, lambda: services.update_variant(
            request.dbsession, variant, VariantPatch(partial=True).load(body),
            _currency(request), hook=request.plugins.hook))
        errors = input_errors(refusal.fields) if refusal else {}
    if errors or refusal is not None:
        request.response.status = 400
        message = refused(request, refusal) if refusal else "Some fields are not valid."
        request.dbsession.expire_all()
        return _variant_page(request, _variant_or_404(request), dict(request.POST.items()),
                             errors, message)
    return done(request, f"Variant {variant.sku} saved.", "catalog.admin_products_edit",
                 id=variant.product_id)


@admin_view(route_name="catalog.admin_products_variant_delete", request_method="POST",
            permission=MANAGE)
def delete_variant(request):
    variant = _variant_or_404(request)
    product_id, sku = variant.product_id, variant.sku
    if not checked(request.POST, "confirm"):
        return not_done(request, "Tick the box to confirm that the variant is to be deleted.",
                        "catalog.admin_products_variant", id=variant.id)
    _, refusal = attempt(request, lambda: services.delete_variant(
        request.dbsession, variant, hook=request.plugins.hook))
    if refusal is not None:
        return not_done(request, refusal, "catalog.admin_products_variant", id=variant.id)
    return done(request, f"Variant {sku} deleted.", "catalog.admin_products_edit",
                 id=product_id)


# --- stock --------------------------------------------------------------------------------


def _stock_page(request, variant, values=None, errors=None, error=None):
    dbsession = request.dbsession
    movements, total = inventory.movements(dbsession, variant.id, page_number(request),
                                           per_page(request))
    product = variant.product
    return {"variant": variant, "product": product, "level": inventory.level(dbsession,
                                                                           variant.id),
            "movements": movements, "page": pager(request, total),
            "values": values or {"mode": "change"}, "errors": errors or {}, "error": error}


@admin_view(route_name="catalog.admin_products_stock", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "stock.jinja2")
def stock_page(request):
    return _stock_page(request, _variant_or_404(request))


@admin_view(route_name="catalog.admin_products_stock", request_method="POST",
            permission=MANAGE, renderer=TEMPLATES + "stock.jinja2")
def change_stock(request):
    variant = _variant_or_404(request)
    post = request.POST
    mode = "count" if post.get("mode") == "count" else "change"
    body = {"reason": text(post, "reason"), "reference": text(post, "reference") or None}
    body["on_hand" if mode == "count" else "change"] = integer(text(post, "quantity"))

    def change():
        data = StockChangeBody().load(body)
        if "change" in data:
            return inventory.adjust(request.dbsession, variant.id, data["change"],
                                    data["reason"], reference=data.get("reference"),
                                    user_id=_user_id(request))
        return inventory.set_on_hand(request.dbsession, variant.id, data["on_hand"],
                                     data["reason"], reference=data.get("reference"),
                                     user_id=_user_id(request))

    level, refusal = attempt(request, change)
    if refusal is not None:
        errors = input_errors(refusal.fields)
        for name in ("change", "on_hand"):
            if name in errors:
                errors["quantity"] = errors.pop(name)
        return _stock_page(request, variant, dict(post.items(), mode=mode), errors,
                           refused(request, refusal))
    return done(request, f"Stock of {variant.sku} is now {level.on_hand} on hand, "
                          f"{level.available} available.", "catalog.admin_products_stock",
                 id=variant.id)


# --- categories ---------------------------------------------------------------------------


def _category_body(post):
    body = {"name": text(post, "name"), "description": post.get("description", "")
            .replace("\r\n", "\n")}
    if text(post, "slug"):
        body["slug"] = text(post, "slug")
    parent = text(post, "parent_id")
    body["parent_id"] = integer(parent) if parent else None
    if text(post, "position"):
        body["position"] = integer(text(post, "position"))
    return body


def _categories_page(request, values=None, errors=None, error=None):
    dbsession = request.dbsession
    q = text(request.GET, "q").lower()
    counts = dict(dbsession.execute(
        sa.select(Product.category_id, sa.func.count()).where(Product.category_id.is_not(None))
        .group_by(Product.category_id)).all())
    rows = [{"id": category_id, "path": path, "products": counts.get(category_id, 0)}
            for category_id, path in category_choices(dbsession)
            if not q or q in path.lower()]
    page = pager(request, len(rows))
    return {"rows": rows[page.offset:page.offset + page.per_page], "page": page,
            "q": text(request.GET, "q"), "choices": category_choices(dbsession),
            "values": values or {}, "errors": errors or {}, "error": error}


@admin_view(route_name="catalog.admin_categories", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "categories.jinja2")
def list_categories(request):
    return _categories_page(request)


@admin_view(route_name="catalog.admin_categories", request_method="POST", permission=MANAGE,
            renderer=TEMPLATES + "categories.jinja2")
def create_category(request):
    category, refusal = attempt(request, lambda: services.create_category(
        request.dbsession, CategoryBody().load(_category_body(request.POST))))
    if refusal is not None:
        return _categories_page(request, dict(request.POST.items()),
                                input_errors(refusal.fields), refused(request, refusal))
    return done(request, f"Category “{category.name}” created.", "catalog.admin_categories")


def _category_page(request, category, values=None, errors=None, error=None):
    products = request.dbsession.scalar(sa.select(sa.func.count()).where(
        Product.category_id == category.id))
    return {"category": category, "products": products,
            "choices": category_choices(request.dbsession, exclude=category),
            "values": values or {"name": category.name, "slug": category.slug,
                                 "parent_id": category.parent_id or "",
                                 "position": category.position,
                                 "description": category.description},
            "errors": errors or {}, "error": error}


@admin_view(route_name="catalog.admin_categories_edit", request_method="GET",
            permission=MANAGE, renderer=TEMPLATES + "category.jinja2")
def edit_category_form(request):
    return _category_page(request, _category_or_404(request))


@admin_view(route_name="catalog.admin_categories_edit", request_method="POST",
            permission=MANAGE, renderer=TEMPLATES + "category.jinja2")
def update_category(request):
    category = _category_or_404(request)
    _, refusal = attempt(request, lambda: services.update_category(
        request.dbsession, category,
        CategoryPatch(partial=True).load(_category_body(request.POST))))
    if refusal is not None:
        request.dbsession.expire_all()
        return _category_page(request, _category_or_404(request), dict(request.POST.items()),
                              input_errors(refusal.fields), refused(request, refusal))
    return done(request, f"Category “{category.name}” saved.", "catalog.admin_categories")


@admin_view(route_name="catalog.admin_categories_delete", request_method="POST",
            permission=MANAGE)
def delete_category(request):
    category = _category_or_404(request)
    name = category.name
    _, refusal = attempt(request, lambda: services.delete_category(request.dbsession,
                                                                   category))
    if refusal is not None:
        return not_done(request, refusal, "catalog.admin_categories_edit", id=category.id)
    return done(request, f"Category “{name}” deleted.", "catalog.admin_categories")


# --- import -------------------------------------------------------------------------------


def _format_of(post, upload):
    chosen = post.get("format", "")
    if chosen in importer.FORMATS:
        return chosen
    filename = (getattr(upload, "filename", "") or "").lower()
    return next((fmt for fmt in importer.FORMATS if filename.endswith("." + fmt)), None)


@admin_view(route_name="catalog.admin_import", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "import.jinja2")
def import_form(request):
    return {"report": None, "error": None, "partial": False}


@admin_view(route_name="catalog.admin_import", request_method="POST", permission=MANAGE,
            renderer=TEMPLATES + "import.jinja2")
def import_products(request):
    post = request.POST
    upload = post.get("file")
    partial = checked(post, "partial")
    if not hasattr(upload, "file"):
        request.response.status = 400
        return {"report": None, "error": "Choose a CSV or JSON file to import.",
                "partial": partial}
    fmt = _format_of(post, upload)
    if fmt is None:
        request.response.status = 400
        return {"report": None, "partial": partial,
                "error": "Say whether the file is CSV or JSON (or name it .csv or .json)."}
    content = upload.file.read()
    report, refusal = attempt(request, lambda: importer.import_file(
        request.dbsession, content, fmt, _currency(request), partial=partial,
        hook=request.plugins.hook, user_id=_user_id(request)))
    if refusal is not None:
        return {"report": getattr(refusal.error, "report", None),
                "error": refused(request, refusal), "partial": partial}
    counts = report["counts"]
    request.admin.flash(f"Import done: {counts['created']} created, {counts['updated']} "
                        f"updated, {counts['rejected']} rejected.",
                        "success" if not counts["rejected"] else "info")
    return {"report": report, "error": None, "partial": partial}
