"""The catalog's REST views. Public GETs are cacheable; writes need ``catalog.manage``."""
from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import NO_PERMISSION_REQUIRED

from core.api import api_view
from core.api.errors import BadRequest, Forbidden, NotFound, Unauthorized
from core.api.pagination import PageQuery, page_of

from . import importer, inventory, services
from .representation import (category_data, category_ref, category_tree, product_json,
                             products_json)
from .schemas import (CategoryBody, CategoryDetailSchema, CategoryPatch, CategoryTreeSchema,
                      ImportQuery, ImportReportSchema, MovementPageSchema, ProductBody,
                      ProductListQuery, ProductPageSchema, ProductPatch, ProductSchema,
                      StockChangeBody, VariantBody, VariantPatch, VariantSchema)

MANAGE = "catalog.manage"
PUBLIC = NO_PERMISSION_REQUIRED


def _settings(request):
    return request.plugins.settings("catalog")


def _currency(request):
    return _settings(request)["default_currency"]


def _is_staff(request):
    return bool(request.has_permission(MANAGE))


def _user_id(request):
    return request.identity.id if request.identity is not None else None


def cacheable(request):
    """ETag and Cache-Control on a successful public GET; 304 when If-None-Match matches.

    The ETag is a hash of the body, so any change (a price, the stock, another
    plugin's field) changes it. A request with credentials gets a private answer:
    what it sees may depend on who asks.
    """
    max_age = _settings(request)["cache_max_age"]
    private = "Authorization" in request.headers

    def callback(request, response):
        if response.status_int != 200:
            return
        response.md5_etag()
        response.conditional_response = True
        response.cache_control = "private, no-cache" if private else \
            f"public, max-age={max_age}"

    request.add_response_callback(callback)


# --- products ------------------------------------------------------------------------------


def _filters(request, query, category_id=None):
    include_inactive = query.get("include_inactive", False)
    if include_inactive and not _is_staff(request):
        if request.identity is None:
            raise Unauthorized(headers={"WWW-Authenticate": 'Bearer realm="emporium"'})
        raise Forbidden("Only staff can list inactive products.")
    currency = _currency(request)
    prices = {key: services.to_minor(query[key], currency, key)
              for key in ("min_price", "max_price") if query.get(key) is not None}
    options = {}
    for name, values in query.get("options", {}).items():
        wanted = [value.strip() for value in values.split(",") if value.strip()]
        if wanted:
            options[name] = wanted
    return services.ProductFilters(
        q=query.get("q"), category_id=category_id,
        category_slug=query.get("category") if category_id is None else None,
        brands=[b for b in query.get("brand", []) if b], in_stock=query.get("in_stock"),
        options=options, include_inactive=include_inactive, **prices)


def _product_page(request, filters):
    query = request.validated_query
    page, per_page = query["page"], query["per_page"]
    dbsession = request.dbsession
    products, total = services.list_products(dbsession, filters, sort=query.get("sort"),
                                             page=page, per_page=per_page)
    result = page_of(request, products_json(request, products), total, page, per_page)
    if query["facets"]:
        result["facets"] = services.facets(dbsession, filters)
    cacheable(request)
    return result


@api_view(route_name="catalog.products", request_method="GET", permission=PUBLIC,
          query_schema=ProductListQuery, response_schema=ProductPageSchema,
          summary="Search, filter and sort the active products")
def list_products(request):
    return _product_page(request, _filters(request, request.validated_query))


def _find_product(request, include_inactive=None, load=True):
    if include_inactive is None:
        include_inactive = _is_staff(request)
    product = services.find_product(request.dbsession, request.matchdict["ref"],
                                    include_inactive=include_inactive, load=load)
    if product is None:
        raise NotFound("There is no such product.", code="product_not_found")
    return product


@api_view(route_name="catalog.product", request_method="GET", permission=PUBLIC,
          response_schema=ProductSchema,
          summary="One product by id or slug, with its variants (staff also see inactive ones)")
def get_product(request):
    product = _find_product(request)
    cacheable(request)
    return product_json(request, product)


@api_view(route_name="catalog.products", request_method="POST", permission=MANAGE,
          body_schema=ProductBody, response_schema=ProductSchema, status=201,
          summary="Create a product with its images, options and variants")
def create_product(request):
    product = services.create_product(request.dbsession, request.validated, _currency(request),
                                      hook=request.plugins.hook, user_id=_user_id(request))
    return product_json(request, _reload(request, product.id))


