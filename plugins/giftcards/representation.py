"""The JSON of gift cards, as customers and staff read it (see docs/giftcards.md).

Money is a decimal string with ``currency`` beside it. A card's ``code`` is
masked (``****-****-****-TR5W``) everywhere except in the answer that issued it.
Other plugins add fields through the ``serialize`` hook, kind ``giftcards.card``.
"""
import datetime as dt

from . import codes


def _iso(value):
    return value.isoformat() if value is not None else None


def last_day(expires_at):
    """The last day (ISO date, UTC) a card expiring at ``expires_at`` works, or None: a
    card "valid until 31 January" expires at midnight starting 1 February."""
    if expires_at is None:
        return None
    return (expires_at - dt.timedelta(microseconds=1)).date().isoformat()


def check_json(card):
    """What a customer who holds the code may know of the card."""
    return {
        "code": codes.mask(card.last4),
        "balance": str(card.money(card.balance)),
        "currency": card.currency,
        "expires_at": _iso(card.expires_at),
        "valid_until": last_day(card.expires_at),
        "status": card.state(),
    }


def entry_json(card, entry):
    return {
        "id": entry.id,
        "kind": entry.kind,
        "amount": str(card.money(entry.amount)),
        "balance_after": str(card.money(entry.balance_after)),
        "order_number": entry.order.number if entry.order is not None else None,
        "user_id": entry.user_id,
        "note": entry.note,
        "created_at": _iso(entry.created_at),
    }


def card_data(card, ledger=False, code=None):
    data = {
        "id": card.id,
        "code": code or codes.mask(card.last4),
        "last4": card.last4,
        "currency": card.currency,
        "initial_balance": str(card.money(card.initial_balance)),
        "balance": str(card.money(card.balance)),
        "status": card.state(),
        "is_active": card.is_active,
        "expires_at": _iso(card.expires_at),
        "valid_until": last_day(card.expires_at),
        "note": card.note,
        "recipient_email": card.recipient_email,
        "order_number": card.order.number if card.order is not None else None,
        "issued_by": card.issued_by,
        "voided_at": _iso(card.voided_at),
        "created_at": _iso(card.created_at),
        "updated_at": _iso(card.updated_at),
    }
    if ledger:
        data["ledger"] = [entry_json(card, entry) for entry in card.entries]
    return data


def card_json(request, card, ledger=False, code=None):
    return request.plugins.extend("giftcards.card", card, card_data(card, ledger, code),
                                  request)


def product_json(marked, product):
    return {"product_id": product.id, "name": product.name, "slug": product.slug,
            "is_active": product.is_active, "valid_days": marked.valid_days,
            "created_at": _iso(marked.created_at)}
