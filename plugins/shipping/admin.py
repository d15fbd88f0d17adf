"""Shipping's pages in the merchant admin: zones with their methods, carriers, and
shipping an order in parts.

Forms are turned into the bodies the REST API takes and loaded with the same request
schemas, then handed to the same ``services``: a form is refused for exactly the
reasons a JSON body would be. Routes are named ``shipping.admin_*``, so they answer
404 while the plugin is disabled; the menu entries and the dashboard widget come from
``hooks.py``.
"""
import sqlalchemy as sa
from pyramid.httpexceptions import HTTPSeeOther

from core.admin import add_admin_route, admin_view
from core.admin.forms import (attempt, checked, done, found_or_404, input_errors, integer,
                              lines, not_done, refused, text)
from core.plugins import hookimpl
from plugins.orders import MANAGE as ORDERS_MANAGE
from plugins.orders.models import PROCESSING, Order

from . import MANAGE, services
from .models import WEIGHT, ShippingShipment
from .representation import carrier_data, fulfillment_data, method_data, zone_data
from .schemas import CarrierBody, CarrierPatch, MethodBody, ShipmentBody, ZoneBody, patch

TEMPLATES = "plugins.shipping:templates/admin/"
KIND_CHOICES = (("flat", "Flat rate"), ("weight", "By weight, in tiers"),
                ("value", "By order value, in tiers"), ("free", "Free from an order value"))


def includeme(config):
    add_admin_route(config, "shipping.admin_zones", "/shipping/zones")
    add_admin_route(config, "shipping.admin_zones_edit", r"/shipping/zones/{id:\d+}")
    add_admin_route(config, "shipping.admin_zones_delete", r"/shipping/zones/{id:\d+}/delete")
    add_admin_route(config, "shipping.admin_zones_method_new",
                    r"/shipping/zones/{id:\d+}/methods")
    add_admin_route(config, "shipping.admin_zones_method", r"/shipping/methods/{id:\d+}")
    add_admin_route(config, "shipping.admin_zones_method_delete",
                    r"/shipping/methods/{id:\d+}/delete")
    add_admin_route(config, "shipping.admin_carriers", "/shipping/carriers")
    add_admin_route(config, "shipping.admin_carriers_edit", "/shipping/carriers/{code}")
    add_admin_route(config, "shipping.admin_carriers_delete",
                    "/shipping/carriers/{code}/delete")
    add_admin_route(config, "shipping.admin_shipments", "/shipping/orders")
    add_admin_route(config, "shipping.admin_shipments_order", "/shipping/orders/{number}")
    add_admin_route(config, "shipping.admin_shipments_deliver",
                    r"/shipping/orders/{number}/shipments/{shipment_id:\d+}/deliver")
    config.scan(__name__)


# --- menu and dashboard (registered through hooks.py) ---------------------------------


@hookimpl
def admin_menu(request):
    return [
        {"title": "Shipments", "route_name": "shipping.admin_shipments",
         "permission": ORDERS_MANAGE, "match": "shipping.admin_shipments", "order": 55},
        {"title": "Shipping zones", "route_name": "shipping.admin_zones", "permission": MANAGE,
         "match": "shipping.admin_zones", "order": 300},
        {"title": "Carriers", "route_name": "shipping.admin_carriers", "permission": MANAGE,
         "match": "shipping.admin_carriers", "order": 310},
    ]


def partly_shipped(dbsession, limit=None):
    """Paid orders with some units shipped and some not, oldest first."""
    query = (sa.select(Order).where(Order.status == PROCESSING, Order.id.in_(
        sa.select(ShippingShipment.order_id))).order_by(Order.placed_at, Order.id))
    if limit is not None:
        query = query.limit(limit)
    return dbsession.scalars(query).all()


