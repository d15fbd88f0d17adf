"""The carts and tokens the load generator uses, made with bulk SQL before each run.

- **guest carts** (add to cart): carts of known ``X-Cart-Token``s, each with two
  lines, emptied and filled again before every run, so that each add goes to a
  small existing cart as a shopper's would;
- **customers' carts** (quote): every customer has an open cart of three lines; a
  quote writes nothing, so they are made once;
- **buyers' carts** (place order): an order closes its cart, so every buyer whose
  cart was ordered gets a new one (two lines) before every run, and each request
  of a run takes another buyer.

Customers and buyers sign in with access tokens signed here with the application's
key (``core.security.issue_access_token``), valid for a day.
"""
import types

import sqlalchemy as sa

from core.db import utcnow
from core.security import User, issue_access_token
from plugins.cart.models import Cart, CartItem
from plugins.cart.services import hash_token

from .seed import EMAIL_DOMAIN

TOKEN_TTL = 24 * 3600
GUEST_LINES, CUSTOMER_LINES, BUYER_LINES = 2, 3, 2


def guest_tokens(count):
    """Cart tokens shaped like the cart plugin's (43 URL-safe characters), reproducible
    so that a reused database finds its carts again."""
    return [f"bench-guest-{n:06d}-{'x' * 24}" for n in range(1, count + 1)]


def _lines(rng, variants, count):
    """``count`` different variant ids, at random."""
    first = rng.randrange(1, variants - count + 2)
    return range(first, first + count)


def _fill(connection, cart_ids, rng, variants, lines, now):
    if cart_ids:
        connection.execute(sa.insert(CartItem.__table__), [
            {"cart_id": cart_id, "variant_id": variant_id, "quantity": 1, "created_at": now,
             "updated_at": now}
            for cart_id in cart_ids for variant_id in _lines(rng, variants, lines)])


def _new_carts(connection, rows):
    if not rows:
        return []
    table = Cart.__table__
    return list(connection.execute(
        sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


def reset_guest_carts(engine, tokens, rng, variants):
    """Every guest cart of ``tokens`` made again, with GUEST_LINES lines."""
    hashes = [hash_token(token) for token in tokens]
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(sa.delete(Cart.__table__).where(Cart.__table__.c.token_hash.in_(hashes)))
        ids = _new_carts(connection, [{"token_hash": h, "status": "open", "created_at": now,
                                       "updated_at": now} for h in hashes])
        _fill(connection, ids, rng, variants, GUEST_LINES, now)


def user_ids(engine, kind):
    with engine.connect() as connection:
        return list(connection.execute(
            sa.select(User.id).where(User.email.like(f"{kind}-%@{EMAIL_DOMAIN}"))
            .order_by(User.id)).scalars())


def fill_user_carts(engine, ids, rng, variants, lines):
    """An open, filled cart for each user of ``ids`` that has none; returns how many
    carts were made or filled."""
    carts, items = Cart.__table__, CartItem.__table__
    now = utcnow()
    with engine.begin() as connection:
        open_carts = dict(connection.execute(
            sa.select(carts.c.user_id, carts.c.id).where(
                carts.c.status == "open", carts.c.user_id.in_(ids))).all())
        filled = set(connection.execute(
            sa.select(items.c.cart_id).where(items.c.cart_id.in_(list(open_carts.values())))
            .distinct()).scalars())
        empty = [cart_id for cart_id in open_carts.values() if cart_id not in filled]
        created = _new_carts(connection, [
            {"user_id": user_id, "status": "open", "created_at": now, "updated_at": now}
            for user_id in ids if user_id not in open_carts])
        _fill(connection, empty + created, rng, variants, lines, now)
    return len(empty) + len(created)


def access_tokens(settings, ids):
    return [issue_access_token(settings, types.SimpleNamespace(id=i, roles=["customer"]),
                               ttl=TOKEN_TTL)[0] for i in ids]


def write_lines(path, lines):
    path.write_text("".join(f"{line}\n" for line in lines))
    return path
