"""Shipping's logic, callable without HTTP: which zone serves an address and what its
methods cost, the staff's zones, methods and carriers, and an order's shipments.

Functions that change an order's shipments take the order locked
(``plugins.orders.services.find_order(..., lock=True)``): two members of staff shipping
the same order run one after the other, so no unit ships twice. Status changes go
through the orders plugin's services (``ship``, ``deliver``), never by writing the
order. Functions never commit; they raise ``core.api.errors`` (or marshmallow's
``ValidationError``, a 400) that leave the transaction to be rolled back.
"""
import logging
import urllib.parse

import sqlalchemy as sa
from marshmallow import ValidationError, validate
from sqlalchemy.orm import contains_eager, selectinload

from core.api.errors import Conflict, NotFound, Unprocessable
from core.db import utcnow
from core.money import Money, MoneyAmount
from core.notifications import notify
from plugins.cart import services as carts
from plugins.orders import services as orders
from plugins.orders.models import (CANCELLED, DELIVERED, PAYMENT_PENDING, PROCESSING,
                                   SHIPPED)

from . import rates
from .models import (ANYWHERE, FLAT, FREE, VALUE, WEIGHT, ShippingArea, ShippingCarrier,
                     ShippingMethod, ShippingRateTier, ShippingShipment,
                     ShippingShipmentItem, ShippingZone)
from .schemas import MAX_AMOUNT, MAX_GRAMS

log = logging.getLogger(__name__)

ZONE_LOAD = (selectinload(ShippingZone.areas),
             selectinload(ShippingZone.methods).selectinload(ShippingMethod.tiers))
# carriers a new installation knows; the merchant edits or deletes them
DEFAULT_CARRIERS = (
    ("dhl", "DHL", "https://www.dhl.com/global-en/home/tracking.html"
                   "?tracking-id={tracking_number}"),
    ("ups", "UPS", "https://www.ups.com/track?tracknum={tracking_number}"),
    ("fedex", "FedEx", "https://www.fedex.com/fedextrack/?trknbr={tracking_number}"),
    ("usps", "USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking_number}"),
)


def settings(request):
    return request.plugins.settings("shipping")


def shop_currency(request):
    return carts.shop_currency(request)


def _flush(dbsession, field, message):
    """Flush; a unique value a concurrent request just took is a 409, not a 500."""
    try:
        with dbsession.begin_nested():
            dbsession.flush()
    except sa.exc.IntegrityError:
        raise Conflict(message, code="conflict", fields={field: [message]}) from None


# --- which zone, which methods ---------------------------------------------------------


def zone_for(dbsession, country, state=""):
    """The active zone serving an address in ``country`` (and ``state``), its methods
    loaded; None if no zone does. A region of the country beats the whole country,
    which beats the rest of the world (``*``)."""
    if not country:
        return None
    # one query, as every checkout asks: the candidate areas (a few: the country, its
    # regions, the rest of the world) with their zones, those zones' methods and their
    # tiers (a zone's areas are not loaded)
    areas = dbsession.scalars(
        sa.select(ShippingArea).join(ShippingArea.zone)
        .where(ShippingArea.country.in_([country, ANYWHERE]), ShippingZone.is_active)
        .options(contains_eager(ShippingArea.zone).joinedload(ShippingZone.methods)
                 .joinedload(ShippingMethod.tiers))).unique().all()
    area = rates.best_area(areas, country, state)
    return area.zone if area is not None else None


def offered(zone, parcel, currency):
    """``[(method, price)]``: the zone's active methods in the shop's currency that take
    ``parcel``, in the merchant's order (position), cheapest first among equals."""
    found = []
    for method in zone.methods:
        if not method.is_active:
            continue
        if method.currency != currency:
            log.warning("shipping method %s is priced in %s, the shop sells in %s: not "
                        "offered", method.code, method.currency, currency)
            continue
        price = rates.price(method, parcel)
        if price is not None:
            found.append((method, price))
    return sorted(found, key=lambda pair: (pair[0].position, pair[1].amount, pair[0].id))