@hookimpl
def admin_dashboard(request):
    orders = partly_shipped(request.dbsession, limit=5)
    return [{
        "title": "Partly shipped orders", "order": 25, "permission": ORDERS_MANAGE,
        "table": {"columns": ["Order", "Placed", "Customer"], "rows": [
            [{"text": order.number, "url": request.route_path(
                "shipping.admin_shipments_order", number=order.number)},
             order.placed_at.strftime("%Y-%m-%d %H:%M"), order.email] for order in orders]},
        "empty": "No order waits for the rest of its items.",
        "link": {"title": "Orders to ship", "url": request.route_path(
            "shipping.admin_shipments")},
    }]


# --- helpers ------------------------------------------------------------------------------


def _zone_or_404(request):
    return found_or_404(services.find_zone(request.dbsession, request.matchdict["id"]))


def _method_or_404(request):
    return found_or_404(services.find_method(request.dbsession, request.matchdict["id"]))


def _carrier_or_404(request):
    return found_or_404(services.find_carrier(request.dbsession, request.matchdict["code"]))


# --- zones --------------------------------------------------------------------------------


def parse_areas(value):
    """``DE``, ``US: Hawaii`` or ``*`` lines as the API's areas."""
    areas = []
    for line in lines(value):
        country, _, region = line.partition(":")
        areas.append({"country": country.strip(), "region": region.strip()})
    return areas


def areas_text(zone):
    return "\n".join(area.country + (f": {area.region}" if area.region else "")
                     for area in zone.areas)


def _zone_body(post):
    body = {"name": text(post, "name"), "areas": parse_areas(post.get("areas", "")),
            "is_active": checked(post, "is_active")}
    if text(post, "position"):
        body["position"] = integer(text(post, "position"))
    return body


def _zone_errors(fields):
    return input_errors(fields, collapse=("areas",))


def _zones_page(request, values=None, errors=None, error=None):
    zones, total = services.list_zones(request.dbsession, 1, 1000)
    return {"zones": [zone_data(zone) for zone in zones], "total": total,
            "values": values or {"is_active": True}, "errors": errors or {}, "error": error}


@admin_view(route_name="shipping.admin_zones", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "zones.jinja2")
def list_zones(request):
    return _zones_page(request)


@admin_view(route_name="shipping.admin_zones", request_method="POST", permission=MANAGE,
            renderer=TEMPLATES + "zones.jinja2")
def create_zone(request):
    zone, refusal = attempt(request, lambda: services.create_zone(
        request.dbsession, ZoneBody().load(_zone_body(request.POST))))
    if refusal is not None:
        values = dict(request.POST.items(), is_active=checked(request.POST, "is_active"))
        return _zones_page(request, values, _zone_errors(refusal.fields),
                           refused(request, refusal))
    return done(request, f"Zone “{zone.name}” created; add its methods.",
                 "shipping.admin_zones_edit", id=zone.id)


def _method_values(method=None):
    if method is None:
        return {"kind": "flat", "is_active": True, "min_days": 2, "max_days": 5}
    data = method_data(method)
    return {**data, "price": data["price"] or "", "free_over": data["free_over"] or "",
            "max_weight_grams": "" if data["max_weight_grams"] is None
            else data["max_weight_grams"],
            "tiers": "\n".join(f"{tier['from']} = {tier['price']}" for tier in data["tiers"])}


def _zone_page(request, zone, values=None, errors=None, error=None, method_values=None,
               method_errors=None, method_error=None):
    return {"zone": zone_data(zone), "kinds": KIND_CHOICES,
            "values": values or {"name": zone.name, "areas": areas_text(zone),
                                 "is_active": zone.is_active, "position": zone.position},
            "errors": errors or {}, "error": error,
            "method_values": method_values or _method_values(),
            "method_errors": method_errors or {}, "method_error": method_error}


@admin_view(route_name="shipping.admin_zones_edit", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "zone.jinja2")
def zone_page(request):
    return _zone_page(request, _zone_or_404(request))


