"""The inventory service: the only code that changes stock.

Each operation is ONE conditional UPDATE of the variant's ``catalog_stock`` row
(``... WHERE on_hand - reserved >= :quantity RETURNING ...``) followed by a row
in the ledger (``catalog_stock_movement``). The condition is checked by the
database on the latest committed row: under PostgreSQL's READ COMMITTED a
concurrent transaction waits for the row lock and re-checks the condition, so
two orders can never both take the last unit, without SELECT ... FOR UPDATE.
``reserve_many`` and ``move_many`` do the same for several variants with one
UPDATE and one INSERT, all or none, after locking the rows in variant id order
(``FOR UPDATE``) so that two orders for the same variants cannot deadlock.
The CHECK constraints on the table (on_hand >= 0, 0 <= reserved <= on_hand) are
the last line of defence.

The caller owns the transaction: the orders plugin calls these inside the
transaction that places (or cancels, ships, returns) the order, so the stock
change commits or rolls back with it.

Quantities are whole units. Semantics for an order's life:

    reserve   order placed       reserved += q   (fails if available < q)
    release   order cancelled    reserved -= q   (before it shipped)
    commit    order shipped      on_hand -= q, reserved -= q
    restock   goods returned     on_hand += q
"""
import dataclasses

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key
from sqlalchemy.orm.attributes import set_committed_value

from core.api.errors import Conflict, NotFound, Unprocessable
from core.db import utcnow

from .models import Product, Stock, StockMovement, Variant

# the tables, for the Core statements of several variants at once (_apply_many)
STOCK, VARIANT = Stock.__table__, Variant.__table__
MAX_QUANTITY = 10**9
KINDS = ("initial", "adjustment", "import", "reserve", "release", "commit", "restock")


@dataclasses.dataclass(frozen=True)
class StockLevel:
    variant_id: int
    on_hand: int
    reserved: int

    @property
    def available(self):
        return max(0, self.on_hand - self.reserved)

    def as_dict(self):
        return {"variant_id": self.variant_id, "on_hand": self.on_hand,
                "reserved": self.reserved, "available": self.available}


class InsufficientStock(Unprocessable):
    """Not enough available units; ``shortages`` lists each variant that is short."""

    code = "insufficient_stock"

    def __init__(self, shortages):
        self.shortages = shortages
        what = ", ".join(f"variant {s['variant_id']} ({s['available']} of {s['requested']})"
                         for s in shortages)
        super().__init__(f"Not enough stock: {what}.", extra={"shortages": shortages})


class UnknownVariant(NotFound):
    code = "unknown_variant"


class StockConflict(Conflict):
    """The change would break the stock rules (release more than reserved, ...)."""

    code = "stock_conflict"


def _quantity(quantity, allow_negative=False):
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise TypeError(f"a quantity is an int, not {type(quantity).__name__}")
    if abs(quantity) > MAX_QUANTITY or quantity == 0 or (quantity < 0 and not allow_negative):
        raise ValueError(f"quantity {quantity} is out of range")
    return quantity


def _apply(dbsession, variant_id, kind, on_hand_change, reserved_change, condition,
           reason="", reference=None, user_id=None):
    """The conditional UPDATE and its ledger row; None if the condition did not hold."""
    statement = (
        sa.update(Stock)
        .where(Stock.variant_id == variant_id, *condition)
        .values(on_hand=Stock.on_hand + on_hand_change,
                reserved=Stock.reserved + reserved_change)
        .returning(Stock.on_hand, Stock.reserved)
        .execution_options(synchronize_session="fetch")
    )
    row = dbsession.execute(statement).first()
    if row is None:
        return None
    dbsession.execute(sa.insert(StockMovement).values(
        variant_id=variant_id,
        sku=sa.select(Variant.sku).where(Variant.id == variant_id).scalar_subquery(),
        kind=kind, on_hand_change=on_hand_change, reserved_change=reserved_change,
        on_hand_after=row.on_hand, reserved_after=row.reserved,
        reason=(reason or "")[:300], reference=reference[:200] if reference else None,
        user_id=user_id,
    ))
    return StockLevel(variant_id, row.on_hand, row.reserved)


