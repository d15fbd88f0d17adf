"""The coupons' pages in the merchant admin: the list with usage counts, a coupon's form,
deactivation, generating campaign codes and downloading them as CSV.

Forms are turned into the bodies the REST API takes, loaded with the same request
schemas and handed to the same ``services``: a form is refused for exactly the reasons
a JSON body would be. Routes are named ``coupons.admin_page_*`` (the JSON routes use
``coupons.admin_*``); the menu entry and the dashboard widget come through
``hooks.py``.
"""
import datetime as dt

import sqlalchemy as sa
from marshmallow import ValidationError
from pyramid.response import Response

from core.admin import add_admin_route, admin_view
from core.admin.forms import (attempt, checked, done, found_or_404, input_errors, integer,
                              load_filters, not_done, pager, refused, text)
from core.db import utcnow
from core.plugins import hookimpl
from plugins.catalog.admin import category_choices

from . import MANAGE, services
from .models import KINDS, SCOPES, Code, Coupon, Redemption
from .representation import coupon_data, redemption_data
from .schemas import CouponBody, CouponListQuery, CouponPatch, GenerateBody

TEMPLATES = "plugins.coupons:templates/admin/"
KIND_NAMES = {"percentage": "Percentage off", "fixed_amount": "Fixed amount off",
              "free_shipping": "Free shipping"}
SCOPE_NAMES = {"all": "Every product", "categories": "Some categories",
               "products": "Some products"}


def includeme(config):
    add_admin_route(config, "coupons.admin_page_list", "/coupons")
    add_admin_route(config, "coupons.admin_page_new", "/coupons/new")
    add_admin_route(config, "coupons.admin_page_coupon", r"/coupons/{id:\d+}")
    add_admin_route(config, "coupons.admin_page_deactivate", r"/coupons/{id:\d+}/deactivate")
    add_admin_route(config, "coupons.admin_page_generate", r"/coupons/{id:\d+}/generate")
    add_admin_route(config, "coupons.admin_page_csv", r"/coupons/{id:\d+}/codes.csv")
    config.scan(__name__)


# --- menu and dashboard (registered through hooks.py) ---------------------------------


@hookimpl
def admin_menu(request):
    return [{"title": "Coupons", "route_name": "coupons.admin_page_list", "permission": MANAGE,
             "match": "coupons.admin_page", "order": 60}]


@hookimpl
def admin_dashboard(request):
    dbsession = request.dbsession
    month = utcnow().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    active = dbsession.scalar(sa.select(sa.func.count()).select_from(Coupon)
                              .where(Coupon.is_active.is_(True)))
    uses = dbsession.scalar(sa.select(sa.func.count()).select_from(Redemption).where(
        Redemption.created_at >= month, Redemption.released_at.is_(None)))
    listed = request.route_path("coupons.admin_page_list")
    return [{"title": "Coupons", "order": 60, "permission": MANAGE, "figures": [
        {"label": "Active coupons", "value": str(active), "url": listed},
        {"label": "Used this month (UTC)", "value": str(uses), "url": None},
    ]}]


# --- forms ---------------------------------------------------------------------------------