@admin_view(route_name="shipping.admin_zones_edit", request_method="POST", permission=MANAGE,
            renderer=TEMPLATES + "zone.jinja2")
def update_zone(request):
    zone = _zone_or_404(request)
    _, refusal = attempt(request, lambda: services.update_zone(
        request.dbsession, zone, patch(ZoneBody).load(_zone_body(request.POST))))
    if refusal is not None:
        request.dbsession.expire_all()
        values = dict(request.POST.items(), is_active=checked(request.POST, "is_active"))
        return _zone_page(request, _zone_or_404(request), values,
                          _zone_errors(refusal.fields), refused(request, refusal))
    return done(request, f"Zone “{zone.name}” saved.", "shipping.admin_zones_edit",
                 id=zone.id)


@admin_view(route_name="shipping.admin_zones_delete", request_method="POST",
            permission=MANAGE)
def delete_zone(request):
    zone = _zone_or_404(request)
    if not checked(request.POST, "confirm"):
        return not_done(request, "Tick the box to confirm that the zone and its methods are "
                                 "to be deleted.", "shipping.admin_zones_edit", id=zone.id)
    name = zone.name
    services.delete_zone(request.dbsession, zone)
    return done(request, f"Zone “{name}” deleted.", "shipping.admin_zones")


# --- methods ------------------------------------------------------------------------------


def parse_tiers(value, kind):
    """``from = price`` lines (``0 = 4.90``) as the API's tiers; grams are integers."""
    tiers = []
    for line in lines(value):
        start, _, price = line.partition("=")
        start = start.strip()
        tiers.append({"from": integer(start) if kind == WEIGHT else start,
                      "price": price.strip()})
    return tiers


def _method_body(post, new):
    kind = text(post, "kind")
    body = {"name": text(post, "name"), "kind": kind, "is_active": checked(post, "is_active"),
            "price": text(post, "price") or None, "free_over": text(post, "free_over") or None,
            "max_weight_grams": integer(text(post, "max_weight_grams")) if text(
                post, "max_weight_grams") else None,
            "min_days": integer(text(post, "min_days")),
            "max_days": integer(text(post, "max_days")),
            "tiers": parse_tiers(post.get("tiers", ""), kind)}
    if new or text(post, "code"):
        body["code"] = text(post, "code")
    if text(post, "position"):
        body["position"] = integer(text(post, "position"))
    return body


def _method_errors(fields):
    return input_errors(fields, collapse=("tiers",))


@admin_view(route_name="shipping.admin_zones_method_new", request_method="POST",
            permission=MANAGE, renderer=TEMPLATES + "zone.jinja2")
def create_method(request):
    zone = _zone_or_404(request)
    method, refusal = attempt(request, lambda: services.create_method(
        request.dbsession, zone, MethodBody().load(_method_body(request.POST, new=True)),
        services.shop_currency(request)))
    if refusal is not None:
        request.dbsession.expire_all()
        values = dict(request.POST.items(), is_active=checked(request.POST, "is_active"))
        return _zone_page(request, _zone_or_404(request), method_values=values,
                          method_errors=_method_errors(refusal.fields),
                          method_error=refused(request, refusal))
    return done(request, f"Method “{method.name}” added.", "shipping.admin_zones_edit",
                 id=zone.id)


def _method_page(request, method, values=None, errors=None, error=None):
    return {"method": method_data(method), "zone": method.zone, "kinds": KIND_CHOICES,
            "values": values or _method_values(method), "errors": errors or {},
            "error": error}


@admin_view(route_name="shipping.admin_zones_method", request_method="GET",
            permission=MANAGE, renderer=TEMPLATES + "method.jinja2")
def method_page(request):
    return _method_page(request, _method_or_404(request))


@admin_view(route_name="shipping.admin_zones_method", request_method="POST",
            permission=MANAGE, renderer=TEMPLATES + "method.jinja2")
