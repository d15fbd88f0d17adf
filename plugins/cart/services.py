"""The cart's logic, callable without HTTP: finding carts, changing them, pricing them.

For the orders plugin (inside its own transaction; nothing here commits):

- ``current_cart(request)``: the open cart of the request's customer or guest, or None;
  ``user_and_cart(request)`` reads the signed-in customer and the items with it.
- ``cart_for_user(dbsession, user_id)``: a customer's open cart, or None.
- ``price_cart(dbsession, cart, currency)`` / ``request_cart(request)``: the cart's lines
  priced from the catalog right now (``cart_lines`` alone gives the lines).
- ``checkout_errors(priced)``: what stops the cart from being ordered, in the shape of
  the ``checkout_validate`` hook.
- ``clear(dbsession, cart)`` empties a cart; ``mark_ordered(dbsession, cart)`` closes it
  (the customer's next write starts a new cart, a guest's token stops working).

Writes take the cart from ``writable_cart``, which locks its row for the rest of the
transaction, so that two requests on one cart (two tabs, a double click) run one
after the other; the item upsert (INSERT ... ON CONFLICT DO UPDATE) keeps adding
the same variant atomic even for a caller that did not lock.
"""
import dataclasses
import datetime as dt
import hashlib
import logging
import re
import secrets

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.api.errors import BadRequest, Conflict, NotFound, Unauthorized, Unprocessable
from core.db import utcnow
from core.money import Money
from core.security import User, active_user, authenticated_user
from plugins.catalog import services as catalog
from plugins.catalog.schemas import MAX_ID

from .models import OPEN, OPEN_SQL, ORDERED, Cart, CartItem

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Cart-Token"
# what new_token() makes (43 characters) with room to change it; anything else is no token
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")

# the problems of a line, as the cart JSON names them
UNAVAILABLE = "unavailable"  # the product was deactivated
CURRENCY_MISMATCH = "currency_mismatch"  # priced in another currency than the shop's
OUT_OF_STOCK = "out_of_stock"
INSUFFICIENT_STOCK = "insufficient_stock"  # fewer available than the line's quantity
QUANTITY_ABOVE_LIMIT = "quantity_above_limit"  # the merchant lowered the limit since

PROBLEM_MESSAGES = {
    UNAVAILABLE: "This product is no longer sold.",
    CURRENCY_MISMATCH: "This product has no price in the shop currency.",
    OUT_OF_STOCK: "This item is out of stock.",
    INSUFFICIENT_STOCK: "Fewer units are available than the cart holds.",
    QUANTITY_ABOVE_LIMIT: "The cart holds more units of this item than one order may have.",
}


@dataclasses.dataclass(frozen=True)
class Limits:
    """The cart plugin's settings (see ``CartSettings``)."""

    guest_cart_days: int = 30
    max_quantity_per_line: int = 99
    max_lines: int = 100

    @classmethod
    def from_settings(cls, settings):
        return cls(**{f.name: settings[f.name] for f in dataclasses.fields(cls)})


def limits(request):
    """The limits in force for ``request`` (or a task's context)."""
    return Limits.from_settings(request.plugins.settings("cart"))


def shop_currency(request):
    return request.plugins.settings("catalog")["default_currency"]


# --- tokens -----------------------------------------------------------------------------


def new_token():
    return secrets.token_urlsafe(32)


def hash_token(token):
    # a fast hash is enough: the token is 256 random bits, not a password
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def guest_cutoff(guest_cart_days, now=None):
    """Guest carts last changed before this moment have expired."""
    return (now or utcnow()) - dt.timedelta(days=guest_cart_days)


def expires_at(cart, guest_cart_days):
    return cart.updated_at + dt.timedelta(days=guest_cart_days) if cart.is_guest else None


# --- finding carts ----------------------------------------------------------------------


def _select(lock):
    query = sa.select(Cart).where(Cart.status == OPEN)
    if lock:
        # populate_existing: the row read under the lock, not what the session remembers
        query = query.with_for_update().execution_options(populate_existing=True)
    return query


def cart_for_user(dbsession, user_id, lock=False):
    """The customer's open cart, or None. ``lock``: hold its row until the transaction ends."""
    return dbsession.scalars(_select(lock).where(Cart.user_id == user_id)).one_or_none()