def _moment(value, field):
    """A datetime-local input (UTC) as the ISO string the schema takes; None if empty."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError({field: ["Enter a date and time as YYYY-MM-DD HH:MM."]}) \
            from None
    return moment.replace(tzinfo=dt.timezone.utc).isoformat()


def _ids(value, field):
    found = []
    for part in value.replace(",", " ").split():
        number = integer(part)
        if not isinstance(number, int):
            raise ValidationError({field: [f"{part} is not a product id."]})
        found.append(number)
    return found


def _body(post):
    """The JSON body the REST API would get for this form (every field: a PATCH too)."""
    body = {"code": text(post, "code") or None, "name": text(post, "name"),
            "kind": text(post, "kind"), "applies_to": text(post, "applies_to") or "all",
            "combinable": checked(post, "combinable"), "is_active": checked(post, "is_active"),
            "starts_at": _moment(text(post, "starts_at"), "starts_at"),
            "ends_at": _moment(text(post, "ends_at"), "ends_at"),
            "category_ids": [integer(v) for v in post.getall("category_ids") if v],
            "product_ids": _ids(text(post, "product_ids"), "product_ids")}
    for key in ("percent", "amount", "min_subtotal"):
        body[key] = text(post, key) or None
    for key in ("usage_limit", "per_customer_limit"):
        body[key] = integer(text(post, key)) if text(post, key) else None
    return body


def _form(request, coupon=None, values=None, errors=None, error=None):
    choices = {"kinds": [(k, KIND_NAMES[k]) for k in KINDS],
               "scopes": [(s, SCOPE_NAMES[s]) for s in SCOPES],
               "categories": category_choices(request.dbsession)}
    page = {"coupon": None, "values": values, "errors": errors or {}, "error": error,
            "choices": choices, "currency": services.shop_currency(request)}
    if coupon is not None:
        dbsession = request.dbsession
        code = services.main_code(dbsession, coupon.id)
        data = coupon_data(coupon, code.code if code else None,
                           services.usage(dbsession, [coupon.id])[coupon.id])
        uses, _ = services.redemptions_page(dbsession, coupon, 1, 10)
        batches = dbsession.execute(
            sa.select(Code.batch, sa.func.count(), sa.func.min(
                Code.created_at))
            .where(Code.coupon_id == coupon.id, Code.batch.is_not(None))
            .group_by(Code.batch).order_by(sa.func.min(Code.created_at))
        ).all()
        page.update(coupon=data, uses=[redemption_data(u, n) for u, n in uses],
                    batches=[{"batch": b, "count": n, "at": at.strftime("%Y-%m-%d %H:%M")}
                             for b, n, at in batches],
                    code_length=request.plugins.settings("coupons")["code_length"])
        if values is None:
            page["values"] = dict(data, product_ids=" ".join(map(str, data["product_ids"])),
                                  starts_at=_local(coupon.starts_at),
                                  ends_at=_local(coupon.ends_at))
    elif values is None:
        page["values"] = {"kind": "percentage", "applies_to": "all", "is_active": True,
                          "category_ids": [], "product_ids": ""}
    return page


def _local(moment):
    return moment.strftime("%Y-%m-%dT%H:%M") if moment is not None else ""


def _posted(post):
    values = dict(post.items())
    values["category_ids"] = [integer(v) for v in post.getall("category_ids") if v]
    values["is_active"] = checked(post, "is_active")
    values["combinable"] = checked(post, "combinable")
    return values


def _coupon_or_404(request, lock=False):
    return found_or_404(services.find_coupon(request.dbsession, request.matchdict["id"],
                                             lock=lock))


# --- pages ----------------------------------------------------------------------------------


@admin_view(route_name="coupons.admin_page_list", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "coupons.jinja2")
def list_coupons(request):
    params = request.GET
    shown = {"q": text(params, "q"), "active": text(params, "active")}
    query = {"page": params.get("page", "1"), "per_page": params.get("per_page", "20")}
    if shown["q"]:
        query["q"] = shown["q"]
    if shown["active"] in ("true", "false"):
        query["active"] = shown["active"]
    query, errors = load_filters(request, lambda: CouponListQuery().load(query))
    if errors:
        return {"coupons": [], "page": None, "filters": shown, "errors": errors,
                "kinds": KIND_NAMES}
    dbsession = request.dbsession
    coupons, total = services.list_coupons(dbsession, query, query["page"], query["per_page"])
    ids = [c.id for c in coupons]
    codes, counts = services.main_codes(dbsession, ids), services.usage(dbsession, ids)
    return {"coupons": [coupon_data(c, codes.get(c.id), counts[c.id]) for c in coupons],
            "page": pager(request, total, query["per_page"]), "filters": shown, "errors": {},
            "kinds": KIND_NAMES}


@admin_view(route_name="coupons.admin_page_new", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "coupon.jinja2")
def new_coupon_form(request):
    return _form(request)


@admin_view(route_name="coupons.admin_page_new", request_method="POST", permission=MANAGE,
            renderer=TEMPLATES + "coupon.jinja2")
def create_coupon(request):
    coupon, refusal = attempt(request, lambda: services.create_coupon(
        request.dbsession, CouponBody().load(_body(request.POST)),
        services.shop_currency(request)))
    if refusal is not None:
        return _form(request, values=_posted(request.POST),
                     errors=input_errors(refusal.fields), error=refused(request, refusal))
    return done(request, "Coupon created.", "coupons.admin_page_coupon", id=coupon.id)


@admin_view(route_name="coupons.admin_page_coupon", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "coupon.jinja2")
def coupon_page(request):
    return _form(request, _coupon_or_404(request))


@admin_view(route_name="coupons.admin_page_coupon", request_method="POST", permission=MANAGE,
            renderer=TEMPLATES + "coupon.jinja2")
def update_coupon(request):
    coupon = _coupon_or_404(request)
    _, refusal = attempt(request, lambda: services.update_coupon(
        request.dbsession, coupon, CouponPatch().load(_body(request.POST))))
    if refusal is not None:
        request.dbsession.expire_all()
        return _form(request, _coupon_or_404(request), values=_posted(request.POST),
                     errors=input_errors(refusal.fields), error=refused(request, refusal))
    return done(request, "Coupon saved.", "coupons.admin_page_coupon", id=coupon.id)


@admin_view(route_name="coupons.admin_page_deactivate", request_method="POST",
            permission=MANAGE)
def deactivate_coupon(request):
    coupon = services.deactivate(request.dbsession, _coupon_or_404(request))
    return done(request, "Coupon deactivated: its codes no longer work.",
                "coupons.admin_page_coupon", id=coupon.id)


@admin_view(route_name="coupons.admin_page_generate", request_method="POST",
            permission=MANAGE)
def generate_codes(request):
    coupon = _coupon_or_404(request)
    post = request.POST

    def generate():
        body = {"count": integer(text(post, "count")), "prefix": text(post, "prefix"),
                "uses_per_code": integer(text(post, "uses_per_code") or "1")}
        if text(post, "length"):
            body["length"] = integer(text(post, "length"))
        body = GenerateBody().load(body)
        length = body.get("length") or request.plugins.settings("coupons")["code_length"]
        return services.generate_codes(request.dbsession, coupon, body["count"],
                                       prefix=body["prefix"], length=length,
                                       uses_per_code=body["uses_per_code"])

    result, refusal = attempt(request, generate)
    if refusal is not None:
        return not_done(request, f"No codes generated: {refusal.in_words()}",
                        "coupons.admin_page_coupon", id=coupon.id)
    batch, codes = result
    return done(request, f"{len(codes)} codes generated (batch {batch}); download them below.",
                "coupons.admin_page_coupon", id=coupon.id)


@admin_view(route_name="coupons.admin_page_csv", request_method="GET", permission=MANAGE)
def export_codes(request):
    coupon = _coupon_or_404(request)
    batch = text(request.GET, "batch")[:32] or None
    name = f"coupon-{coupon.id}" + (f"-{batch}" if batch else "") + ".csv"
    return Response(body=services.codes_csv(request.dbsession, coupon, batch).encode("utf-8"),
                    content_type="text/csv", charset="utf-8",
                    content_disposition=f'attachment; filename="{name}"')

