"""The coupons' staff logic, callable without HTTP: creating, changing and deactivating
coupons, their usage counts, generating campaign codes and exporting them.

Functions never commit; they raise ``core.api.errors`` that leave the transaction to
be rolled back. The checkout's side is in ``checkout.py`` and ``redemptions.py``.
"""
import csv
import datetime as dt
import io
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.api.errors import BadRequest, Conflict, Unprocessable
from core.db import utcnow
from core.money import Money
from plugins.catalog.models import Category, Product
from plugins.orders.models import Order

from .models import (CATEGORIES, FIXED_AMOUNT, PERCENTAGE, PRODUCTS, Code, Coupon,
                     CouponCategory, CouponProduct, Redemption)

# Crockford's base 32: no I, L, O or U to misread or spell a word with
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHUNK = 500  # codes per IN (...) when looking for taken ones
RULE_FIELDS = ("kind", "percent_hundredths", "amount", "min_subtotal", "starts_at", "ends_at",
               "applies_to", "combinable", "is_active", "name", "per_customer_limit")


def shop_currency(request):
    return request.plugins.settings("catalog")["default_currency"]


def invalid(field, message):
    return BadRequest("Some fields are not valid.", code="invalid", fields={field: [message]})


# --- finding ---------------------------------------------------------------------------------