def cart_for_token(dbsession, token, guest_cart_days, lock=False, now=None):
    """The open guest cart of ``token``, or None for a malformed, unknown or expired token."""
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        return None
    return dbsession.scalars(_select(lock).where(
        Cart.token_hash == hash_token(token), Cart.user_id.is_(None),
        Cart.updated_at >= guest_cutoff(guest_cart_days, now))).one_or_none()


def request_user_id(request):
    """The signed-in user's id, None for a guest.

    An ``Authorization`` header that identifies nobody (an expired access token) is a
    401, not a guest: the client should refresh its token, not be shown an empty cart.
    """
    if request.identity is not None:
        return request.identity.id
    if "Authorization" in request.headers:
        raise Unauthorized("The access token is not valid or has expired.",
                           headers={"WWW-Authenticate": 'Bearer realm="emporium"'})
    return None


def current_cart(request, lock=False):
    """The open cart ``request`` is about: the signed-in customer's, else the guest cart
    of its ``X-Cart-Token`` header; None if there is none. Never creates a cart."""
    user_id = request_user_id(request)
    if user_id is not None:
        return cart_for_user(request.dbsession, user_id, lock=lock)
    return cart_for_token(request.dbsession, request.headers.get(TOKEN_HEADER),
                          limits(request).guest_cart_days, lock=lock)


# what cart_lines reads of a cart's items, oldest first
ITEM_COLUMNS = (CartItem.id, CartItem.variant_id, CartItem.quantity)


def user_and_cart(request):
    """``(user, cart, items)`` for a quote: the signed-in customer
    (``core.security.authenticated_user``: a 401 if deactivated), their open cart or
    None, and its items for ``cart_lines``, read together in one query; for a guest
    ``(None, current_cart(request), None)`` (``cart_lines`` reads the items)."""
    user_id = request_user_id(request)
    if user_id is None:
        return None, current_cart(request), None
    rows = request.dbsession.execute(
        sa.select(User, Cart, *ITEM_COLUMNS).where(User.id == user_id)
        .outerjoin(Cart, sa.and_(Cart.user_id == User.id, Cart.status == OPEN))
        .outerjoin(CartItem, CartItem.cart_id == Cart.id).order_by(CartItem.id)).all()
    user = active_user(rows[0].User if rows else None)
    return user, rows[0].Cart, items_of(rows)


def items_of(rows):
    """The items of rows that joined a cart's items (``ITEM_COLUMNS``) to one cart, in
    the form ``cart_lines`` takes them (none: a cart without items, or no cart)."""
    return [row for row in rows if row.id is not None]


def _insert(dbsession):
    dialect = dbsession.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"the cart needs PostgreSQL or SQLite, not {dialect}")


def open_user_cart(dbsession, user_id):
    """The customer's open cart, locked; made first if there is none.

    Two first writes at once both try to insert; the partial unique index lets one
    in and the other's ON CONFLICT DO NOTHING then finds that cart.
    """
    cart = cart_for_user(dbsession, user_id, lock=True)
    if cart is None:
        now = utcnow()
        dbsession.execute(
            _insert(dbsession)(Cart.__table__)
            .values(user_id=user_id, status=OPEN, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["user_id"], index_where=sa.text(OPEN_SQL)))
        cart = cart_for_user(dbsession, user_id, lock=True)
    return cart


def create_guest_cart(dbsession):
    """A new guest cart and its token (the only time the token is known)."""
    token = new_token()
    cart = Cart(token_hash=hash_token(token), status=OPEN)
    dbsession.add(cart)
    dbsession.flush()
    return cart, token


def writable_cart(request, create=True):
    """``(cart, new_token)`` for a write: the request's cart, locked until the
    transaction ends. Without a cart, ``create`` makes one (``new_token`` is then set
    for a guest, to be answered in ``X-Cart-Token``); otherwise ``(None, None)``."""
    dbsession = request.dbsession
    user_id = request_user_id(request)
    if user_id is not None:
        if not create:
            return cart_for_user(dbsession, user_id, lock=True), None
        authenticated_user(request)  # a deleted or deactivated user gets no new cart
        return open_user_cart(dbsession, user_id), None
    cart = current_cart(request, lock=True)
    if cart is not None or not create:
        return cart, None
    return create_guest_cart(dbsession)


def touch(cart):
    cart.updated_at = utcnow()