def order_value(subtotal, discount_total):
    """What free-shipping thresholds and value tiers read: the goods after discounts."""
    value = subtotal - discount_total
    return value if not value.is_negative() else Money.zero(value.currency)


# --- zones -------------------------------------------------------------------------------


def list_zones(dbsession, page, per_page):
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(ShippingZone))
    zones = dbsession.scalars(
        sa.select(ShippingZone).options(*ZONE_LOAD)
        .order_by(ShippingZone.position, ShippingZone.name, ShippingZone.id)
        .limit(per_page).offset((page - 1) * per_page)).all()
    return zones, total


def find_zone(dbsession, zone_id):
    zone_id = _int_id(zone_id)
    if zone_id is None:
        return None
    return dbsession.scalars(sa.select(ShippingZone).where(ShippingZone.id == zone_id)
                             .options(*ZONE_LOAD)).one_or_none()


def _int_id(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _area_key(country, region):
    return country, " ".join((region or "").split()).casefold()


def area_label(country, region=""):
    if country == ANYWHERE:
        return "the rest of the world"
    return f"{country} ({region})" if region else country


def _set_areas(dbsession, zone, areas):
    """Replace the zone's areas; an area of another zone is a 409 naming that zone."""
    wanted, order = {}, []
    for index, area in enumerate(areas):
        key = _area_key(area["country"], area["region"])
        if key in wanted:
            raise ValidationError({f"areas.{index}": ["This area is listed twice."]})
        wanted[key] = " ".join(area["region"].split())
        order.append((index, key))
    query = sa.select(ShippingArea, ShippingZone.name).join(ShippingZone).where(
        ShippingArea.country.in_({country for country, _ in wanted}))
    if zone.id is not None:
        query = query.where(ShippingArea.zone_id != zone.id)
    taken = {_area_key(area.country, area.region): name
             for area, name in dbsession.execute(query).all()}
    clashes = {f"areas.{index}": [f"{area_label(key[0], wanted[key])} belongs to the zone "
                                  f"“{taken[key]}”; an area belongs to one zone."]
               for index, key in order if key in taken}
    if clashes:
        raise Conflict("Some areas belong to another zone already.", code="area_taken",
                       fields=clashes)
    # remove first and flush: the unit of work inserts before it deletes
    kept = {}
    for area in list(zone.areas):
        key = _area_key(area.country, area.region)
        if key in wanted:
            area.region = wanted[key]
            kept[key] = area
        else:
            zone.areas.remove(area)
    dbsession.flush()
    for _, key in order:
        if key not in kept:
            zone.areas.append(ShippingArea(country=key[0], region=wanted[key]))


def create_zone(dbsession, data):
    zone = ShippingZone(name=data["name"], is_active=data.get("is_active", True),
                        position=data.get("position", 0))
    dbsession.add(zone)
    _set_areas(dbsession, zone, data["areas"])
    _flush(dbsession, "areas", "Another zone took one of these areas meanwhile.")
    dbsession.expire(zone)  # the areas in their order
    return find_zone(dbsession, zone.id)


def update_zone(dbsession, zone, data):
    for key in ("name", "is_active", "position"):
        if key in data:
            setattr(zone, key, data[key])
    if "areas" in data:
        _set_areas(dbsession, zone, data["areas"])
    zone.updated_at = utcnow()
    _flush(dbsession, "areas", "Another zone took one of these areas meanwhile.")
    dbsession.expire(zone)
    return find_zone(dbsession, zone.id)


def delete_zone(dbsession, zone):
    """Delete a zone with its methods; orders placed with them keep their copy."""
    dbsession.delete(zone)
    dbsession.flush()


# --- methods -----------------------------------------------------------------------------


def find_method(dbsession, method_id):
    method_id = _int_id(method_id)
    if method_id is None:
        return None
    return dbsession.scalars(sa.select(ShippingMethod).where(ShippingMethod.id == method_id)
                             .options(selectinload(ShippingMethod.tiers))).one_or_none()


def _minor(amount, currency, field):
    """``amount`` (a Decimal from the schema) as minor units of ``currency``."""
    if amount is None:
        return None
    try:
        return Money.from_decimal(amount, currency).amount
    except ValueError:
        raise ValidationError({field: [f"{currency} amounts have fewer decimal places."]}) \
            from None


_VALUE_START = MoneyAmount(validate=validate.Range(min=0, max=MAX_AMOUNT))


def _tier_start(value, kind, currency, field):
    if kind == WEIGHT:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_GRAMS:
            raise ValidationError({field: [f"Grams: a whole number from 0 to {MAX_GRAMS}."]})
        return value
    try:
        amount = _VALUE_START.deserialize(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    return _minor(amount, currency, field)


def _tiers(body_tiers, kind, currency):
    tiers = []
    for index, tier in enumerate(body_tiers):
        start = _tier_start(tier["start"], kind, currency, f"tiers.{index}.from")
        price = _minor(tier["price"], currency, f"tiers.{index}.price")
        if tiers and start <= tiers[-1][0]:
            raise ValidationError({f"tiers.{index}.from": [
                "Tiers go up: each starts above the one before."]})
        tiers.append((start, price))
    if tiers and tiers[0][0] != 0:
        raise ValidationError({"tiers.0.from": ["The first tier starts from 0."]})
    return tiers


def _method_values(method, data, currency):
    """The method's values after ``data`` (a validated body or patch), checked as a whole:
    ``{kind, price, tiers [(start, price)], free_over, ...}`` in minor units."""
    kind = data.get("kind", method.kind if method is not None else None)
    same_kind = method is not None and kind == method.kind
    values = {"kind": kind}
    # a price or tiers stored for another kind mean nothing for this one
    if "price" in data:
        values["price"] = _minor(data["price"], currency, "price")
    else:
        values["price"] = method.price if same_kind else None
    if "tiers" in data:
        values["tiers"] = _tiers(data["tiers"], kind, currency)
    else:
        values["tiers"] = [(t.threshold, t.price) for t in method.tiers] if same_kind else []
    if "free_over" in data:
        values["free_over"] = _minor(data["free_over"], currency, "free_over")
    else:
        values["free_over"] = method.free_over if method is not None else None
    for key in ("max_weight_grams", "min_days", "max_days"):
        values[key] = data[key] if key in data else getattr(method, key, None)
    errors = {}
    if kind == FLAT and values["price"] is None:
        errors["price"] = ["A flat method needs a price."]
    if kind != FLAT and values["price"] is not None:
        errors["price"] = [f"Only flat methods have a price; a {kind} method "
                           + ("has tiers." if kind in (WEIGHT, VALUE) else "is free.")]
    if kind in (WEIGHT, VALUE) and not values["tiers"]:
        errors["tiers"] = [f"A {kind} method needs tiers: [{{\"from\": ..., \"price\": ...}}]."]
    if kind not in (WEIGHT, VALUE) and values["tiers"]:
        errors["tiers"] = ["Only weight and value methods have tiers."]
    if kind == FREE and values["free_over"] is None:
        errors["free_over"] = ["A free method needs the order value it is free from "
                               "(0 for always)."]
    if values["min_days"] is not None and values["max_days"] is not None \
            and values["max_days"] < values["min_days"]:
        errors["max_days"] = ["At least min_days."]
    if errors:
        raise ValidationError(errors)
    return values


def _apply(method, values, data):
    for key in ("kind", "price", "free_over", "max_weight_grams", "min_days", "max_days"):
        setattr(method, key, values[key])
    for key in ("code", "name", "is_active", "position"):
        if key in data:
            setattr(method, key, data[key])
    current = [(t.threshold, t.price) for t in method.tiers]
    if current != values["tiers"]:
        method.tiers.clear()
        method.tiers.extend(ShippingRateTier(threshold=start, price=price)
                            for start, price in values["tiers"])


def _check_code(dbsession, code, method=None):
    query = sa.select(ShippingMethod.id).where(ShippingMethod.code == code)
    if method is not None:
        query = query.where(ShippingMethod.id != method.id)
    if dbsession.scalar(query) is not None:
        raise Conflict("A shipping method already has this code.", code="duplicate_code",
                       fields={"code": ["A shipping method already has this code."]})


def create_method(dbsession, zone, data, currency):
    values = _method_values(None, data, currency)
    _check_code(dbsession, data["code"])
    method = ShippingMethod(zone=zone, currency=currency)
    method.tiers = []
    _apply(method, values, data)
    dbsession.add(method)
    _flush(dbsession, "code", "A shipping method already has this code.")
    return method


def update_method(dbsession, method, data):
    """Change a method; amounts are in the currency it was made in."""
    values = _method_values(method, data, method.currency)
    if "code" in data and data["code"] != method.code:
        _check_code(dbsession, data["code"], method)
    # the old tiers go first: the unit of work inserts before it deletes
    if "tiers" in data or values["kind"] != method.kind:
        method.tiers.clear()
        dbsession.flush()
    _apply(method, values, data)
    method.updated_at = utcnow()
    _flush(dbsession, "code", "A shipping method already has this code.")
    return method


def delete_method(dbsession, method):
    dbsession.delete(method)
    dbsession.flush()


# --- carriers ----------------------------------------------------------------------------


def list_carriers(dbsession):
    return dbsession.scalars(sa.select(ShippingCarrier).order_by(ShippingCarrier.name,
                                                                 ShippingCarrier.id)).all()


def find_carrier(dbsession, code):
    if not isinstance(code, str) or len(code) > 40:
        return None
    return dbsession.scalars(sa.select(ShippingCarrier).where(
        ShippingCarrier.code == code.lower())).one_or_none()


def carrier_named(dbsession, text):
    """The carrier whose code or name is ``text`` (case aside), or None."""
    text = " ".join((text or "").split()).casefold()
    if not text:
        return None
    for carrier in list_carriers(dbsession):
        if text in (carrier.code.casefold(), carrier.name.casefold()):
            return carrier
    return None


def create_carrier(dbsession, data):
    if find_carrier(dbsession, data["code"]) is not None:
        raise Conflict("A carrier already has this code.", code="duplicate_code",
                       fields={"code": ["A carrier already has this code."]})
    carrier = ShippingCarrier(code=data["code"], name=data["name"],
                              tracking_url=data.get("tracking_url", ""))
    dbsession.add(carrier)
    _flush(dbsession, "code", "A carrier already has this code.")
    return carrier


def update_carrier(dbsession, carrier, data):
    for key in ("name", "tracking_url"):
        if key in data:
            setattr(carrier, key, data[key])
    dbsession.flush()
    return carrier


def delete_carrier(dbsession, carrier):
    """Shipments keep the carrier's name and tracking link as they were."""
    dbsession.delete(carrier)
    dbsession.flush()


def seed_carriers(dbsession):
    for code, name, url in DEFAULT_CARRIERS:
        if find_carrier(dbsession, code) is None:
            dbsession.add(ShippingCarrier(code=code, name=name, tracking_url=url))
    dbsession.flush()


def tracking_link(carrier, tracking_number):
    if carrier is None or not carrier.tracking_url or not tracking_number:
        return None
    return carrier.tracking_url.replace("{tracking_number}",
                                        urllib.parse.quote(tracking_number, safe=""))


# --- shipments ---------------------------------------------------------------------------


def shipments_of(dbsession, order_id):
    """The order's shipments (their items loaded), oldest first."""
    return shipments_by_order(dbsession, [order_id]).get(order_id, [])


def shipments_by_order(dbsession, order_ids):
    """``{order id: its shipments, oldest first}`` for several orders, in two queries
    at most; an order without shipments is left out."""
    found = {}
    if not order_ids:
        return found
    for shipment in dbsession.scalars(
            sa.select(ShippingShipment).where(ShippingShipment.order_id.in_(set(order_ids)))
            .options(selectinload(ShippingShipment.items))
            .order_by(ShippingShipment.shipped_at, ShippingShipment.id)):
        found.setdefault(shipment.order_id, []).append(shipment)
    return found


def shipped_units(shipments):
    """``{order line id: units shipped}``."""
    shipped = {}
    for shipment in shipments:
        for item in shipment.items:
            shipped[item.order_line_id] = shipped.get(item.order_line_id, 0) + item.quantity
    return shipped


def units_left(order, shipments):
    """``{order line id: units still to ship}``: bought, less refunded (money given back
    for units that will not go), less shipped."""
    shipped = shipped_units(shipments)
    return {line.id: max(0, line.quantity - line.refunded_quantity - shipped.get(line.id, 0))
            for line in order.lines}


def find_order(request, number):
    """The order ``number`` under its row lock, loaded; 404 if there is none."""
    order = orders.find_order(request.dbsession, number, lock=True)
    if order is None:
        raise NotFound("There is no such order.", code="order_not_found")
    return order


def _refuse_unshippable(order):
    if order.status == PROCESSING:
        return
    if order.status == PAYMENT_PENDING:
        raise Conflict(f"Order {order.number} is waiting for its payment; ship it once it "
                       "is paid.", code="not_paid", extra={"order_status": order.status})
    if order.status in (SHIPPED, DELIVERED):
        raise Conflict(f"Every item of order {order.number} has shipped.",
                       code="already_shipped", extra={"order_status": order.status})
    raise Conflict(f"Order {order.number} is {order.status}; it does not ship.",
                   code="not_shippable", extra={"order_status": order.status})


def _wanted_units(order, items, left):
    """``{line id: units}`` of a shipment: ``items`` as sent, or everything left."""
    if items is None:
        wanted = {line_id: units for line_id, units in left.items() if units}
        if not wanted:
            raise Conflict(f"Nothing of order {order.number} is left to ship.",
                           code="nothing_to_ship")
        return wanted
    wanted, too_many = {}, {}
    for index, item in enumerate(items):
        if item["item_id"] not in left:
            raise ValidationError({f"items.{index}.item_id": [
                "The order has no item with this id."]})
        can = left[item["item_id"]]
        if item["quantity"] > can:
            too_many[f"items.{index}.quantity"] = [
                f"At most {can}." if can else "Nothing of this item is left to ship."]
        wanted[item["item_id"]] = item["quantity"]
    if too_many:
        raise Unprocessable("Some items have fewer units left to ship.",
                            code="quantity_exceeds_remaining", fields=too_many)
    return wanted


def ship(request, order, *, items=None, carrier="", tracking_number="", tracking_url=None,
         note="", user_id=None):
    """Record a shipment of ``items`` ([{"item_id", "quantity"}]; None: every unit left)
    of the (locked) ``order``. Once no unit is left, the orders plugin moves the order to
    shipped (its 'shipped' mail goes); before that, the customer gets a mail of this
    parcel (setting ``mail_partial_shipments``). Returns the shipment."""
    _refuse_unshippable(order)
    dbsession = request.dbsession
    shipments = shipments_of(dbsession, order.id)
    wanted = _wanted_units(order, items, units_left(order, shipments))
    known = carrier_named(dbsession, carrier)
    shipment = ShippingShipment(
        order_id=order.id, carrier=known.name if known is not None else carrier,
        tracking_number=tracking_number,
        tracking_url=tracking_url or tracking_link(known, tracking_number),
        note=note, user_id=user_id, shipped_at=utcnow())
    shipment.items = [ShippingShipmentItem(order_line_id=line_id, quantity=units)
                      for line_id, units in sorted(wanted.items())]
    dbsession.add(shipment)
    dbsession.flush()
    left = units_left(order, [*shipments, shipment])
    if not any(left.values()):
        orders.ship(request, order, carrier=shipment.carrier,
                    tracking_number=shipment.tracking_number,
                    tracking_url=shipment.tracking_url, user_id=user_id, note=note)
    elif settings(request)["mail_partial_shipments"] and order.email:
        notify(request, "shipping/shipment_sent", order.email,
               _mail_context(order, shipment, left))
    return shipment


def _mail_context(order, shipment, left):
    lines = {line.id: line for line in order.lines}
    return {
        "number": order.number,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url or "",
        "items": [{"name": lines[item.order_line_id].name,
                   "sku": lines[item.order_line_id].sku,
                   "options": dict(lines[item.order_line_id].options or {}),
                   "quantity": item.quantity} for item in shipment.items],
        "units_left": sum(left.values()),
    }


def deliver(request, order, shipment_id, *, user_id=None, note=""):
    """A shipment of the (locked) ``order`` arrived. Once every shipment has and nothing
    is left to ship, the orders plugin moves the order to delivered."""
    shipments = shipments_of(request.dbsession, order.id)
    shipment = next((s for s in shipments if s.id == _int_id(shipment_id)), None)
    if shipment is None:
        raise NotFound("The order has no such shipment.", code="shipment_not_found")
    if shipment.delivered_at is not None:
        raise Conflict("This shipment was marked delivered already.",
                       code="already_delivered")
    if order.status not in (PROCESSING, SHIPPED):
        raise Conflict(f"Order {order.number} is {order.status.replace('_', ' ')}; its "
                       "shipments cannot be marked delivered.", code="not_deliverable",
                       extra={"order_status": order.status})
    shipment.delivered_at = utcnow()
    request.dbsession.flush()
    if order.status == SHIPPED and all(s.delivered_at is not None for s in shipments):
        orders.deliver(request, order, user_id=user_id, note=note)
    return shipment


# --- following the order -----------------------------------------------------------------


def order_moved(request, order, old_status, new_status):
    """Keep the shipments in step with a status change made elsewhere (the order desk's
    ship and deliver), and refuse to cancel an order that has partly left."""
    dbsession = request.dbsession
    if new_status == SHIPPED:
        shipments = shipments_of(dbsession, order.id)
        left = units_left(order, shipments)
        if any(left.values()):  # shipped at once, not through this plugin: one parcel
            latest = order.shipments[-1] if order.shipments else None
            change = order.history[-1] if order.history else None
            carrier = carrier_named(dbsession, latest.carrier) if latest else None
            number = latest.tracking_number if latest else ""
            link = (latest.tracking_url if latest else None) or tracking_link(carrier, number)
            if latest is not None:
                latest.tracking_url = link  # the orders plugin's shipped mail links it
            shipment = ShippingShipment(
                order_id=order.id, carrier=latest.carrier if latest else "",
                tracking_number=number, tracking_url=link,
                note=change.note if change else "",
                user_id=change.user_id if change else None, shipped_at=utcnow())
            shipment.items = [ShippingShipmentItem(order_line_id=line_id, quantity=units)
                              for line_id, units in sorted(left.items()) if units]
            dbsession.add(shipment)
            dbsession.flush()
    elif new_status == DELIVERED:
        now = utcnow()
        for shipment in shipments_of(dbsession, order.id):
            if shipment.delivered_at is None:
                shipment.delivered_at = now
        dbsession.flush()
    elif new_status == CANCELLED and old_status == PROCESSING:
        if shipments_of(dbsession, order.id):
            raise Conflict(f"Part of order {order.number} has shipped: it cannot be "
                           "cancelled. Refund the units that will not ship, or ship them.",
                           code="partially_shipped", extra={"order_status": order.status})


def order_refunded(request, order, refund):
    """Units refunded before they left need no shipping: when they were all that was left
    of a partly shipped order, the order has shipped."""
    if order.status != PROCESSING:
        return
    shipments = shipments_of(request.dbsession, order.id)
    if not shipments or any(units_left(order, shipments).values()):
        return
    latest = shipments[-1]
    orders.ship(request, order, carrier=latest.carrier,
                tracking_number=latest.tracking_number, tracking_url=latest.tracking_url,
                user_id=refund.user_id,
                note="the units not shipped were refunded")
