"""The JSON of accounts and ledger entries (see docs/loyalty.md)."""
from core.api.pagination import page_of
from plugins.cart.services import shop_currency

from . import services
from .services import Rules


def _iso(value):
    return value.isoformat() if value is not None else None


def entry_data(entry, order_number, staff=False):
    data = {"id": entry.id, "kind": entry.kind, "points": entry.points,
            "balance_after": entry.balance_after, "order_number": order_number,
            "expires_at": _iso(entry.expires_at), "reason": entry.reason,
            "created_at": _iso(entry.created_at)}
    if staff:
        data["staff_id"] = entry.staff_id
    return data


def customer_data(user):
    return {"id": user.id, "email": user.email, "name": user.name}


def _history_page(request, items, total, page, per_page, route):
    data = page_of(request, items, total, page, per_page)
    if route is not None:  # answering another route (a POST): link the account's pages
        name, kwargs = route

        def link(number):
            return request.route_url(name, **kwargs,
                                     _query={"page": str(number), "per_page": str(per_page)})

        data["next"] = link(page + 1) if page < data["pages"] else None
        data["previous"] = link(page - 1) if 1 < page <= data["pages"] else None
    return data


def account_json(request, user_id, page, per_page, staff=False, route=None):
    """The balance, its value, the next points to expire and a page of the history.

    ``route``: ``(route name, kwargs)`` of the page links when the request's own
    route is not the account's."""
    dbsession = request.dbsession
    currency = shop_currency(request)
    have = services.balance(dbsession, user_id)
    rows, total = services.history(dbsession, user_id, page, per_page)
    expiring = services.expiring_next(dbsession, user_id)
    return {
        "balance": have,
        "balance_value": str(Rules.of(request).value_of(have, currency)),
        "currency": currency,
        "expiring_next": expiring and {"points": expiring["points"],
                                       "expires_at": _iso(expiring["expires_at"])},
        "history": _history_page(request, [entry_data(entry, number, staff)
                                           for entry, number in rows], total, page, per_page,
                                 route),
    }


def account_row(request, account, user):
    currency = shop_currency(request)
    return {"customer": customer_data(user), "balance": account.balance,
            "balance_value": str(Rules.of(request).value_of(account.balance, currency)),
            "updated_at": _iso(account.updated_at)}