# --- pricing ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CartLine:
    """An item of a cart, priced from the catalog now."""

    item_id: int
    variant_id: int
    product_id: int
    product_slug: str
    name: str
    sku: str
    options: dict
    image_url: str | None
    quantity: int
    unit_price: Money
    line_total: Money
    available_quantity: int  # units the shop can sell now (0 for a deactivated product)
    problems: tuple  # codes such as OUT_OF_STOCK; empty when the line can be ordered
    weight_grams: int | None = None

    @property
    def available(self):
        return not self.problems


@dataclasses.dataclass(frozen=True)
class PricedCart:
    """A cart (None: the request has none) with its priced lines and subtotal."""

    cart: Cart | None
    lines: list
    subtotal: Money
    currency: str

    @property
    def item_count(self):
        return sum(line.quantity for line in self.lines)

    @property
    def has_problems(self):
        return any(line.problems for line in self.lines)


def line_problems(info, quantity, currency=None, max_quantity=None):
    problems = []
    if not info.is_active:
        problems.append(UNAVAILABLE)
    if currency is not None and info.unit_price.currency != currency:
        problems.append(CURRENCY_MISMATCH)
    if info.is_active:
        if info.available <= 0:
            problems.append(OUT_OF_STOCK)
        elif quantity > info.available:
            problems.append(INSUFFICIENT_STOCK)
    if max_quantity is not None and quantity > max_quantity:
        problems.append(QUANTITY_ABOVE_LIMIT)
    return tuple(problems)


def cart_lines(dbsession, cart, currency=None, max_quantity=None, items=None):
    """The cart's items, oldest first, priced and checked against the catalog now.

    A fixed number of queries however many items. ``currency``: flag lines priced in
    another currency; ``max_quantity``: flag lines above the per-line limit;
    ``items``: the cart's items (``ITEM_COLUMNS``, oldest first) if the caller read
    them with the cart (``user_and_cart``), else they are read here.
    """
    if cart is None or cart.id is None:
        return []
    rows = items if items is not None else dbsession.execute(
        sa.select(*ITEM_COLUMNS).where(CartItem.cart_id == cart.id)
        .order_by(CartItem.id)).all()
    infos = catalog.variant_infos(dbsession, [row.variant_id for row in rows])
    lines = []
    for row in rows:
        info = infos.get(row.variant_id)
        if info is None:  # deleted in this very transaction; the FK cascade drops the item
            continue
        lines.append(CartLine(
            item_id=row.id, variant_id=info.variant_id, product_id=info.product_id,
            product_slug=info.product_slug, name=info.name, sku=info.sku,
            options=info.options, image_url=info.image_url, quantity=row.quantity,
            unit_price=info.unit_price,
            line_total=Money(info.unit_price.amount * row.quantity, info.unit_price.currency),
            available_quantity=info.available if info.is_active else 0,
            problems=line_problems(info, row.quantity, currency, max_quantity),
            weight_grams=info.weight_grams,
        ))
    return lines


def price_cart(dbsession, cart, currency, max_quantity=None):
    """The cart priced in ``currency`` (the shop's). The subtotal adds up every line in
    that currency, lines with stock problems included: the checkout refuses those."""
    lines = cart_lines(dbsession, cart, currency, max_quantity)
    subtotal = Money.sum((line.line_total for line in lines
                          if line.unit_price.currency == currency), currency)
    return PricedCart(cart=cart, lines=lines, subtotal=subtotal, currency=currency)


def price_for_request(request, cart):
    """``price_cart`` in the shop currency, flagging lines above the per-line limit."""
    return price_cart(request.dbsession, cart, shop_currency(request),
                      limits(request).max_quantity_per_line)


def request_cart(request):
    """The request's cart, priced (an empty ``PricedCart`` if it has none)."""
    return price_for_request(request, current_cart(request))


def checkout_errors(priced):
    """Why the cart cannot be ordered as it is, as ``checkout_validate`` errors:
    ``[{"code", "message", "item_id"?}]``; empty when it can."""
    if not priced.lines:
        return [{"code": "cart_empty", "message": "The cart is empty."}]
    return [{"code": problem, "message": f"{line.name} ({line.sku}): "
                                         f"{PROBLEM_MESSAGES[problem]}",
             "item_id": line.item_id}
            for line in priced.lines for problem in line.problems]


# --- changing a cart --------------------------------------------------------------------


