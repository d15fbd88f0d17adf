"""Enumeration protection: unknown codes tried from one client address first cost
nothing, then shut the address out for a while.

The kernel's sign-in protection (``core.accounts.ratelimit``) does the counting: the
same doubling delays, the same table (``core_login_attempt``), so every process
of an installation shares the counts, under keys of their own scope
(``giftcards:<sha256 of the address>``). The first ``lookup_free_misses`` misses
are free; each one after them blocks the address twice as long as the one before,
up to ``lookup_max_block_seconds``; a count is forgotten an hour after its last miss.

A blocked address is refused with 429 and Retry-After before its code is looked
at, on the balance check and on any checkout that carries gift card codes, so
neither is an oracle. A code that is found never clears the count (a guesser
holding one real card could otherwise reset it between guesses).

Misses are written once the request's transaction has ended (a finished
callback, in a transaction of its own), because a checkout with an unknown code
is refused and rolled back, and SQLite's single writer is held by the request
until then.
"""
import hashlib
import logging

from core.accounts import ratelimit as kernel
from core.accounts.services import own_transaction
from core.api.errors import TooManyRequests
from core.db import utcnow

log = logging.getLogger(__name__)

SCOPE = "giftcards"
BASE_DELAY = 2
# core.accounts.ratelimit prunes every count an hour after its last failure
FORGET_AFTER = 3600
# misses of one request counted at most (a checkout takes 20 codes); enough to block
MAX_COUNTED = 20


def policy(settings):
    return kernel.Policy(SCOPE, free=settings["lookup_free_misses"], base_delay=BASE_DELAY,
                         max_delay=settings["lookup_max_block_seconds"],
                         forget_after=FORGET_AFTER)


def address_key(client_addr):
    network = kernel.client_network(client_addr)
    return f"{SCOPE}:{hashlib.sha256(network.encode('utf-8')).hexdigest()}"


def _keys(request):
    settings = request.plugins.settings(SCOPE)
    return [(policy(settings), address_key(getattr(request, "client_addr", None)))]


def check(request):
    """Refuse (429) while the request's client address is blocked."""
    wait = kernel.retry_after(request.dbsession, _keys(request), utcnow())
    if wait:
        raise TooManyRequests(
            f"Too many unknown gift card codes from this address; try again in {wait} "
            "seconds.", code="too_many_attempts", headers={"Retry-After": wait},
            extra={"retry_after": wait})


def record_miss(request, count=1):
    """Count ``count`` unknown codes against the request's client address, once the
    request's transaction is over. Outside a request (a task) nobody is counted."""
    if count <= 0 or not hasattr(request, "add_finished_callback"):
        return
    pending = getattr(request, "_giftcards_misses", None)
    if pending is not None:  # the callback is there already: it counts these too
        pending.append(count)
        return
    pending = request._giftcards_misses = [count]
    keys = _keys(request)
    registry = request.registry

    def write(_request):
        try:
            with own_transaction(registry) as session:
                now = utcnow()
                for _ in range(min(sum(pending), MAX_COUNTED)):
                    kernel.record_failure(session, keys, now)
        except Exception:  # the answer is sent already: log, never fail it
            log.exception("could not count gift card misses")

    request.add_finished_callback(write)
