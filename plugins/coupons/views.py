"""The coupons' REST views, all staff (permission ``coupons.manage``): coupons with their
usage counts, campaign codes (generated, listed, exported as CSV) and the uses.

Customers never call these: they send codes in ``coupon_codes`` of the checkout.
"""
from pyramid.response import Response

from core.api import api_view
from core.api.errors import NotFound
from core.api.pagination import page_of

from . import MANAGE, services
from .representation import code_data, coupon_data, redemption_data
from .schemas import (CodePageSchema, CodesQuery, CouponBody, CouponListQuery,
                      CouponPageSchema, CouponPatch, CouponSchema, CsvQuery, GenerateBody,
                      GeneratedSchema, RedemptionPageSchema, RedemptionsQuery)


def _coupon_or_404(request):
    coupon = services.find_coupon(request.dbsession, request.matchdict["id"])
    if coupon is None:
        raise NotFound("There is no such coupon.", code="coupon_not_found")
    return coupon


def _json(request, coupon):
    dbsession = request.dbsession
    code = services.main_code(dbsession, coupon.id)
    return coupon_data(coupon, code.code if code is not None else None,
                       services.usage(dbsession, [coupon.id])[coupon.id])


@api_view(route_name="coupons.admin_coupons", request_method="GET", permission=MANAGE,
          query_schema=CouponListQuery, response_schema=CouponPageSchema,
          summary="Coupons, newest first, with their usage counts")
def list_coupons(request):
    query = request.validated_query
    dbsession = request.dbsession
    coupons, total = services.list_coupons(dbsession, query, query["page"], query["per_page"])
    ids = [c.id for c in coupons]
    codes, counts = services.main_codes(dbsession, ids), services.usage(dbsession, ids)
    return page_of(request, [coupon_data(c, codes.get(c.id), counts[c.id]) for c in coupons],
                   total, query["page"], query["per_page"])


@api_view(route_name="coupons.admin_coupons", request_method="POST", permission=MANAGE,
          body_schema=CouponBody, response_schema=CouponSchema, status=201,
          summary="Create a coupon",
          description="400 when a rule is missing or does not fit the kind (a percentage "
                      "coupon needs percent, a categories coupon category_ids); 409 "
                      "coupon_code_taken.")
def create_coupon(request):
    coupon = services.create_coupon(request.dbsession, request.validated,
                                    services.shop_currency(request))
    return _json(request, coupon)


@api_view(route_name="coupons.admin_coupon", request_method="GET", permission=MANAGE,
          response_schema=CouponSchema, summary="A coupon with its usage counts")
def get_coupon(request):
    return _json(request, _coupon_or_404(request))


@api_view(route_name="coupons.admin_coupon", request_method="PATCH", permission=MANAGE,
          body_schema=CouponPatch, response_schema=CouponSchema, status=200,
          summary="Change a coupon",
          description="Send the fields to change. 422 usage_limit_below_uses when the new "
                      "limit is below the uses so far; 409 coupon_code_taken, code_in_use.")
def update_coupon(request):
    coupon = services.update_coupon(request.dbsession, _coupon_or_404(request),
                                    request.validated)
    return _json(request, coupon)


@api_view(route_name="coupons.admin_deactivate", request_method="POST", permission=MANAGE,
          response_schema=CouponSchema, status=200,
          summary="Deactivate a coupon: its codes stop working at once; its uses stay")
def deactivate_coupon(request):
    return _json(request, services.deactivate(request.dbsession, _coupon_or_404(request)))


@api_view(route_name="coupons.admin_codes", request_method="GET", permission=MANAGE,
          query_schema=CodesQuery, response_schema=CodePageSchema,
          summary="A coupon's codes (typed and generated), oldest first")
def list_codes(request):
    coupon = _coupon_or_404(request)
    query = request.validated_query
    rows, total = services.codes_page(request.dbsession, coupon, query, query["page"],
                                      query["per_page"])
    return page_of(request, [code_data(code, uses) for code, uses in rows], total,
                   query["page"], query["per_page"])


@api_view(route_name="coupons.admin_codes", request_method="POST", permission=MANAGE,
          body_schema=GenerateBody, response_schema=GeneratedSchema, status=201,
          summary="Generate unique codes for a coupon (a campaign), single-use by default",
          description="The answer lists the codes; csv_url exports this batch.")
def generate_codes(request):
    coupon = _coupon_or_404(request)
    body = request.validated
    length = body.get("length") or request.plugins.settings("coupons")["code_length"]
    batch, codes = services.generate_codes(request.dbsession, coupon, body["count"],
                                           prefix=body["prefix"], length=length,
                                           uses_per_code=body["uses_per_code"])
    return {"coupon_id": coupon.id, "batch": batch, "count": len(codes), "codes": codes,
            "csv_url": request.route_url("coupons.admin_codes_csv", id=coupon.id,
                                         _query={"batch": batch})}


@api_view(route_name="coupons.admin_codes_csv", request_method="GET", permission=MANAGE,
          query_schema=CsvQuery, summary="A coupon's codes as CSV (one batch with ?batch=)",
          description="Columns: code, batch, usage_limit, times_used, created_at.")
def export_codes(request):
    coupon = _coupon_or_404(request)
    batch = request.validated_query.get("batch")
    text = services.codes_csv(request.dbsession, coupon, batch)
    name = f"coupon-{coupon.id}" + (f"-{batch}" if batch else "") + ".csv"
    return Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8",
                    content_disposition=f'attachment; filename="{name}"')


@api_view(route_name="coupons.admin_redemptions", request_method="GET", permission=MANAGE,
          query_schema=RedemptionsQuery, response_schema=RedemptionPageSchema,
          summary="The orders that used a coupon, newest first (released: the order failed "
                  "or was cancelled)")
def list_redemptions(request):
    coupon = _coupon_or_404(request)
    query = request.validated_query
    rows, total = services.redemptions_page(request.dbsession, coupon, query["page"],
                                            query["per_page"])
    return page_of(request, [redemption_data(use, number) for use, number in rows], total,
                   query["page"], query["per_page"])