def _reload(request, product_id):
    request.dbsession.flush()
    request.dbsession.expire_all()
    return services.find_product(request.dbsession, product_id, include_inactive=True)


@api_view(route_name="catalog.product", request_method="PATCH", permission=MANAGE,
          body_schema=ProductPatch(partial=True), response_schema=ProductSchema,
          summary="Change a product; images and options (their order) are replaced as given")
def update_product(request):
    product = _find_product(request, include_inactive=True)
    services.update_product(request.dbsession, product, request.validated,
                            hook=request.plugins.hook)
    return product_json(request, _reload(request, product.id))


@api_view(route_name="catalog.product", request_method="DELETE", permission=MANAGE,
          summary="Delete a product and its variants (409 while orders refer to it)")
def delete_product(request):
    product = _find_product(request, include_inactive=True, load=False)
    services.delete_product(request.dbsession, product, hook=request.plugins.hook)
    return HTTPNoContent()


# --- variants ------------------------------------------------------------------------------


def _variant_json(request, variant_id):
    variant = services.find_variant(request.dbsession, variant_id)
    product = _reload(request, variant.product_id)
    data = product_json(request, product)
    found = next(v for v in data["variants"] if v["id"] == variant_id)
    found["product"] = {"id": product.id, "slug": product.slug, "name": product.name}
    return found


def _find_variant(request):
    parsed = services.parse_ref(request.matchdict["id"])
    variant = services.find_variant(request.dbsession, parsed[1]) \
        if parsed is not None and parsed[0] == "id" else None
    if variant is None:
        raise NotFound("There is no such variant.", code="variant_not_found")
    return variant


@api_view(route_name="catalog.product_variants", request_method="POST", permission=MANAGE,
          body_schema=VariantBody, response_schema=VariantSchema, status=201,
          summary="Add a variant (with its initial stock) to a product")
def create_variant(request):
    product = _find_product(request, include_inactive=True, load=False)
    variant = services.add_variant(request.dbsession, product, request.validated,
                                   _currency(request), hook=request.plugins.hook,
                                   user_id=_user_id(request))
    return _variant_json(request, variant.id)


@api_view(route_name="catalog.variant", request_method="GET", permission=PUBLIC,
          response_schema=VariantSchema, summary="One variant, with its product's id and slug")
def get_variant(request):
    variant = _find_variant(request)
    if not variant.product.is_active and not _is_staff(request):
        raise NotFound("There is no such variant.", code="variant_not_found")
    cacheable(request)
    return _variant_json(request, variant.id)


@api_view(route_name="catalog.variant", request_method="PATCH", permission=MANAGE,
          body_schema=VariantPatch(partial=True), response_schema=VariantSchema,
          summary="Change a variant's SKU, price, options, weight or position")
def update_variant(request):
    variant = _find_variant(request)
    services.update_variant(request.dbsession, variant, request.validated, _currency(request),
                            hook=request.plugins.hook)
    return _variant_json(request, variant.id)


@api_view(route_name="catalog.variant", request_method="DELETE", permission=MANAGE,
          summary="Delete a variant (409 while orders refer to it)")
def delete_variant(request):
    variant = _find_variant(request)
    services.delete_variant(request.dbsession, variant, hook=request.plugins.hook)
    return HTTPNoContent()


# --- stock ---------------------------------------------------------------------------------


@api_view(route_name="catalog.variant_stock", request_method="GET", permission=MANAGE,
          query_schema=PageQuery,
          response_schema=MovementPageSchema,
          summary="A variant's stock and its ledger of movements, newest first")
def get_stock(request):
    variant = _find_variant(request)
    return _stock_page(request, variant)


def _stock_page(request, variant):
    query = getattr(request, "validated_query", None) or {"page": 1, "per_page": 20}
    page, per_page = query["page"], query["per_page"]
    dbsession = request.dbsession
    movements, total = inventory.movements(dbsession, variant.id, page, per_page)
    result = page_of(request, [{
        "id": m.id, "kind": m.kind, "on_hand_change": m.on_hand_change,
        "reserved_change": m.reserved_change, "on_hand_after": m.on_hand_after,
        "reserved_after": m.reserved_after, "reason": m.reason, "reference": m.reference,
        "user_id": m.user_id, "created_at": m.created_at.isoformat()} for m in movements],
        total, page, per_page)
    result["stock"] = {"sku": variant.sku, **inventory.level(dbsession, variant.id).as_dict()}
    return result