def update_method(request):
    method = _method_or_404(request)
    _, refusal = attempt(request, lambda: services.update_method(
        request.dbsession, method,
        patch(MethodBody).load(_method_body(request.POST, new=False))))
    if refusal is not None:
        request.dbsession.expire_all()
        values = dict(request.POST.items(), is_active=checked(request.POST, "is_active"))
        return _method_page(request, _method_or_404(request), values,
                            _method_errors(refusal.fields), refused(request, refusal))
    return done(request, f"Method “{method.name}” saved.", "shipping.admin_zones_edit",
                 id=method.zone_id)


@admin_view(route_name="shipping.admin_zones_method_delete", request_method="POST",
            permission=MANAGE)
def delete_method(request):
    method = _method_or_404(request)
    zone_id, name = method.zone_id, method.name
    services.delete_method(request.dbsession, method)
    return done(request, f"Method “{name}” deleted.", "shipping.admin_zones_edit", id=zone_id)


# --- carriers -----------------------------------------------------------------------------


def _carriers_page(request, values=None, errors=None, error=None):
    return {"carriers": [carrier_data(c) for c in services.list_carriers(request.dbsession)],
            "values": values or {}, "errors": errors or {}, "error": error}


@admin_view(route_name="shipping.admin_carriers", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "carriers.jinja2")
def list_carriers(request):
    return _carriers_page(request)


def _carrier_body(post, new):
    body = {"name": text(post, "name"), "tracking_url": text(post, "tracking_url")}
    if new:
        body["code"] = text(post, "code")
    return body


@admin_view(route_name="shipping.admin_carriers", request_method="POST", permission=MANAGE,
            renderer=TEMPLATES + "carriers.jinja2")
def create_carrier(request):
    carrier, refusal = attempt(request, lambda: services.create_carrier(
        request.dbsession, CarrierBody().load(_carrier_body(request.POST, new=True))))
    if refusal is not None:
        return _carriers_page(request, dict(request.POST.items()),
                              input_errors(refusal.fields), refused(request, refusal))
    return done(request, f"Carrier “{carrier.name}” added.", "shipping.admin_carriers")


@admin_view(route_name="shipping.admin_carriers_edit", request_method="POST",
            permission=MANAGE, renderer=TEMPLATES + "carriers.jinja2")
def update_carrier(request):
    carrier = _carrier_or_404(request)
    _, refusal = attempt(request, lambda: services.update_carrier(
        request.dbsession, carrier,
        patch(CarrierPatch).load(_carrier_body(request.POST, new=False))))
    if refusal is not None:
        request.dbsession.expire_all()
        request.response.status = refusal.status
        return _carriers_page(request, error=f"{carrier.code}: {refusal.in_words()}")
    return done(request, f"Carrier “{carrier.name}” saved.", "shipping.admin_carriers")


@admin_view(route_name="shipping.admin_carriers_delete", request_method="POST",
            permission=MANAGE)
def delete_carrier(request):
    carrier = _carrier_or_404(request)
    name = carrier.name
    services.delete_carrier(request.dbsession, carrier)
    return done(request, f"Carrier “{name}” deleted.", "shipping.admin_carriers")


# --- shipping orders ----------------------------------------------------------------------


@admin_view(route_name="shipping.admin_shipments", request_method="GET",
            permission=ORDERS_MANAGE, renderer=TEMPLATES + "shipments.jinja2")
def orders_to_ship(request):
    number = text(request.GET, "number")
    if number:
        order = services.orders.find_order(request.dbsession, number, load=False)
        if order is not None:
            return HTTPSeeOther(request.route_url("shipping.admin_shipments_order",
                                                  number=order.number))
        request.response.status = 404
    dbsession = request.dbsession
    partly = partly_shipped(dbsession)
    waiting = dbsession.scalars(
        sa.select(Order).where(Order.status == PROCESSING, Order.id.not_in(
            sa.select(ShippingShipment.order_id))).order_by(Order.placed_at, Order.id)
        .limit(100)).all()
    return {"partly": partly, "waiting": waiting, "number": number,
            "not_found": bool(number)}


