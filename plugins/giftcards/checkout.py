"""Gift cards in the checkout protocol (core/hookspecs.py, phases 1, 6, 7 and 9).

- validate: each code in ``gift_card_codes`` is found (by its digest) and must be
  active, unexpired, in the shop's currency and not empty; each problem is an
  error on the field ``gift_card_codes`` carrying the code as the client sent it
  (``gift_card``). Unknown codes count against the client address (ratelimit).
- tenders: the usable cards in the order given, each paying what it holds of what
  is still due; a tender's ``code`` is the masked code (``****-****-****-TR5W``),
  never the code itself, since the order keeps it.
- order_placed: each tender is taken from its card with a conditional UPDATE
  (services.redeem); a card emptied meanwhile makes the whole order a 422.
- order_refunded: the parts of a refund that go to gift card tenders go back to
  the card each tender was taken from (found through the ledger).

Nothing is written before ``order_placed``: the phases keep what they found in
``checkout.extra["giftcards"]``.
"""
import sqlalchemy as sa

from core.api.errors import Conflict
from core.db import utcnow

from . import codes, ratelimit, services
from .models import ACTIVE, EMPTY, EXPIRED, INACTIVE, REDEEM, REFUND, LedgerEntry

EXTRA = "giftcards"
NAME = services.NAME

PROBLEMS = {
    INACTIVE: ("gift_card_inactive", "The gift card {shown} cannot be used."),
    EXPIRED: ("gift_card_expired", "The gift card {shown} has expired."),
    EMPTY: ("gift_card_empty", "The gift card {shown} has nothing left on it."),
}


def _error(code, message, text):
    return {"code": code, "message": message, "field": "gift_card_codes", "gift_card": text}


def validate(checkout):
    """Phase 1: the errors of the codes asked for; the usable cards kept for phase 6."""
    wanted = checkout.gift_card_codes
    state = checkout.extra[EXTRA] = {"cards": [], "tendered": []}
    if not wanted:
        return None
    request = checkout.request
    ratelimit.check(request)
    now = utcnow()
    errors, seen, misses = [], set(), 0
    for text, card in services.find_many(checkout.dbsession, wanted):
        if card is None:
            misses += 1
            errors.append(_error("gift_card_not_found",
                                 "There is no gift card with this code; check it "
                                 "character by character.", text))
            continue
        if card.id in seen:  # the same card typed twice, in another spelling
            continue
        seen.add(card.id)
        shown = codes.mask(card.last4)
        problem = card.state(now)
        if card.currency != checkout.currency:
            errors.append(_error("gift_card_currency",
                                 f"The gift card {shown} is in {card.currency}; this shop "
                                 f"sells in {checkout.currency}.", text))
        elif problem != ACTIVE:
            code, message = PROBLEMS[problem]
            errors.append(_error(code, message.format(shown=shown), text))
        else:
            state["cards"].append((card.id, shown, card.balance))
    ratelimit.record_miss(request, misses)
    return errors


def tenders(checkout):
    """Phase 6: each usable card pays what it holds of what is still due."""
    state = checkout.extra.get(EXTRA)
    if not state or not state["cards"]:
        return None
    due = checkout.amount_due
    found = []
    state["tendered"] = []
    for card_id, shown, balance in state["cards"]:
        if due.is_zero():
            break
        amount = min(checkout.money(balance), due)
        due = due - amount
        found.append({"source": NAME, "code": shown, "amount": amount})
        state["tendered"].append((card_id, shown))
    return found


def placed(order, checkout, dbsession):
    """Phase 7: take every gift card tender of the order from its card.

    The orders plugin keeps our tenders in the order we gave them, capped at what
    was due, dropping those that came to zero; as ours stop once nothing is due,
    the order's gift card tenders are the first of ours.
    """
    mine = [tender for tender in order.tenders if tender.source == NAME]
    if not mine:
        return
    tendered = (checkout.extra.get(EXTRA) or {}).get("tendered", [])
    if len(mine) > len(tendered):
        raise RuntimeError(f"order {order.number}: gift card tenders the checkout did not "
                           "offer")
    now = utcnow()
    for tender, (card_id, shown) in zip(mine, tendered):
        if tender.code != shown:
            raise RuntimeError(f"order {order.number}: tender {tender.code} is not card "
                               f"{shown}")
        services.redeem(dbsession, card_id, tender.amount, order.currency, order=order,
                        tender=tender, now=now)


def refunded(order, refund, dbsession):
    """Phase 9: every part of ``refund`` that goes to a gift card tender goes back on the
    card it was taken from; then the units of gift card products refunded void their
    cards."""
    for part in refund.tenders:
        tender = part.tender
        if tender.source != NAME:
            continue
        card_id = dbsession.scalar(sa.select(LedgerEntry.card_id).where(
            LedgerEntry.tender_id == tender.id, LedgerEntry.kind == REDEEM))
        if card_id is None:  # a tender this plugin did not take: refuse, never lose it
            raise Conflict(f"No gift card was debited for the tender {tender.code} of order "
                           f"{order.number}; refund it by hand.",
                           code="gift_card_tender_unknown")
        services.credit(dbsession, card_id, part.amount, REFUND, order_id=order.id,
                        tender_id=tender.id, refund_tender_id=part.id,
                        note=f"refund of order {order.number}")
    services.void_refunded_units(dbsession, order)