@api_view(route_name="catalog.variant_stock", request_method="POST", permission=MANAGE,
          body_schema=StockChangeBody, response_schema=MovementPageSchema,
          summary="Adjust the stock on hand (a change, or a counted number), with a reason")
def change_stock(request):
    variant = _find_variant(request)
    body = request.validated
    if "change" in body:
        inventory.adjust(request.dbsession, variant.id, body["change"], body["reason"],
                         reference=body.get("reference"), user_id=_user_id(request))
    else:
        inventory.set_on_hand(request.dbsession, variant.id, body["on_hand"], body["reason"],
                              reference=body.get("reference"), user_id=_user_id(request))
    return _stock_page(request, variant)


# --- categories ----------------------------------------------------------------------------


def _find_category(request):
    category = services.find_category(request.dbsession, request.matchdict["ref"])
    if category is None:
        raise NotFound("There is no such category.", code="category_not_found")
    return category


@api_view(route_name="catalog.categories", request_method="GET", permission=PUBLIC,
          response_schema=CategoryTreeSchema, summary="The category tree")
def list_categories(request):
    cacheable(request)
    return {"items": category_tree(request, services.all_categories(request.dbsession))}


def _category_detail(request, category):
    categories = services.all_categories(request.dbsession)
    data = category_data(category)
    children = sorted((c for c in categories if c.parent_id == category.id),
                      key=lambda c: (c.position, c.name.lower(), c.id))
    data["children"] = [category_data(c) for c in children]
    data["path"] = [category_ref(c) for c in services.category_path(categories, category)]
    return request.plugins.extend("catalog.category", category, data, request)


@api_view(route_name="catalog.category", request_method="GET", permission=PUBLIC,
          response_schema=CategoryDetailSchema,
          summary="One category by id or slug, with its children and its path from the root")
def get_category(request):
    category = _find_category(request)
    cacheable(request)
    return _category_detail(request, category)


@api_view(route_name="catalog.category_products", request_method="GET", permission=PUBLIC,
          query_schema=ProductListQuery(exclude=("category",)), response_schema=ProductPageSchema,
          summary="The products of a category and of all its sub-categories")
def category_products(request):
    category = _find_category(request)
    return _product_page(request, _filters(request, request.validated_query,
                                           category_id=category.id))


@api_view(route_name="catalog.categories", request_method="POST", permission=MANAGE,
          body_schema=CategoryBody, response_schema=CategoryDetailSchema, status=201,
          summary="Create a category")
def create_category(request):
    category = services.create_category(request.dbsession, request.validated)
    return _category_detail(request, category)


@api_view(route_name="catalog.category", request_method="PATCH", permission=MANAGE,
          body_schema=CategoryPatch(partial=True), response_schema=CategoryDetailSchema,
          summary="Rename, move or reorder a category")
def update_category(request):
    category = services.update_category(request.dbsession, _find_category(request),
                                        request.validated)
    return _category_detail(request, category)


@api_view(route_name="catalog.category", request_method="DELETE", permission=MANAGE,
          summary="Delete an empty category (409 while it has products or sub-categories)")
def delete_category(request):
    services.delete_category(request.dbsession, _find_category(request))
    return HTTPNoContent()


# --- import --------------------------------------------------------------------------------


@api_view(route_name="catalog.import", request_method="POST", permission=MANAGE,
          query_schema=ImportQuery, response_schema=ImportReportSchema,
          summary="Import products from a CSV or JSON body; all or nothing unless partial",
          description="The body is the file itself (Content-Type text/csv or "
                      "application/json). A rejected import answers 422 with the report in "
                      "error.report. Larger files: `emporium catalog import FILE`.")
def import_products(request):
    query = request.validated_query
    fmt = query.get("format")
    if fmt is None:
        content_type = request.content_type or ""
        fmt = "csv" if content_type in ("text/csv", "application/csv") else \
            "json" if content_type == "application/json" else None
    if fmt is None:
        raise BadRequest("Say the format: ?format=csv or json, or the Content-Type.",
                         code="bad_format")
    return importer.import_file(request.dbsession, request.body, fmt, _currency(request),
                                partial=query["partial"], hook=request.plugins.hook,
                                user_id=_user_id(request))