def find_coupon(dbsession, ref, lock=False):
    """The coupon with id ``ref`` (a string from a URL or an int), or None. ``lock``:
    hold its row for the transaction (orders using it wait, or are waited for)."""
    try:
        coupon_id = int(ref)
    except (TypeError, ValueError):
        return None
    if not 0 < coupon_id < 2**31 or str(ref).strip() != str(coupon_id):
        return None
    query = sa.select(Coupon).where(Coupon.id == coupon_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return dbsession.scalars(query).one_or_none()


def main_code(dbsession, coupon_id):
    """The code staff chose for the coupon (not generated), or None."""
    return dbsession.scalars(sa.select(Code).where(Code.coupon_id == coupon_id,
                                                   Code.batch.is_(None))).first()


def main_codes(dbsession, coupon_ids):
    return dict(dbsession.execute(sa.select(Code.coupon_id, Code.code).where(
        Code.coupon_id.in_(coupon_ids), Code.batch.is_(None))).all()) if coupon_ids else {}


def usage(dbsession, coupon_ids):
    """``{coupon id: {"uses", "released", "discount_total" (minor units), "codes":
    {"total", "generated", "used"}}}``, counted from the uses and the codes."""
    found = {coupon_id: {"uses": 0, "released": 0, "discount_total": 0,
                         "codes": {"total": 0, "generated": 0, "used": 0}}
             for coupon_id in coupon_ids}
    if not coupon_ids:
        return found
    active = Redemption.released_at.is_(None)
    for coupon_id, uses, released, taken, codes_used in dbsession.execute(
            sa.select(Redemption.coupon_id, sa.func.count().filter(active),
                      sa.func.count().filter(~active),
                      sa.func.coalesce(sa.func.sum(Redemption.amount).filter(active), 0),
                      sa.func.count(sa.distinct(Redemption.code_id)).filter(active))
            .where(Redemption.coupon_id.in_(coupon_ids)).group_by(Redemption.coupon_id)):
        # SUM of BIGINT is a NUMERIC on PostgreSQL: back to whole minor units
        found[coupon_id].update(uses=uses, released=released, discount_total=int(taken))
        found[coupon_id]["codes"]["used"] = codes_used
    for coupon_id, total, generated in dbsession.execute(
            sa.select(Code.coupon_id, sa.func.count(),
                      sa.func.count().filter(Code.batch.is_not(None)))
            .where(Code.coupon_id.in_(coupon_ids)).group_by(Code.coupon_id)):
        found[coupon_id]["codes"].update(total=total, generated=generated)
    return found


def list_coupons(dbsession, filters, page, per_page):
    """A page of coupons (newest first) matching ``filters`` (q, active, kind), and their
    number."""
    conditions = []
    if filters.get("q"):
        q = filters["q"].strip()
        by_code = sa.select(Code.coupon_id).where(
            Code.code.contains(q.upper(), autoescape=True), Code.batch.is_(None))
        conditions.append(sa.or_(sa.func.lower(Coupon.name).contains(q.lower(),
                                                                     autoescape=True),
                                 Coupon.id.in_(by_code)))
    if filters.get("active") is not None:
        conditions.append(Coupon.is_active.is_(filters["active"]))
    if filters.get("kind"):
        conditions.append(Coupon.kind == filters["kind"])
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(Coupon).where(*conditions))
    coupons = dbsession.scalars(
        sa.select(Coupon).where(*conditions)
        .options(selectinload(Coupon.categories), selectinload(Coupon.products))
        .order_by(Coupon.created_at.desc(), Coupon.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return coupons, total


# --- writing coupons -------------------------------------------------------------------------


def _minor(value, currency, field):
    try:
        return Money.from_decimal(value, currency).amount
    except ValueError:
        raise invalid(field, f"{currency} amounts have at most the currency's number of "
                             "decimal places.") from None


def _check_currency(data, currency):
    given = data.get("currency")
    if given is not None and given.upper() != currency:
        raise invalid("currency", f"Coupons are in the shop currency, {currency}.")


def _values(data, currency):
    """The columns a body sets, money in minor units of ``currency``."""
    values = {}
    for key in ("name", "kind", "usage_limit", "per_customer_limit", "applies_to",
                "combinable", "is_active"):
        if key in data:
            values[key] = data[key]
    for key in ("starts_at", "ends_at"):
        if key in data:
            values[key] = None if data[key] is None else data[key].astimezone(dt.timezone.utc)
    if "percent" in data:
        values["percent_hundredths"] = data["percent"]
    for key in ("amount", "min_subtotal"):
        if key in data:
            values[key] = None if data[key] is None else _minor(data[key], currency, key)
    return values


def _check_rules(merged, scope):
    """What a coupon must be whatever the fields a request changed; ``scope``: the
    category and product ids it will apply to."""
    kind = merged["kind"]
    if kind == PERCENTAGE and merged.get("percent_hundredths") is None:
        raise invalid("percent", "A percentage coupon needs a percent.")
    if kind != PERCENTAGE and merged.get("percent_hundredths") is not None:
        raise invalid("percent", "Only a percentage coupon has a percent.")
    if kind == FIXED_AMOUNT and not merged.get("amount"):
        raise invalid("amount", "A fixed_amount coupon needs an amount above 0.")
    if kind != FIXED_AMOUNT and merged.get("amount") is not None:
        raise invalid("amount", "Only a fixed_amount coupon has an amount.")
    starts, ends = merged.get("starts_at"), merged.get("ends_at")
    if starts is not None and ends is not None and not starts < ends:
        raise invalid("ends_at", "A coupon must start before it ends.")
    applies_to = merged["applies_to"]
    categories, products = scope
    if applies_to == CATEGORIES and not categories:
        raise invalid("category_ids", "Name the categories the coupon applies to.")
    if applies_to == PRODUCTS and not products:
        raise invalid("product_ids", "Name the products the coupon applies to.")
    if applies_to != CATEGORIES and categories:
        raise invalid("category_ids", "Only a coupon that applies to categories has them.")
    if applies_to != PRODUCTS and products:
        raise invalid("product_ids", "Only a coupon that applies to products has them.")


def _check_exist(dbsession, model, ids, field, noun):
    if not ids:
        return
    known = set(dbsession.scalars(sa.select(model.id).where(model.id.in_(ids))))
    missing = [str(i) for i in ids if i not in known]
    if missing:
        raise invalid(field, f"There is no {noun} {', '.join(missing)}.")


def _check_code_free(dbsession, code, coupon_id=None):
    taken = dbsession.scalar(sa.select(Code.coupon_id).where(Code.code == code))
    if taken is not None and taken != coupon_id:
        raise Conflict(f"The code {code} is taken by another coupon.", code="coupon_code_taken",
                       fields={"code": ["This code is taken."]})


def _set_scope(coupon, categories, products):
    coupon.categories = [CouponCategory(category_id=i) for i in sorted(set(categories))]
    coupon.products = [CouponProduct(product_id=i) for i in sorted(set(products))]


def _flush_code(dbsession):
    """Flush, turning a code that another request just took into a 409."""
    try:
        with dbsession.begin_nested():
            dbsession.flush()
    except sa.exc.IntegrityError:
        raise Conflict("The code was taken by another coupon meanwhile.",
                       code="coupon_code_taken", fields={"code": ["This code is taken."]}
                       ) from None


def create_coupon(dbsession, data, currency):
    """A new coupon from a validated ``CouponBody``; ``currency``: the shop's."""
    _check_currency(data, currency)
    values = _values(data, currency)
    categories, products = data.get("category_ids", []), data.get("product_ids", [])
    _check_rules(values, (categories, products))
    _check_exist(dbsession, Category, categories, "category_ids", "category")
    _check_exist(dbsession, Product, products, "product_ids", "product")
    code = data.get("code")
    if code is not None:
        _check_code_free(dbsession, code)
    coupon = Coupon(currency=currency, times_used=0, **values)
    _set_scope(coupon, categories, products)
    dbsession.add(coupon)
    dbsession.flush()
    if code is not None:
        dbsession.add(Code(coupon_id=coupon.id, code=code))
        _flush_code(dbsession)
    return coupon


def _count_uses(dbsession, coupon_id):
    return dbsession.scalar(sa.select(sa.func.count()).select_from(Redemption).where(
        Redemption.coupon_id == coupon_id, Redemption.released_at.is_(None)))


def update_coupon(dbsession, coupon, data):
    """Change a coupon with a validated ``CouponPatch``. The coupon is locked first: an
    order using it meanwhile waits for this change, or this change for the order."""
    coupon = find_coupon(dbsession, coupon.id, lock=True)
    data = dict(data)
    _check_currency(data, coupon.currency)
    values = _values(data, coupon.currency)
    merged = {key: getattr(coupon, key) for key in RULE_FIELDS}
    merged.update(values)
    if "kind" in values:  # the other kinds' values go with the old kind
        for key, kind in (("percent_hundredths", PERCENTAGE), ("amount", FIXED_AMOUNT)):
            if key not in values and values["kind"] != kind:
                merged[key] = values[key] = None
    if "applies_to" in values and values["applies_to"] != coupon.applies_to:
        data.setdefault("category_ids", [])
        data.setdefault("product_ids", [])
    categories = data.get("category_ids", [c.category_id for c in coupon.categories])
    products = data.get("product_ids", [p.product_id for p in coupon.products])
    _check_rules(merged, (categories, products))
    _check_exist(dbsession, Category, categories, "category_ids", "category")
    _check_exist(dbsession, Product, products, "product_ids", "product")
    if "usage_limit" in values and values["usage_limit"] is not None:
        # without a limit the uses were not counted on the row (redemptions.py): count
        # them now, under the lock, which waited for the orders using it to end
        used = coupon.times_used if coupon.usage_limit is not None \
            else _count_uses(dbsession, coupon.id)
        if used > values["usage_limit"]:
            raise Unprocessable(f"The coupon was used {used} time(s) already; the limit "
                                "cannot be lower.", code="usage_limit_below_uses",
                                fields={"usage_limit": [f"At least {used}."]},
                                extra={"uses": used})
        values["times_used"] = used
    for key, value in values.items():
        setattr(coupon, key, value)
    if "category_ids" in data or "product_ids" in data:
        _set_scope(coupon, categories, products)
    if "code" in data:
        _change_code(dbsession, coupon, data["code"])
    coupon.updated_at = utcnow()
    dbsession.flush()
    return coupon


def _change_code(dbsession, coupon, new):
    current = main_code(dbsession, coupon.id)
    if new is None:
        if current is None:
            return
        used = dbsession.scalar(sa.select(Redemption.id).where(Redemption.code_id == current.id)
                                .limit(1))
        if used is not None:
            raise Conflict(f"The code {current.code} was used on orders; deactivate the "
                           "coupon, or give it another code.", code="code_in_use",
                           fields={"code": ["This code was used on orders."]})
        dbsession.delete(current)
        dbsession.flush()
        return
    _check_code_free(dbsession, new, coupon.id)
    if current is None:
        dbsession.add(Code(coupon_id=coupon.id, code=new))
    else:
        # the uses keep the code as it was typed (Redemption.code)
        current.code = new
    _flush_code(dbsession)


def deactivate(dbsession, coupon):
    coupon = find_coupon(dbsession, coupon.id, lock=True)
    coupon.is_active = False
    coupon.updated_at = utcnow()
    dbsession.flush()
    return coupon


# --- campaigns: generated codes -----------------------------------------------------------


def _random(length):
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def _taken(dbsession, codes):
    codes = sorted(codes)
    taken = set()
    for start in range(0, len(codes), CHUNK):
        taken.update(dbsession.scalars(sa.select(Code.code).where(
            Code.code.in_(codes[start:start + CHUNK]))))
    return taken


def generate_codes(dbsession, coupon, count, prefix="", length=8, uses_per_code=1):
    """``(batch, codes)``: ``count`` new unique codes for ``coupon``, each usable
    ``uses_per_code`` times, inserted at once; ``batch`` names this run."""
    head = f"{prefix}-" if prefix else ""
    codes, wanted = [], set()
    while len(codes) < count:
        fresh = {head + _random(length) for _ in range(count - len(codes))} - wanted
        fresh -= _taken(dbsession, fresh)
        wanted |= fresh
        codes.extend(sorted(fresh)[:count - len(codes)])
    batch = _random(10)
    now = utcnow()
    rows = [{"coupon_id": coupon.id, "code": code, "batch": batch,
             "usage_limit": uses_per_code, "times_used": 0, "created_at": now}
            for code in codes]
    try:
        with dbsession.begin_nested():
            dbsession.execute(sa.insert(Code), rows)
    except sa.exc.IntegrityError:
        # another request generated one of these codes between the check and the insert
        raise Conflict("Some generated codes were taken meanwhile; try again.",
                       code="code_collision") from None
    coupon.updated_at = now
    dbsession.flush()
    return batch, codes


def codes_query(coupon_id, batch=None, used=None):
    """``(Code, uses)`` rows of a coupon, oldest first: uses by orders that did not fail
    and were not cancelled, counted from the ledger."""
    uses = (sa.select(sa.func.count()).where(Redemption.code_id == Code.id,
                                              Redemption.released_at.is_(None))
            .correlate(Code).scalar_subquery())
    query = sa.select(Code, uses.label("uses")).where(Code.coupon_id == coupon_id)
    if batch is not None:
        query = query.where(Code.batch == batch)
    if used is not None:
        query = query.where((uses > 0) if used else (uses == 0))
    return query.order_by(Code.id)


def codes_page(dbsession, coupon, filters, page, per_page):
    """A page of ``(Code, uses)`` and their number."""
    query = codes_query(coupon.id, filters.get("batch"), filters.get("used"))
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(
        query.with_only_columns(Code.id).subquery()))
    rows = dbsession.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


CSV_COLUMNS = ("code", "batch", "usage_limit", "times_used", "created_at")


def codes_csv(dbsession, coupon, batch=None):
    """The coupon's codes (or one batch's) as CSV text, oldest first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for code, uses in dbsession.execute(codes_query(coupon.id, batch)):
        writer.writerow([code.code, code.batch or "", "" if code.usage_limit is None
                         else code.usage_limit, uses, code.created_at.isoformat()])
    return out.getvalue()


def redemptions_page(dbsession, coupon, page, per_page):
    """A page of the coupon's uses, newest first: ``[(Redemption, order number)]``."""
    condition = Redemption.coupon_id == coupon.id
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(Redemption)
                             .where(condition))
    rows = dbsession.execute(
        sa.select(Redemption, Order.number).join(Order, Order.id == Redemption.order_id)
        .where(condition).order_by(Redemption.created_at.desc(), Redemption.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total