def purchasable(dbsession, variant_id, currency=None):
    """The VariantInfo of a variant that can be put in a cart; 404 or 422 otherwise."""
    info = catalog.variant_infos(dbsession, [variant_id]).get(variant_id)
    if info is None:
        raise NotFound(f"There is no variant {variant_id}.", code="unknown_variant",
                       fields={"variant_id": ["There is no variant with this id."]})
    if not info.is_active:
        raise Unprocessable(f"{info.name} ({info.sku}) is not for sale.",
                            code="variant_unavailable",
                            fields={"variant_id": ["This product is not for sale."]})
    if currency is not None and info.unit_price.currency != currency:
        raise Unprocessable(f"{info.name} ({info.sku}) has no price in {currency}.",
                            code="variant_unavailable",
                            fields={"variant_id": ["This product has no price in the shop "
                                                   "currency."]})
    return info


def _check_line(info, quantity, in_cart, limits):
    """Refuse a line of ``quantity`` units (of which ``in_cart`` were there before)."""
    already = f" (the cart already holds {in_cart})" if in_cart else ""
    if quantity > limits.max_quantity_per_line:
        message = f"At most {limits.max_quantity_per_line} units of one item{already}."
        raise BadRequest("Some fields are not valid.", code="invalid",
                         fields={"quantity": [message]},
                         extra={"max_quantity": limits.max_quantity_per_line,
                                "in_cart": in_cart})
    if quantity > info.available:
        message = f"Only {info.available} available{already}." if info.available \
            else "Out of stock."
        raise Conflict(f"{info.name} ({info.sku}): {message}", code="insufficient_stock",
                       fields={"quantity": [message]},
                       extra={"available_quantity": info.available, "requested": quantity,
                              "in_cart": in_cart})


def _item_values(cart_id, variant_id, quantity, now):
    return {"cart_id": cart_id, "variant_id": variant_id, "quantity": quantity,
            "created_at": now, "updated_at": now}


def add_item(dbsession, cart, variant_id, quantity, limits, currency=None):
    """Add ``quantity`` units of a variant; a variant already in the cart adds to its line.

    Returns the item's id. Refuses (and writes nothing) an unknown variant (404
    ``unknown_variant``), one not for sale (422 ``variant_unavailable``), a line above
    the per-line limit (400), a new line in a full cart (422 ``cart_full``) or more
    than the available stock (409 ``insufficient_stock``). Call it with the cart from
    ``writable_cart`` (locked).
    """
    info = purchasable(dbsession, variant_id, currency)
    now = utcnow()
    upsert = _insert(dbsession)(CartItem.__table__).values(
        **_item_values(cart.id, variant_id, quantity, now))
    upsert = upsert.on_conflict_do_update(
        index_elements=["cart_id", "variant_id"],
        set_={"quantity": CartItem.__table__.c.quantity + upsert.excluded.quantity,
              "updated_at": now},
    ).returning(CartItem.__table__.c.id, CartItem.__table__.c.quantity)
    # the checks read the line as written, so they hold even against a concurrent add;
    # a refusal rolls the savepoint back
    with dbsession.begin_nested():
        item_id, total = dbsession.execute(upsert).one()
        in_cart = total - quantity
        _check_line(info, total, in_cart, limits)
        if not in_cart:
            lines = dbsession.scalar(sa.select(sa.func.count()).where(
                CartItem.cart_id == cart.id))
            if lines > limits.max_lines:
                raise Unprocessable(
                    f"A cart holds at most {limits.max_lines} different items.",
                    code="cart_full", extra={"max_lines": limits.max_lines})
    touch(cart)
    return item_id


def find_item(dbsession, cart, item_id):
    """The item ``item_id`` of ``cart``; 404 for an item of another cart, as for none."""
    item = None
    if cart is not None and isinstance(item_id, int) and 0 < item_id <= MAX_ID:
        item = dbsession.scalars(sa.select(CartItem).where(
            CartItem.id == item_id, CartItem.cart_id == cart.id)).one_or_none()
    if item is None:
        raise NotFound("The cart has no such item.", code="item_not_found")
    return item


def set_quantity(dbsession, cart, item_id, quantity, limits, currency=None):
    """Set an item's quantity, with the checks of ``add_item``."""
    item = find_item(dbsession, cart, item_id)
    info = purchasable(dbsession, item.variant_id, currency)
    _check_line(info, quantity, 0, limits)
    item.quantity = quantity
    touch(cart)
    dbsession.flush()
    return item


