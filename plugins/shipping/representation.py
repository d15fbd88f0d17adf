"""The JSON of zones, methods, carriers and an order's fulfillment (see docs/shipping.md).

Money is a decimal string with ``currency`` beside it; a weight tier starts at grams
(an integer), a value tier at an amount (a decimal string).
"""
from core.money import Money

from .models import VALUE, WEIGHT
from .services import units_left


def _iso(value):
    return value.isoformat() if value is not None else None


def method_data(method, staff=True):
    def money(amount):
        return None if amount is None else str(Money(amount, method.currency))

    tiers = []
    if method.kind in (WEIGHT, VALUE):
        tiers = [{"from": tier.threshold if method.kind == WEIGHT else money(tier.threshold),
                  "price": money(tier.price)} for tier in method.tiers]
    data = {
        "code": method.code,
        "name": method.name,
        "kind": method.kind,
        "price": money(method.price),
        "tiers": tiers,
        "free_over": money(method.free_over),
        "max_weight_grams": method.max_weight_grams,
        "min_days": method.min_days,
        "max_days": method.max_days,
        "currency": method.currency,
    }
    if staff:
        data = {"id": method.id, "zone_id": method.zone_id, **data,
                "is_active": method.is_active, "position": method.position}
    return data


def zone_data(zone):
    return {
        "id": zone.id,
        "name": zone.name,
        "areas": [{"country": area.country, "region": area.region} for area in zone.areas],
        "is_active": zone.is_active,
        "position": zone.position,
        "methods": [method_data(method) for method in zone.methods],
    }


def carrier_data(carrier):
    return {"code": carrier.code, "name": carrier.name, "tracking_url": carrier.tracking_url}


def fulfillment_status(shipments, left):
    if not shipments:
        return "unshipped"
    if any(left.values()):
        return "partially_shipped"
    if all(shipment.delivered_at is not None for shipment in shipments):
        return "delivered"
    return "shipped"


def fulfillment_data(order, shipments, staff=False):
    """Where the order's units are: per item shipped and left, and every shipment."""
    left = units_left(order, shipments)
    shipped = {}
    for shipment in shipments:
        for item in shipment.items:
            shipped[item.order_line_id] = shipped.get(item.order_line_id, 0) + item.quantity
    lines = {line.id: line for line in order.lines}

    def shipment_data(shipment):
        data = {
            "id": shipment.id,
            "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "tracking_url": shipment.tracking_url,
            "shipped_at": _iso(shipment.shipped_at),
            "delivered_at": _iso(shipment.delivered_at),
            "items": [{"item_id": item.order_line_id,
                       "name": lines[item.order_line_id].name,
                       "sku": lines[item.order_line_id].sku,
                       "quantity": item.quantity} for item in shipment.items
                      if item.order_line_id in lines],
        }
        if staff:
            data["note"] = shipment.note
            data["user_id"] = shipment.user_id
        return data

    return {
        "status": fulfillment_status(shipments, left),
        "items": [{"item_id": line.id, "quantity": line.quantity,
                   "shipped": shipped.get(line.id, 0), "remaining": left[line.id]}
                  for line in order.lines],
        "shipments": [shipment_data(shipment) for shipment in shipments],
    }
