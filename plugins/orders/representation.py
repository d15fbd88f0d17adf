"""The JSON of quotes and orders, as frontends read it (see docs/orders.md).

Money is a decimal string with ``currency`` beside it. Other plugins add fields
through the ``serialize`` hook: kind ``orders.order`` (the Order) and
``orders.line`` (an OrderLine) for orders, ``orders.quote`` (the Checkout) for
quotes; a list asks them once for all its orders (``serialize_many``). The order's
relations must be loaded (``services.ORDER_LOAD``): nothing here queries.
"""
from . import lifecycle


def _iso(value):
    return value.isoformat() if value is not None else None


def _error(error):
    return {key: value for key, value in error.items()
            if isinstance(value, (str, int, float, bool, list, dict)) or value is None}


def quote_data(checkout):
    money = str
    return {
        "items": [{
            "item_id": line.item_id, "variant_id": line.variant_id, "name": line.name,
            "sku": line.sku, "options": dict(line.options or {}), "quantity": line.quantity,
            "unit_price": money(line.unit_price), "total": money(line.total),
            "discount": money(line.discount), "tax": money(line.tax),
        } for line in checkout.lines],
        "subtotal": money(checkout.subtotal),
        "discounts": [{"source": d["source"], "code": d["code"], "name": d["name"],
                       "amount": money(d["amount"])} for d in checkout.discounts],
        "discount_total": money(checkout.discount_total),
        "shipping_options": [{"code": o["code"], "name": o["name"], "price": money(o["price"]),
                              "min_days": o["min_days"], "max_days": o["max_days"]}
                             for o in checkout.shipping_options],
        "shipping_method": checkout.shipping_option["code"] if checkout.shipping_option
        else None,
        "shipping": money(checkout.shipping),
        "taxes": [{"source": t["source"], "name": t["name"],
                   "rate": None if t["rate"] is None else str(t["rate"]),
                   "amount": money(t["amount"])} for t in checkout.taxes],
        "tax": money(checkout.tax),
        "total": money(checkout.total),
        "tenders": [{"source": t["source"], "code": t["code"], "amount": money(t["amount"])}
                    for t in checkout.tenders],
        "tender_total": money(checkout.tender_total),
        "amount_due": money(checkout.amount_due),
        "currency": checkout.currency,
        "errors": [_error(e) for e in checkout.errors],
    }


def quote_json(request, checkout):
    return request.plugins.extend("orders.quote", checkout, quote_data(checkout), request)


def line_data(order, line):
    money = order.money
    return {
        "id": line.id,
        "variant_id": line.variant_id,
        "product_id": line.product_id,
        "name": line.name,
        "sku": line.sku,
        "options": dict(line.options or {}),
        "image_url": line.image_url,
        "quantity": line.quantity,
        "unit_price": str(money(line.unit_price)),
        "total": str(money(line.total)),
        "discount": str(money(line.discount_amount)),
        "tax": str(money(line.tax_amount)),
        "refunded_quantity": line.refunded_quantity,
    }


def payment_data(order):
    payment = order.payment
    if payment is None:
        return {"provider": None, "status": "not_required" if order.amount_due == 0
                else "none", "client_secret": None, "instructions": "", "amount": "0"}
    waiting = payment.status == "pending"
    return {
        "provider": payment.provider,
        "status": payment.status,
        # only while the storefront may still need it to complete the payment
        "client_secret": payment.client_secret if waiting else None,
        "instructions": payment.instructions if waiting else "",
        "amount": str(order.money(payment.amount)),
    }


def order_data(order, staff=False):
    money = order.money
    adjustments = order.adjustments
    data = {
        "number": order.number,
        "status": order.status,
        "placed_at": _iso(order.placed_at),
        "paid_at": _iso(order.paid_at),
        "updated_at": _iso(order.updated_at),
        "email": order.email,
        "items": [line_data(order, line) for line in order.lines],
        "subtotal": str(money(order.subtotal)),
        "discounts": [{"source": a.source, "code": a.code, "name": a.name,
                       "amount": str(money(a.amount))}
                      for a in adjustments if a.kind == "discount"],
        "discount_total": str(money(order.discount_total)),
        "shipping_method": ({"code": order.shipping_method, "name": order.shipping_method_name,
                             "price": str(money(order.shipping_total))}
                            if order.shipping_method else None),
        "shipping": str(money(order.shipping_total)),
        "taxes": [{"source": a.source, "name": a.name, "rate": a.rate,
                   "amount": str(money(a.amount))} for a in adjustments if a.kind == "tax"],
        "tax": str(money(order.tax_total)),
        "total": str(money(order.total)),
        "tenders": [{"source": t.source, "code": t.code, "amount": str(money(t.amount))}
                    for t in order.tenders],
        "tender_total": str(money(order.tender_total)),
        "amount_due": str(money(order.amount_due)),
        "paid": str(money(order.paid_amount)),
        "refunded": str(money(order.refunded_amount)),
        "currency": order.currency,
        "shipping_address": order.shipping_address,
        "billing_address": order.billing_address,
        "note": order.customer_note,
        "payment": payment_data(order),
        "status_history": [{"from": h.from_status, "to": h.to_status, "at": _iso(h.created_at),
                            "by": h.actor, "note": h.note} for h in order.history],
        "shipments": [{"carrier": s.carrier, "tracking_number": s.tracking_number,
                       "tracking_url": s.tracking_url,
                       "shipped_at": _iso(s.shipped_at), "delivered_at": _iso(s.delivered_at)}
                      for s in order.shipments],
        "refunds": [{"amount": str(money(r.amount)), "at": _iso(r.created_at),
                     "note": r.note} for r in order.refunds],
        "can_cancel": order.status in lifecycle.CANCELLABLE,
    }
    if staff:
        data["user_id"] = order.user_id
        data["refundable"] = str(order.refundable)
        data["allowed_transitions"] = list(lifecycle.TRANSITIONS.get(order.status, ()))
        data["payments"] = [{"id": p.id, "provider": p.provider, "status": p.status,
                             "amount": str(money(p.amount)),
                             "refunded": str(money(p.refunded_amount)),
                             "reference": p.reference, "created_at": _iso(p.created_at)}
                            for p in order.payments]
        data["refunds"] = [{
            "id": r.id, "amount": str(money(r.amount)),
            "provider_amount": str(money(r.provider_amount)), "provider": r.provider,
            "reference": r.reference, "note": r.note, "user_id": r.user_id,
            "at": _iso(r.created_at),
            "tenders": [{"source": part.tender.source, "code": part.tender.code,
                         "amount": str(money(part.amount))} for part in r.tenders],
        } for r in order.refunds]
        data["status_history"] = [dict(entry, user_id=h.user_id) for entry, h in
                                  zip(data["status_history"], order.history)]
        data["notes"] = [{"note": n.body, "user_id": n.user_id, "at": _iso(n.created_at)}
                         for n in order.notes]
    return data


def orders_json(request, orders, staff=False):
    """``order_data`` of each order with the fields enabled plugins add (kinds
    orders.order, orders.line), asked of them once for the whole list."""
    data = [order_data(order, staff=staff) for order in orders]
    plugins = request.plugins
    plugins.extend_many("orders.line", [line for order in orders for line in order.lines],
                        [item for entry in data for item in entry["items"]], request)
    return plugins.extend_many("orders.order", orders, data, request)


def order_json(request, order, staff=False):
    """``orders_json`` of one order."""
    return orders_json(request, [order], staff=staff)[0]

