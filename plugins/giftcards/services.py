"""The gift cards' logic, callable without HTTP: issuing, finding, spending, crediting,
adjusting and voiding cards, selling them as products, and the staff's queries.

Functions take a ``dbsession`` and never commit; they raise ``core.api.errors``
that leave the transaction to be rolled back. A balance changes only through a
conditional UPDATE (it holds the row until the transaction ends, so concurrent
orders spend one card one after the other and the second one sees what the first
left) and a ledger row with the balance after it.
"""
import dataclasses
import datetime as dt
import logging

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.api.errors import Conflict, NotFound, Unprocessable
from core.db import utcnow
from core.money import Money
from plugins.catalog.models import Product

from . import codes
from .models import (ACTIVE, ADJUST, EMPTY, EXPIRED, INACTIVE, ISSUE, REDEEM, VOID, GiftCard,
                     GiftCardProduct, LedgerEntry)

log = logging.getLogger(__name__)

NAME = "giftcards"
MAX_ISSUE = 1000  # cards issued at once
CARDS = GiftCard.__table__


def settings(request):
    return request.plugins.settings(NAME)


def shop_currency(request):
    return request.plugins.settings("catalog")["default_currency"]


def expiry(valid_days, now=None):
    """When a card issued now expires after ``valid_days`` (0 or None: never)."""
    if not valid_days:
        return None
    return (now or utcnow()) + dt.timedelta(days=valid_days)


# --- issuing ------------------------------------------------------------------------------


@dataclasses.dataclass
class Issued:
    """A card just issued and its code, which exists nowhere else once this is gone."""

    card: GiftCard
    code: str  # as people read it: 7KQ4-M2XD-9H0B-TR5W


def _new_codes(dbsession, count, length):
    """``count`` new codes, none of which a card has already (80 bits make a repeat
    all but impossible; the unique index would turn one into a 500)."""
    fresh = {}
    while len(fresh) < count:
        batch = {}
        for _ in range(count - len(fresh)):
            code = codes.generate(length)
            batch[codes.digest(code)] = code
        taken = set(dbsession.scalars(sa.select(GiftCard.code_hash).where(
            GiftCard.code_hash.in_(list(batch)))))
        fresh.update({digest: code for digest, code in batch.items() if digest not in taken})
    return list(fresh.items())


def issue(dbsession, amount, *, count=1, expires_at=None, note="", length=codes.MIN_LENGTH,
          recipient_email=None, issued_by=None, order=None, line=None):
    """Issue ``count`` cards worth ``amount`` (Money) each; returns ``Issued`` (card, code).

    ``order``/``line``: the sale that bought them. The ledger starts with the issue.
    """
    if not isinstance(amount, Money) or amount.amount <= 0:
        raise ValueError("a gift card is worth more than zero")
    if not 1 <= count <= MAX_ISSUE:
        raise ValueError(f"issue 1 to {MAX_ISSUE} cards at once")
    issued = []
    for digest, code in _new_codes(dbsession, count, length):
        card = GiftCard(
            code_hash=digest, last4=code[-4:], currency=amount.currency,
            initial_balance=amount.amount, balance=amount.amount, is_active=True,
            expires_at=expires_at, note=note or "", recipient_email=recipient_email,
            order_id=order.id if order is not None else None,
            order_line_id=line.id if line is not None else None, issued_by=issued_by)
        card.entries.append(LedgerEntry(
            kind=ISSUE, amount=amount.amount, balance_after=amount.amount,
            order_id=card.order_id, user_id=issued_by,
            note=f"sold with order {order.number}" if order is not None else note or ""))
        dbsession.add(card)
        issued.append(Issued(card, codes.display(code)))
    dbsession.flush()
    return issued


def mail_codes(request, to, issued, order=None):
    """E-mail the codes of ``issued`` to ``to`` (erased from the outbox once sent)."""
    from core.notifications import notify

    from .representation import last_day

    first = issued[0].card
    context = {
        "cards": [{"code": item.code, "amount": str(item.card.money(item.card.initial_balance)),
                   "currency": item.card.currency,
                   "expires_on": last_day(item.card.expires_at)} for item in issued],
        "currency": first.currency,
        "order_number": order.number if order is not None else None,
    }
    return notify(request, "giftcards/gift_cards", to, context, sensitive=True)


