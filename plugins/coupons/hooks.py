"""The coupons' hook implementations: the checkout phases (validate, discounts), the use
recorded with the order, and given back when the order fails or is cancelled.

What one phase found is kept for the next in ``checkout.extra["coupons"]``:
``applied`` (the ``checkout.Applied`` coupons) and ``free_shipping`` (the codes of
free-shipping coupons that apply), which shipping plugins read in phase 4 to offer
their options at no charge (docs/coupons.md).
"""
from core.plugins import hookimpl
from plugins.orders.models import CANCELLED, FAILED

from . import checkout as rules
from . import redemptions
from .admin import admin_dashboard, admin_menu  # noqa: F401  (the admin's coupon pages)

NAME = rules.NAME


@hookimpl
def checkout_validate(checkout):
    settings = checkout.request.plugins.settings(NAME)
    applied, errors = rules.evaluate(checkout, settings["max_coupons_per_order"])
    checkout.extra[NAME] = {"applied": applied, "free_shipping": []}
    return errors


@hookimpl
def checkout_discounts(checkout):
    state = checkout.extra.get(NAME)
    if not state or not state["applied"]:
        return None
    answers, free_shipping = rules.discounts(checkout, state["applied"])
    state["free_shipping"] = free_shipping
    return answers


@hookimpl
def order_placed(order, checkout, dbsession):
    state = checkout.extra.get(NAME)
    if not state or not state["applied"]:
        return
    # what the orders plugin really took off (it caps each discount at what is left)
    taken = {d["code"]: d["amount"] for d in checkout.discounts if d["source"] == NAME}
    redemptions.record(dbsession, order, state["applied"], taken)


@hookimpl
def order_status_changed(order, new_status, dbsession):
    if new_status in (CANCELLED, FAILED):
        redemptions.release(dbsession, order)