def _apply_many(dbsession, kind, wanted, on_hand_sign, reserved_sign, condition,
                reference=None):
    """``_apply`` for several variants in a fixed number of statements, all or none.

    ``wanted``: ``{variant_id: quantity}`` (positive); each variant's on hand and
    reserved change by ``sign * quantity``, where ``condition(quantity)`` (SQL
    expressions, the quantity a column) holds. Returns ``(levels, short)``:
    ``{variant_id: StockLevel}`` and ``[]`` when it held for every variant; otherwise
    nothing is changed, and ``short`` lists the variants where it did not (or that
    have no stock row), in id order.
    """
    if not wanted:
        return {}, []
    ids = sorted(wanted)
    stock = STOCK.c
    if dbsession.get_bind().dialect.name != "sqlite":  # SQLite locks the database
        # lock the rows in variant id order, as one by one would: two orders for the
        # same variants wait for each other instead of deadlocking
        dbsession.execute(sa.select(stock.variant_id).where(stock.variant_id.in_(ids))
                          .order_by(stock.variant_id).with_for_update())
    # SELECT ... UNION ALL SELECT ...: VALUES with named columns is not SQLite's
    rows = sa.union_all(*(
        sa.select(sa.literal(v, sa.Integer).label("variant_id"),
                  sa.literal(wanted[v], sa.Integer).label("quantity"))
        for v in ids)).subquery("wanted")

    def changes(direction):
        moved = {}
        for name, sign in (("on_hand", on_hand_sign), ("reserved", reserved_sign)):
            if sign:
                column = stock[name]
                moved[name] = column + rows.c.quantity if sign * direction > 0 else \
                    column - rows.c.quantity
        return moved

    # Core statements on the table (the ORM's bulk UPDATE costs about twice the CPU);
    # _sync does what its synchronize_session would
    done = {row.variant_id: row for row in dbsession.execute(
        sa.update(STOCK)
        .where(stock.variant_id == rows.c.variant_id, *condition(rows.c.quantity))
        .values(**changes(1))
        # a subquery: SQLite's RETURNING may not name the tables of the FROM
        .returning(stock.variant_id, stock.on_hand, stock.reserved,
                   sa.select(VARIANT.c.sku).where(VARIANT.c.id == stock.variant_id)
                   .scalar_subquery().label("sku")))}
    short = [v for v in ids if v not in done]
    if short:
        # all or none without a savepoint (two statements more on every order): the
        # rows that moved are moved back, exactly, since no other transaction can
        # change them before this one ends (they are locked; SQLite: the database is)
        if done:
            _sync(dbsession, dbsession.execute(
                sa.update(STOCK)
                .where(stock.variant_id == rows.c.variant_id,
                       stock.variant_id.in_(sorted(done)))
                .values(**changes(-1))
                .returning(stock.variant_id, stock.on_hand, stock.reserved)))
        return {}, short
    _sync(dbsession, done.values())
    dbsession.execute(sa.insert(StockMovement.__table__), [{
        "variant_id": v, "sku": done[v].sku, "kind": kind,
        "on_hand_change": on_hand_sign * wanted[v],
        "reserved_change": reserved_sign * wanted[v],
        "on_hand_after": done[v].on_hand, "reserved_after": done[v].reserved,
        "reason": "", "reference": reference[:200] if reference else None,
        "user_id": None, "created_at": utcnow()} for v in ids])
    return {v: StockLevel(v, done[v].on_hand, done[v].reserved) for v in ids}, []


def _sync(dbsession, rows):
    """The ``Stock`` objects ``dbsession`` holds take the levels of ``rows`` (variant_id,
    on_hand, reserved) that a Core UPDATE returned; their ``updated_at`` is read again
    when asked for."""
    for row in rows:
        held = dbsession.identity_map.get(identity_key(Stock, row.variant_id))
        if held is not None:
            set_committed_value(held, "on_hand", row.on_hand)
            set_committed_value(held, "reserved", row.reserved)
            dbsession.expire(held, ["updated_at"])