# --- finding --------------------------------------------------------------------------------


def find(dbsession, text, lock=False):
    """The card whose code is ``text`` (as typed), or None."""
    code = codes.normalize(text)
    if code is None:
        return None
    query = sa.select(GiftCard).where(GiftCard.code_hash == codes.digest(code))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return dbsession.scalars(query).one_or_none()


def find_many(dbsession, texts):
    """``[(text, card or None)]`` for codes as typed, in one query."""
    digests = {}
    for text in texts:
        code = codes.normalize(text)
        digests[text] = codes.digest(code) if code is not None else None
    wanted = [d for d in digests.values() if d is not None]
    cards = {}
    if wanted:
        cards = {card.code_hash: card for card in dbsession.scalars(
            sa.select(GiftCard).where(GiftCard.code_hash.in_(wanted)))}
    return [(text, cards.get(digests[text])) for text in texts]


def get_card(dbsession, card_id, lock=False):
    """The card ``card_id`` (an int, or anything else: None)."""
    if not isinstance(card_id, int) or not 0 < card_id < 2**31:
        return None
    query = sa.select(GiftCard).where(GiftCard.id == card_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return dbsession.scalars(query).one_or_none()


# --- balances -------------------------------------------------------------------------------


def _ledger(dbsession, card_id, kind, amount, balance_after, **about):
    entry = LedgerEntry(card_id=card_id, kind=kind, amount=amount, balance_after=balance_after,
                        **about)
    dbsession.add(entry)
    return entry


def _forget(dbsession, card_id):
    """The session's copy of the card is stale after a Core UPDATE."""
    card = dbsession.identity_map.get(dbsession.identity_key(GiftCard, card_id))
    if card is not None:
        dbsession.expire(card)


def redeem(dbsession, card_id, amount, currency, *, order, tender, now=None):
    """Take ``amount`` (minor units) from the card for ``order``'s ``tender``.

    One conditional UPDATE: it applies only while the card is active, unexpired, in
    ``currency`` and holds the amount, so two orders spending one card at once
    cannot take more than it holds; 422 ``gift_card_insufficient`` otherwise.
    """
    now = now or utcnow()
    after = dbsession.execute(
        sa.update(CARDS)
        .where(CARDS.c.id == card_id, CARDS.c.balance >= amount, CARDS.c.is_active,
               CARDS.c.currency == currency,
               sa.or_(CARDS.c.expires_at.is_(None), CARDS.c.expires_at > now))
        .values(balance=CARDS.c.balance - amount, updated_at=now)
        .returning(CARDS.c.balance, CARDS.c.last4)).one_or_none()
    if after is None:
        card = get_card(dbsession, card_id)
        shown = codes.mask(card.last4) if card is not None else "?"
        raise Unprocessable(
            f"The gift card {shown} no longer covers {Money(amount, currency)} {currency} "
            "(it was used, changed or expired meanwhile); ask for a new quote.",
            code="gift_card_insufficient", fields={"gift_card_codes": [
                f"The gift card {shown} no longer covers this order."]},
            extra={"gift_card": shown})
    _forget(dbsession, card_id)
    return _ledger(dbsession, card_id, REDEEM, -amount, after.balance, order_id=order.id,
                   tender_id=tender.id, note=f"order {order.number}")


def credit(dbsession, card_id, amount, kind, *, now=None, **about):
    """Put ``amount`` (minor units) back on the card, whatever its state (the money is
    its holder's); returns the ledger row."""
    now = now or utcnow()
    balance = dbsession.execute(
        sa.update(CARDS).where(CARDS.c.id == card_id)
        .values(balance=CARDS.c.balance + amount, updated_at=now)
        .returning(CARDS.c.balance)).scalar_one()
    _forget(dbsession, card_id)
    return _ledger(dbsession, card_id, kind, amount, balance, **about)


def adjust(dbsession, card, amount, *, note, user_id=None, now=None):
    """Staff changes the balance by ``amount`` (Money, negative to take money off);
    never below zero (422 ``adjustment_too_large``)."""
    if amount.currency != card.currency:
        raise Unprocessable(f"The card is in {card.currency}.", code="currency_mismatch",
                            fields={"amount": [f"The card is in {card.currency}."]})
    if amount.is_zero():
        raise Unprocessable("An adjustment changes the balance.", code="invalid",
                            fields={"amount": ["Must not be zero."]})
    now = now or utcnow()
    after = dbsession.execute(
        sa.update(CARDS).where(CARDS.c.id == card.id, CARDS.c.balance + amount.amount >= 0)
        .values(balance=CARDS.c.balance + amount.amount, updated_at=now)
        .returning(CARDS.c.balance)).one_or_none()
    if after is None:
        dbsession.refresh(card)
        raise Unprocessable(f"The card holds {card.money(card.balance)} {card.currency}; it "
                            "cannot lose more.", code="adjustment_too_large",
                            fields={"amount": ["More than the card holds."]})
    _forget(dbsession, card.id)
    return _ledger(dbsession, card.id, ADJUST, amount.amount, after.balance, user_id=user_id,
                   note=note)


def update_card(card, data):
    """Staff changes ``is_active``, ``expires_at`` or ``note`` (not the balance)."""
    for key in ("is_active", "expires_at", "note"):
        if key in data:
            setattr(card, key, data[key])
    if card.is_active and card.voided_at is not None:
        raise Conflict("This card was voided when its purchase was cancelled or refunded; "
                       "issue a new one instead.", code="gift_card_voided")
    card.updated_at = utcnow()
    return card


# --- selling cards as products -----------------------------------------------------------------


def gift_card_products(dbsession, product_ids):
    """``{product id: GiftCardProduct}`` for those of ``product_ids`` sold as gift cards."""
    ids = [pid for pid in set(product_ids) if pid is not None]
    if not ids:
        return {}
    return {row.product_id: row for row in dbsession.scalars(
        sa.select(GiftCardProduct).where(GiftCardProduct.product_id.in_(ids)))}


def issue_for_order(request, order):
    """The order was paid: a card for each unit of a gift card product in it, worth the
    unit's price, and one e-mail with the codes to the buyer. Safe to call twice."""
    dbsession = request.dbsession
    marked = gift_card_products(dbsession, [line.product_id for line in order.lines])
    if not marked:
        return []
    done = dict(dbsession.execute(
        sa.select(GiftCard.order_line_id, sa.func.count()).where(GiftCard.order_id == order.id)
        .group_by(GiftCard.order_line_id)).all())
    config = settings(request)
    issued = []
    for line in order.lines:
        product = marked.get(line.product_id)
        missing = line.quantity - done.get(line.id, 0)
        if product is None or missing <= 0:
            continue
        if line.unit_price <= 0:
            log.warning("order %s: gift card %s costs nothing; no card issued", order.number,
                        line.name)
            continue
        valid_days = product.valid_days if product.valid_days is not None \
            else config["valid_days"]
        issued += issue(dbsession, order.money(line.unit_price), count=missing,
                        expires_at=expiry(valid_days), length=config["code_length"],
                        recipient_email=order.email or None, order=order, line=line)
    if issued and order.email:
        mail_codes(request, order.email, issued, order=order)
    return issued


def _void(dbsession, card, reason, now):
    """Empty and deactivate a card whose purchase is undone; 409 if it was spent."""
    if card.balance < card.initial_balance:
        raise Conflict(
            f"The gift card {codes.mask(card.last4)} bought with this order has been used "
            f"({card.money(card.balance)} of {card.money(card.initial_balance)} "
            f"{card.currency} left), so the purchase cannot be undone in full; refund an "
            "amount instead.", code="gift_card_used", extra={"gift_card": codes.mask(card.last4)})
    if card.balance:
        _ledger(dbsession, card.id, VOID, -card.balance, 0, order_id=card.order_id, note=reason)
    card.balance = 0
    card.is_active = False
    card.voided_at = now
    card.updated_at = now


def _cards_of(dbsession, order, line_id=None):
    query = (sa.select(GiftCard).where(GiftCard.order_id == order.id,
                                       GiftCard.voided_at.is_(None))
             .order_by(GiftCard.id).with_for_update()
             .execution_options(populate_existing=True))
    if line_id is not None:
        query = query.where(GiftCard.order_line_id == line_id)
    return list(dbsession.scalars(query))


def void_order_cards(dbsession, order, reason):
    """The order that bought cards was cancelled or returned: void every card it issued
    (locked first, so that no order spends one meanwhile)."""
    now = utcnow()
    cards = _cards_of(dbsession, order)
    for card in cards:
        _void(dbsession, card, reason, now)
    dbsession.flush()
    return cards


def void_refunded_units(dbsession, order):
    """Units of gift card lines refunded (by line) void as many of their cards, unused
    ones first (409 if only spent ones are left)."""
    now = utcnow()
    voided = []
    for line in order.lines:
        if not line.refunded_quantity:
            continue
        issued = dbsession.scalar(sa.select(sa.func.count()).select_from(GiftCard).where(
            GiftCard.order_line_id == line.id))
        if not issued:
            continue
        gone = dbsession.scalar(sa.select(sa.func.count()).select_from(GiftCard).where(
            GiftCard.order_line_id == line.id, GiftCard.voided_at.is_not(None)))
        wanted = min(line.refunded_quantity, issued) - gone
        if wanted <= 0:
            continue
        cards = sorted(_cards_of(dbsession, order, line.id),
                       key=lambda c: (c.balance < c.initial_balance, c.id))
        for card in cards[:wanted]:
            _void(dbsession, card, f"order {order.number}: refunded", now)
            voided.append(card)
    dbsession.flush()
    return voided


def mark_product(dbsession, product_id, valid_days=None):
    """Sell the catalog product ``product_id`` as a gift card: ``(row, created)``."""
    if dbsession.get(Product, product_id) is None:
        raise NotFound("There is no such product.", code="product_not_found")
    row = dbsession.get(GiftCardProduct, product_id)
    created = row is None
    if created:
        row = GiftCardProduct(product_id=product_id)
        dbsession.add(row)
    row.valid_days = valid_days
    dbsession.flush()
    return row, created


def unmark_product(dbsession, product_id):
    row = dbsession.get(GiftCardProduct, product_id)
    if row is None:
        raise NotFound("This product is not sold as a gift card.",
                       code="gift_card_product_not_found")
    dbsession.delete(row)
    dbsession.flush()


def marked_products(dbsession):
    """``[(GiftCardProduct, Product)]``, by product name."""
    return dbsession.execute(
        sa.select(GiftCardProduct, Product).join(Product,
                                                 Product.id == GiftCardProduct.product_id)
        .order_by(Product.name, Product.id)).all()


# --- the staff's lists ----------------------------------------------------------------------


def state_condition(state, now):
    unexpired = sa.or_(GiftCard.expires_at.is_(None), GiftCard.expires_at > now)
    return {
        ACTIVE: sa.and_(GiftCard.is_active, unexpired, GiftCard.balance > 0),
        INACTIVE: sa.not_(GiftCard.is_active),
        EXPIRED: sa.and_(GiftCard.is_active, GiftCard.expires_at <= now),
        EMPTY: sa.and_(GiftCard.is_active, unexpired, GiftCard.balance == 0),
    }[state]


def list_cards(dbsession, filters, page, per_page, now=None):
    """A page of cards matching ``filters`` (last4, status, order_id, email), newest first,
    and their number."""
    now = now or utcnow()
    conditions = []
    if filters.get("last4"):
        conditions.append(GiftCard.last4 == filters["last4"])
    if filters.get("status"):
        conditions.append(state_condition(filters["status"], now))
    if filters.get("order_id") is not None:
        conditions.append(GiftCard.order_id == filters["order_id"])
    if filters.get("email"):
        conditions.append(sa.func.lower(GiftCard.recipient_email).contains(
            filters["email"].lower(), autoescape=True))
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(GiftCard)
                             .where(*conditions))
    cards = dbsession.scalars(
        sa.select(GiftCard).where(*conditions).options(selectinload(GiftCard.order))
        .order_by(GiftCard.created_at.desc(), GiftCard.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return cards, total


def outstanding(dbsession, now=None):
    """``({currency: minor units}, count)`` of what the active cards still hold: what the
    shop owes their holders."""
    now = now or utcnow()
    rows = dbsession.execute(
        sa.select(GiftCard.currency, sa.func.sum(GiftCard.balance), sa.func.count())
        .where(state_condition(ACTIVE, now)).group_by(GiftCard.currency)).all()
    # SUM of BIGINT is a NUMERIC on PostgreSQL: back to whole minor units
    return ({currency: int(total or 0) for currency, total, _ in rows},
            sum(count for _, _, count in rows))