def remove_item(dbsession, cart, item_id):
    item = find_item(dbsession, cart, item_id)
    dbsession.delete(item)
    touch(cart)
    dbsession.flush()


def clear(dbsession, cart):
    """Remove every item; the cart stays open (and a guest's token keeps working)."""
    dbsession.execute(sa.delete(CartItem).where(CartItem.cart_id == cart.id)
                      .execution_options(synchronize_session="fetch"))
    touch(cart)
    dbsession.flush()


def mark_ordered(dbsession, cart):
    """Close the cart once an order was placed from it, in the order's transaction.

    Its items stay (for the record) until the clean-up job deletes it after
    ``guest_cart_days``; a guest's token stops working and the customer's next write
    starts a new cart.
    """
    now = utcnow()
    cart.status = ORDERED
    cart.token_hash = None
    cart.ordered_at = now
    cart.updated_at = now
    dbsession.flush()


# --- merge at login ---------------------------------------------------------------------


def merged_quantity(have, incoming, info, limits):
    """The quantity of a line after adding a guest's ``incoming`` units to ``have``.

    Added units are capped by the stock and the per-line limit, but a merge never
    lowers what either cart held: a line the shop cannot fill stays, flagged, for the
    shopper to decide, rather than vanishing at login.
    """
    room = min(limits.max_quantity_per_line, info.available if info.is_active else 0)
    return max(min(have + incoming, room), have or incoming)


def merge(dbsession, guest, user_id, limits):
    """Move the lines of the (locked) ``guest`` cart into the customer's open cart, then
    delete the guest cart, whose token stops working. Returns the customer's cart (None
    if the guest cart was empty and the customer has none).

    A merge may leave more than ``max_lines`` lines: nothing the shopper chose is
    dropped, and adding new lines is refused until some are removed.
    """
    incoming = dbsession.execute(
        sa.select(CartItem.variant_id, CartItem.quantity)
        .where(CartItem.cart_id == guest.id).order_by(CartItem.id)).all()
    dbsession.delete(guest)
    dbsession.flush()
    if not incoming:
        return cart_for_user(dbsession, user_id)
    target = open_user_cart(dbsession, user_id)
    have = dict(dbsession.execute(
        sa.select(CartItem.variant_id, CartItem.quantity)
        .where(CartItem.cart_id == target.id)).all())
    infos = catalog.variant_infos(dbsession, [row.variant_id for row in incoming])
    now = utcnow()
    values = [_item_values(target.id, row.variant_id,
                           merged_quantity(have.get(row.variant_id, 0), row.quantity,
                                           infos[row.variant_id], limits), now)
              for row in incoming if row.variant_id in infos]
    if values:
        upsert = _insert(dbsession)(CartItem.__table__).values(values)
        dbsession.execute(upsert.on_conflict_do_update(
            index_elements=["cart_id", "variant_id"],
            set_={"quantity": upsert.excluded.quantity, "updated_at": now}))
    touch(target)
    dbsession.flush()
    return target


def merge_at_login(request, user):
    """The ``user_logged_in`` hook: merge the guest cart of ``X-Cart-Token``, if any.

    A login never fails because of the cart: a bad or expired token is ignored, and a
    database error while merging is logged and leaves the guest cart as it was.
    """
    token = request.headers.get(TOKEN_HEADER)
    if not token:
        return None
    dbsession = request.dbsession
    try:
        with dbsession.begin_nested():
            guest = cart_for_token(dbsession, token, limits(request).guest_cart_days, lock=True)
            if guest is None:
                return None
            return merge(dbsession, guest, user.id, limits(request))
    except sa.exc.DBAPIError:
        log.exception("cart: merging the guest cart of user %s at login failed", user.id)
        return None


# --- clean-up ---------------------------------------------------------------------------


def purge_expired(dbsession, guest_cart_days, now=None):
    """Delete guest carts unchanged for ``guest_cart_days`` and carts ordered that long
    ago, with their items. Returns how many carts were deleted. Safe to run twice."""
    cutoff = guest_cutoff(guest_cart_days, now)
    result = dbsession.execute(
        sa.delete(Cart)
        .where(Cart.updated_at < cutoff, sa.or_(Cart.user_id.is_(None), Cart.status == ORDERED))
        .execution_options(synchronize_session=False))
    return result.rowcount