def _order_or_404(request, lock=False):
    return found_or_404(services.orders.find_order(request.dbsession,
                                                   request.matchdict["number"], lock=lock))


def _order_page(request, order, values=None, errors=None, error=None):
    fulfillment = fulfillment_data(order, services.shipments_of(request.dbsession, order.id),
                                   staff=True)
    left = {item["item_id"]: item for item in fulfillment["items"]}
    return {"order": order, "fulfillment": fulfillment, "left": left,
            "carriers": services.list_carriers(request.dbsession),
            "can_ship": order.status == PROCESSING and any(
                item["remaining"] for item in fulfillment["items"]),
            "values": values or {f"qty-{line.id}": left[line.id]["remaining"]
                                 for line in order.lines},
            "errors": errors or {}, "error": error}


@admin_view(route_name="shipping.admin_shipments_order", request_method="GET",
            permission=ORDERS_MANAGE, renderer=TEMPLATES + "order.jinja2")
def order_page(request):
    return _order_page(request, _order_or_404(request))


def _shipment_body(post, order):
    items = []
    for line in order.lines:
        value = text(post, f"qty-{line.id}")
        if value and value != "0":
            items.append({"item_id": line.id, "quantity": integer(value)})
    body = {key: text(post, key) for key in ("carrier", "tracking_number", "note")}
    if text(post, "tracking_url"):
        body["tracking_url"] = text(post, "tracking_url")
    body["items"] = items
    return body


@admin_view(route_name="shipping.admin_shipments_order", request_method="POST",
            permission=ORDERS_MANAGE, renderer=TEMPLATES + "order.jinja2")
def ship_order(request):
    order = _order_or_404(request, lock=True)
    body = _shipment_body(request.POST, order)
    if not body["items"]:
        request.response.status = 400
        return _order_page(request, order, dict(request.POST.items()),
                           error="Enter how many units of which items are in the parcel.")
    # the item list as posted, so that messages find their inputs again
    posted = [item["item_id"] for item in body["items"]]

    def ship():
        data = ShipmentBody().load(body)
        return services.ship(request, order, items=data["items"], carrier=data["carrier"],
                             tracking_number=data["tracking_number"],
                             tracking_url=data.get("tracking_url"), note=data["note"],
                             user_id=request.admin.user.id)

    _, refusal = attempt(request, ship)
    if refusal is not None:
        request.dbsession.expire_all()
        order = _order_or_404(request)
        errors = {}
        for key, messages in refusal.fields.items():
            parts = key.split(".")
            if parts[0] == "items" and len(parts) > 1 and parts[1].isdigit() \
                    and int(parts[1]) < len(posted):
                key = f"qty-{posted[int(parts[1])]}"
            errors.setdefault(key, []).extend(messages)
        return _order_page(request, order, dict(request.POST.items()), errors,
                           refused(request, refusal))
    request.dbsession.expire(order)
    shipped = "; the order has shipped" if order.status != PROCESSING else ""
    return done(request, f"Shipment of order {order.number} recorded{shipped}.",
                 "shipping.admin_shipments_order", number=order.number)


@admin_view(route_name="shipping.admin_shipments_deliver", request_method="POST",
            permission=ORDERS_MANAGE)
def deliver_shipment(request):
    order = _order_or_404(request, lock=True)
    _, refusal = attempt(request, lambda: services.deliver(
        request, order, request.matchdict["shipment_id"], user_id=request.admin.user.id,
        note=text(request.POST, "note")))
    if refusal is not None:
        return not_done(request, refusal, "shipping.admin_shipments_order", number=order.number)
    return done(request, "Shipment marked delivered.", "shipping.admin_shipments_order",
                number=order.number)
