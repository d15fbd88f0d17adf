"""Login protection: failed sign-ins first slow down, then shut out, an account and an address.

Failures are counted per key: the account (its e-mail) and the client address
(an IPv6 address by its /64, which one subscriber usually holds whole). The first
``free`` failures cost nothing; each failure after them blocks the key for twice as
long as the one before (``base_delay``, then twice that, ...), up to ``max_delay``.
An attempt while a key is blocked is refused with 429 and Retry-After before the
password is looked at, so a guesser learns nothing from it. A count is forgotten
after ``forget_after`` seconds without a failure.

A successful sign-in clears the account's count, never the address's: otherwise
signing in to one's own account would reset the count between guesses at others.

The counts live in ``core_login_attempt`` so that every process of an installation
shares them; callers write them in a transaction of their own, which commits even
though the request that failed is rolled back.
"""
import dataclasses
import datetime as dt
import hashlib
import ipaddress
import math

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.db import utcnow
from core.security import normalize_email

from .models import LoginAttempt


@dataclasses.dataclass(frozen=True)
class Policy:
    scope: str
    free: int  # failures that cost nothing
    base_delay: int  # seconds blocked after the first failure past the free ones
    max_delay: int
    forget_after: int  # seconds without a failure after which counting starts again


ACCOUNT = Policy("account", free=5, base_delay=2, max_delay=900, forget_after=3600)
# higher: many people may share one address (an office, a carrier's NAT)
ADDRESS = Policy("address", free=20, base_delay=1, max_delay=900, forget_after=3600)

_UPSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def delay_after(policy, failures):
    """Seconds a key stays blocked after its ``failures``-th failure."""
    past = failures - policy.free
    if past <= 0:
        return 0
    return min(policy.base_delay * 2 ** min(past - 1, 30), policy.max_delay)


def _key(policy, value):
    return f"{policy.scope}:{hashlib.sha256(value.encode('utf-8')).hexdigest()}"


def client_network(client_addr):
    if not client_addr:
        return "unknown"
    try:
        address = ipaddress.ip_address(client_addr)
    except ValueError:
        return client_addr
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def account_key(email):
    return _key(ACCOUNT, normalize_email(email))


def keys_for(email, client_addr):
    """The (policy, key) pairs one sign-in attempt counts against."""
    return [(ACCOUNT, account_key(email)), (ADDRESS, _key(ADDRESS, client_network(client_addr)))]


def retry_after(session, keys, now=None):
    """Whole seconds until every key may try again; 0 when none is blocked."""
    now = now or utcnow()
    blocked = session.execute(
        sa.select(sa.func.max(LoginAttempt.blocked_until))
        .where(LoginAttempt.key.in_([key for _, key in keys]), LoginAttempt.blocked_until > now)
    ).scalar()
    return max(1, math.ceil((blocked - now).total_seconds())) if blocked is not None else 0


def record_failure(session, keys, now=None):
    """Count one failure against every key and block those past their free failures."""
    now = now or utcnow()
    table = LoginAttempt.__table__
    insert = _UPSERT[session.get_bind().dialect.name]
    for policy, key in sorted(keys, key=lambda pair: pair[1]):  # one lock order: no deadlock
        forgotten = table.c.last_failure_at < now - dt.timedelta(seconds=policy.forget_after)
        statement = insert(table).values(key=key, failures=1, last_failure_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"failures": sa.case((forgotten, 1), else_=table.c.failures + 1),
                  "last_failure_at": now},
        ).returning(table.c.failures)
        failures = session.execute(statement).scalar_one()
        delay = delay_after(policy, failures)
        if delay:
            session.execute(sa.update(table).where(table.c.key == key)
                            .values(blocked_until=now + dt.timedelta(seconds=delay)))
    _forget_old(session, now)


def _forget_old(session, now):
    table = LoginAttempt.__table__
    longest = max(policy.forget_after for policy in (ACCOUNT, ADDRESS))
    # SKIP LOCKED: two processes pruning at once never wait for, or deadlock on, each other
    old = (sa.select(table.c.key)
           .where(table.c.last_failure_at < now - dt.timedelta(seconds=longest))
           .limit(100).with_for_update(skip_locked=True))
    session.execute(sa.delete(table).where(table.c.key.in_(old)))


def clear(session, key):
    session.execute(sa.delete(LoginAttempt.__table__).where(LoginAttempt.key == key))
