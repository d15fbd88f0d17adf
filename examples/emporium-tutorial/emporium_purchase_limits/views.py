"""Staff manage the limits under /api/v1/purchase-limits; customers see a product's
limit in the product itself (hooks.serialize)."""
from pyramid.httpexceptions import HTTPNoContent

from core.api import NotFound, api_view
from core.api.pagination import page_of, paginate_query
from plugins.catalog import services as catalog

from . import MANAGE, services
from .schemas import Limit, LimitBody, LimitListQuery


def _product(request):
    # by id or slug, as the catalog's own routes; inactive products can have limits too
    product = catalog.find_product(request.dbsession, request.matchdict["product"],
                                   include_inactive=True, load=False)
    if product is None:
        raise NotFound("There is no product with this id or slug.", code="product_not_found")
    return product


def _as_json(limit, product_name):
    return Limit().dump({"product_id": limit.product_id, "product_name": product_name,
                         "max_quantity": limit.max_quantity, "updated_at": limit.updated_at})


@api_view(route_name="purchase_limits.list", request_method="GET", permission=MANAGE,
          query_schema=LimitListQuery, summary="Every product with a limit, by name (staff)")
def list_limits(request):
    query = request.validated_query
    limits, total = paginate_query(request.dbsession, services.list_query(), query["page"],
                                   query["per_page"])
    names = services.product_names(request.dbsession, [limit.product_id for limit in limits])
    return page_of(request, [_as_json(limit, names[limit.product_id]) for limit in limits],
                   total, query["page"], query["per_page"])


@api_view(route_name="purchase_limits.limit", request_method="PUT", permission=MANAGE,
          body_schema=LimitBody, summary="Set a product's limit (staff)")
def set_limit(request):
    product = _product(request)
    limit = services.set_limit(request.dbsession, product, request.validated["max_quantity"])
    return _as_json(limit, product.name)


@api_view(route_name="purchase_limits.limit", request_method="DELETE", permission=MANAGE,
          summary="Remove a product's limit (staff)")
def remove_limit(request):
    if not services.remove_limit(request.dbsession, _product(request)):
        raise NotFound("This product has no limit.", code="purchase_limit_not_found")
    return HTTPNoContent()