def levels(dbsession, variant_ids):
    """``{variant_id: StockLevel}`` for the given variants (unknown ones are left out)."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    rows = dbsession.execute(
        sa.select(Stock.variant_id, Stock.on_hand, Stock.reserved)
        .where(Stock.variant_id.in_(ids))
    ).all()
    return {r.variant_id: StockLevel(r.variant_id, r.on_hand, r.reserved) for r in rows}


def low_stock(dbsession, threshold, limit=10):
    """Variants of active products with at most ``threshold`` units available, fewest first."""
    available = Stock.on_hand - Stock.reserved
    return dbsession.execute(
        sa.select(Variant.id, Variant.sku, Product.id.label("product_id"),
                  Product.name, available.label("available"))
        .join(Stock, Stock.variant_id == Variant.id)
        .join(Product, Product.id == Variant.product_id)
        .where(Product.is_active, available <= threshold)
        .order_by(available, Variant.sku).limit(limit)).all()


def movements(dbsession, variant_id, page=1, per_page=20):
    """A page of the variant's ledger, newest first, and the number of its rows."""
    total = dbsession.scalar(sa.select(sa.func.count()).where(
        StockMovement.variant_id == variant_id))
    rows = dbsession.scalars(
        sa.select(StockMovement).where(StockMovement.variant_id == variant_id)
        .order_by(StockMovement.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def level(dbsession, variant_id):
    found = levels(dbsession, [variant_id]).get(variant_id)
    if found is None:
        raise UnknownVariant(f"There is no variant {variant_id}.")
    return found


def reserve(dbsession, variant_id, quantity, reference=None):
    """Promise ``quantity`` units to an order; InsufficientStock if fewer are available."""
    _quantity(quantity)
    done = _apply(dbsession, variant_id, "reserve", 0, quantity,
                  [Stock.on_hand - Stock.reserved >= quantity], reference=reference)
    if done is None:
        current = level(dbsession, variant_id)
        raise InsufficientStock([{"variant_id": variant_id, "requested": quantity,
                                  "available": current.available}])
    return done


def reserve_many(dbsession, lines, reference=None):
    """Reserve several variants at once: all of them, or none (InsufficientStock lists
    every variant that is short).

    ``lines``: pairs ``(variant_id, quantity)``; the same variant twice adds up.
    A fixed number of statements however many variants; their rows are locked in
    variant id order, so two orders for the same variants cannot deadlock.
    """
    wanted = _wanted(lines)
    done, short = _apply_many(dbsession, "reserve", wanted, 0, 1,
                              lambda quantity: [STOCK.c.on_hand - STOCK.c.reserved
                                                >= quantity],
                              reference=reference)
    if not short:
        return done
    current = levels(dbsession, short)
    missing = [v for v in short if v not in current]
    if missing:
        raise UnknownVariant(f"There is no variant {missing[0]}.")
    raise InsufficientStock([{"variant_id": v, "requested": wanted[v],
                              "available": current[v].available} for v in short])


def _wanted(lines):
    wanted = {}
    for variant_id, quantity in lines:
        wanted[variant_id] = wanted.get(variant_id, 0) + _quantity(quantity)
    return wanted


def release(dbsession, variant_id, quantity, reference=None):
    """Give reserved units back (an order cancelled before it shipped)."""
    _quantity(quantity)
    done = _apply(dbsession, variant_id, "release", 0, -quantity,
                  [Stock.reserved >= quantity], reference=reference)
    if done is None:
        current = level(dbsession, variant_id)
        raise StockConflict(f"Cannot release {quantity} units of variant {variant_id}: "
                            f"only {current.reserved} are reserved.")
    return done


def commit(dbsession, variant_id, quantity, reference=None):
    """Reserved units leave the warehouse (the order shipped): on hand and reserved drop."""
    _quantity(quantity)
    done = _apply(dbsession, variant_id, "commit", -quantity, -quantity,
                  [Stock.reserved >= quantity], reference=reference)
    if done is None:
        current = level(dbsession, variant_id)
        raise StockConflict(f"Cannot ship {quantity} units of variant {variant_id}: "
                            f"only {current.reserved} are reserved.")
    return done


def restock(dbsession, variant_id, quantity, reference=None, reason=""):
    """Units come back on hand (a returned order)."""
    _quantity(quantity)
    done = _apply(dbsession, variant_id, "restock", quantity, 0, [], reason=reason,
                  reference=reference)
    if done is None:
        raise UnknownVariant(f"There is no variant {variant_id}.")
    return done


# what release, commit and restock do to (on hand, reserved), and their condition
_MOVES = {
    "release": (0, -1, lambda quantity: [STOCK.c.reserved >= quantity]),
    "commit": (-1, -1, lambda quantity: [STOCK.c.reserved >= quantity]),
    "restock": (1, 0, lambda quantity: []),
}


def move_many(dbsession, kind, lines, reference=None):
    """``release``, ``commit`` or ``restock`` (``kind``) several variants at once, in a
    fixed number of statements: all of them, or none, refused for the first variant
    that cannot move as the one-variant functions refuse it.

    ``lines``: pairs ``(variant_id, quantity)``; the same variant twice adds up.
    """
    on_hand_sign, reserved_sign, condition = _MOVES[kind]
    wanted = _wanted(lines)
    done, short = _apply_many(dbsession, kind, wanted, on_hand_sign, reserved_sign,
                              condition, reference=reference)
    if not short:
        return done
    variant_id = short[0]
    if kind == "restock":
        raise UnknownVariant(f"There is no variant {variant_id}.")
    current = level(dbsession, variant_id)
    verb = "release" if kind == "release" else "ship"
    raise StockConflict(f"Cannot {verb} {wanted[variant_id]} units of variant {variant_id}: "
                        f"only {current.reserved} are reserved.")


def adjust(dbsession, variant_id, change, reason, reference=None, user_id=None,
           kind="adjustment"):
    """Add (or, negative, remove) units on hand, for a reason kept in the ledger.

    On hand never drops below what is reserved: StockConflict instead.
    """
    _quantity(change, allow_negative=True)
    condition = [Stock.on_hand + change >= Stock.reserved] if change < 0 else []
    done = _apply(dbsession, variant_id, kind, change, 0, condition, reason=reason,
                  reference=reference, user_id=user_id)
    if done is None:
        current = level(dbsession, variant_id)
        raise StockConflict(
            f"Cannot remove {-change} units of variant {variant_id}: {current.on_hand} are "
            f"on hand and {current.reserved} of them are reserved for orders.",
            extra={"stock": current.as_dict()})
    return done


def set_on_hand(dbsession, variant_id, on_hand, reason, reference=None, user_id=None,
                kind="adjustment"):
    """Set the units on hand to a counted number; the ledger records the difference."""
    if not isinstance(on_hand, int) or isinstance(on_hand, bool):
        raise TypeError(f"on hand is an int, not {type(on_hand).__name__}")
    if not 0 <= on_hand <= MAX_QUANTITY:
        raise ValueError(f"on hand {on_hand!r} is out of range")
    for _ in range(5):
        current = level(dbsession, variant_id)
        change = on_hand - current.on_hand
        if change == 0:
            return current
        if on_hand < current.reserved:
            raise StockConflict(
                f"Cannot set variant {variant_id} to {on_hand} on hand: {current.reserved} "
                "are reserved for orders.", extra={"stock": current.as_dict()})
        # only if nobody changed it since we read it; otherwise read again
        done = _apply(dbsession, variant_id, kind, change, 0,
                      [Stock.on_hand == current.on_hand, Stock.reserved <= on_hand],
                      reason=reason, reference=reference, user_id=user_id)
        if done is not None:
            return done
    raise StockConflict(f"The stock of variant {variant_id} keeps changing; try again.")
