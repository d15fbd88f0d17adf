"""Accounts: registration, sign-in, refresh tokens, passwords, addresses.

Callable without HTTP (the CLI uses them). Functions that take a ``dbsession`` never
commit; those that take the ``registry`` write in a transaction of their own (see
``own_transaction``) because what they record must outlive a refused request.
"""
import contextlib
import datetime as dt
import hashlib
import logging
import secrets
import uuid

import sqlalchemy as sa
from pyramid.settings import asbool

from core.api.errors import (APIError, Conflict, Forbidden, TooManyRequests, Unauthorized,
                             Unprocessable)
from core.api.pagination import paginate_query
from core.db import utcnow
from core.notifications import notify
from core.security import (User, create_user, find_user, issue_access_token,
                           refresh_token_ttl, spend_password_check_time)

from . import ratelimit
from .models import PASSWORD_RESET, VERIFY_EMAIL, AccountToken, Address, RefreshToken

log = logging.getLogger(__name__)

PASSWORD_RESET_TTL = 3600
VERIFY_EMAIL_TTL = 2 * 24 * 3600
MAIL_INTERVAL = 60  # at most one reset (or verification) mail a minute per account
MAX_ADDRESSES = 50


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token():
    return secrets.token_urlsafe(32)  # 256 bits


@contextlib.contextmanager
def own_transaction(registry):
    """A session outside the request's transaction, committed even when an APIError
    leaves the block.

    A failed sign-in or a reused refresh token answers with an error, which makes
    pyramid_tm abort the request's transaction; the failure count and the revoked
    token family must be kept all the same. Any other exception rolls back.
    """
    session = registry["dbsession_factory"]()
    try:
        yield session
    except APIError:
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    else:
        session.commit()
    finally:
        session.close()


# --- registration and sign-in --------------------------------------------------------


def email_taken():
    message = "An account with this e-mail address exists already."
    return Conflict(message, code="email_taken", fields={"email": [message]})


def register_user(dbsession, email, password, name=""):
    """A new customer; 409 if the e-mail is taken (also by a concurrent registration).

    The insert comes first, its unique index deciding: a SQLite transaction that
    reads before its first write fails when another process wrote in between.
    """
    try:
        with dbsession.begin_nested():
            user = create_user(dbsession, email, password, name=name)
    except sa.exc.IntegrityError:
        raise email_taken() from None
    return user


def too_many_attempts(seconds):
    return TooManyRequests(
        f"Too many failed sign-ins; try again in {seconds} seconds.",
        headers={"Retry-After": seconds},
        extra={"retry_after": seconds})


def verify_credentials(registry, password, client_addr, email=None, user_id=None):
    """The id of the user (found by ``email`` or ``user_id``) if ``password`` is theirs.

    Refuses with 429 while the account or the client address is blocked, and counts
    the outcome in the login-attempt table, in two transactions of its own: the first
    only reads, the second begins with its write (a SQLite transaction that reads
    before it writes fails, instead of waiting, when another process wrote meanwhile).
    """
    now = utcnow()
    with own_transaction(registry) as session:
        user = find_user(session, email) if email is not None else session.get(User, user_id)
        keys = ratelimit.keys_for(user.email if user is not None else email or "", client_addr)
        wait = ratelimit.retry_after(session, keys, now)
        if wait:
            raise too_many_attempts(wait)
        if user is not None:
            correct = user.check_password(password)
        else:
            correct = spend_password_check_time(password)
    with own_transaction(registry) as session:
        if correct:
            ratelimit.clear(session, keys[0][1])  # the account's count, not the address's
        else:
            ratelimit.record_failure(session, keys, now)
    return user.id if correct else None


def account_inactive():
    return Forbidden("This account is deactivated.", code="account_inactive")


def log_in(registry, dbsession, email, password, client_addr):
    """(user, token pair) for a correct e-mail and password of an active account."""
    user_id = verify_credentials(registry, password, client_addr, email=email)
    if user_id is None:
        raise Unauthorized("The e-mail address or the password is not correct.",
                           code="invalid_credentials")
    now = utcnow()
    # Rotated tokens are kept until they expire, to recognise their reuse; then they
    # go. Written first: a SQLite transaction that reads before its first write fails
    # instead of waiting when another process wrote in between.
    dbsession.execute(sa.delete(RefreshToken).where(
        RefreshToken.user_id == user_id, RefreshToken.expires_at <= now))
    user = dbsession.get(User, user_id)
    if not user.is_active:
        raise account_inactive()
    return user, issue_tokens(dbsession, registry.settings, user, now=now)


# --- tokens --------------------------------------------------------------------------


def issue_tokens(dbsession, settings, user, family_id=None, now=None):
    """A new access token and refresh token; without ``family_id`` a new sign-in."""
    now = now or utcnow()
    refresh = _new_token()
    refresh_ttl = refresh_token_ttl(settings)
    dbsession.add(RefreshToken(
        user_id=user.id, family_id=family_id or uuid.uuid4().hex, token_hash=hash_token(refresh),
        created_at=now, expires_at=now + dt.timedelta(seconds=refresh_ttl)))
    dbsession.flush()
    access, access_ttl = issue_access_token(settings, user)
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": access_ttl, "refresh_expires_in": refresh_ttl}


def _revoke(session, criterion, now):
    session.execute(
        sa.update(RefreshToken)
        .where(criterion, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False))


def revoke_family(session, family_id, now=None):
    """End one sign-in: every token rotated from the same login."""
    _revoke(session, RefreshToken.family_id == family_id, now)


def revoke_all_refresh_tokens(session, user_id, now=None):
    """Sign the user out everywhere (no new access tokens; issued ones run out)."""
    _revoke(session, RefreshToken.user_id == user_id, now)


def refresh(registry, token):
    """Rotate a refresh token: (user, new pair). The used token stops working.

    The claim is one UPDATE that only succeeds on an unused, unrevoked, unexpired
    token, so two requests racing with one token get one pair between them. A token
    that was already rotated is a copy in the wrong hands, or the original after the
    thief used the copy: its whole family is revoked, which signs both out.
    """
    now = utcnow()
    token_hash = hash_token(token)
    with own_transaction(registry) as session:
        claimed = session.execute(
            sa.update(RefreshToken)
            .where(RefreshToken.token_hash == token_hash, RefreshToken.rotated_at.is_(None),
                   RefreshToken.revoked_at.is_(None), RefreshToken.expires_at > now)
            .values(rotated_at=now)
            .returning(RefreshToken.user_id, RefreshToken.family_id)
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if claimed is None:
            known = session.execute(
                sa.select(RefreshToken).where(RefreshToken.token_hash == token_hash)
            ).scalar_one_or_none()
            if known is not None and known.rotated_at is not None and known.revoked_at is None:
                revoke_family(session, known.family_id, now)
                log.warning("refresh token reused: revoked token family %s of user %s",
                            known.family_id, known.user_id)
                raise Unauthorized("This refresh token was used before; every token of "
                                   "its sign-in is revoked. Sign in again.",
                                   code="refresh_token_reused")
            raise Unauthorized("The refresh token is not valid, or has expired or been "
                               "revoked. Sign in again.", code="invalid_refresh_token")
        user = session.get(User, claimed.user_id)
        if not user.is_active:
            revoke_family(session, claimed.family_id, now)
            raise account_inactive()
        return user, issue_tokens(session, registry.settings, user, claimed.family_id, now)


def log_out(dbsession, token):
    """Revoke the sign-in (token family) a refresh token belongs to; unknown tokens
    are ignored, as RFC 7009 asks of a revocation endpoint."""
    family_id = dbsession.execute(
        sa.select(RefreshToken.family_id).where(RefreshToken.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if family_id is not None:
        revoke_family(dbsession, family_id)


# --- passwords and e-mail tokens -----------------------------------------------------


def set_password(dbsession, user, password, now=None):
    """New password: every refresh token and outstanding reset link stops working."""
    now = now or utcnow()
    user.set_password(password)
    revoke_all_refresh_tokens(dbsession, user.id, now)
    dbsession.execute(
        sa.update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == PASSWORD_RESET,
               AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    dbsession.flush()


def create_account_token(dbsession, user, purpose, ttl, now=None):
    now = now or utcnow()
    token = _new_token()
    dbsession.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=hash_token(token),
                               created_at=now, expires_at=now + dt.timedelta(seconds=ttl)))
    dbsession.flush()
    return token


def redeem_account_token(dbsession, token, purpose):
    """The user a single-use token was made for, marking it used; None if it is not
    valid (unknown, used, expired or for another purpose)."""
    now = utcnow()
    user_id = dbsession.execute(
        sa.update(AccountToken)
        .where(AccountToken.token_hash == hash_token(token), AccountToken.purpose == purpose,
               AccountToken.used_at.is_(None), AccountToken.expires_at > now)
        .values(used_at=now)
        .returning(AccountToken.user_id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return dbsession.get(User, user_id) if user_id is not None else None


def _mailed_recently(dbsession, user, purpose):
    since = utcnow() - dt.timedelta(seconds=MAIL_INTERVAL)
    return dbsession.execute(
        sa.select(AccountToken.id).where(AccountToken.user_id == user.id,
                                         AccountToken.purpose == purpose,
                                         AccountToken.created_at > since).limit(1)
    ).first() is not None


def _link(settings, name, token):
    """The frontend's link for ``token`` if the shop configured one, else None (a code)."""
    template = settings.get(name)
    return template.replace("{token}", token) if template else None


def request_password_reset(request, email):
    """Mail a reset link if an active account has this address; silent otherwise, so
    that the answer never tells whether an address is registered."""
    dbsession, settings = request.dbsession, request.registry.settings
    user = find_user(dbsession, email)
    if user is None or not user.is_active or _mailed_recently(dbsession, user, PASSWORD_RESET):
        return
    token = create_account_token(dbsession, user, PASSWORD_RESET, PASSWORD_RESET_TTL)
    notify(request, "core/password_reset", user.email, {
        "name": user.name, "token": token,
        "link": _link(settings, "emporium.password_reset_url", token),
        "endpoint": "/api/v1/auth/password-reset/confirm",
        "minutes": PASSWORD_RESET_TTL // 60}, sensitive=True)


def send_verification_mail(request, user):
    if user.email_verified_at is not None or _mailed_recently(request.dbsession, user,
                                                              VERIFY_EMAIL):
        return
    token = create_account_token(request.dbsession, user, VERIFY_EMAIL, VERIFY_EMAIL_TTL)
    notify(request, "core/verify_email", user.email, {
        "name": user.name, "token": token,
        "link": _link(request.registry.settings, "emporium.email_verification_url", token),
        "endpoint": "/api/v1/auth/verify-email",
        "hours": VERIFY_EMAIL_TTL // 3600}, sensitive=True)


def verification_on_registration(settings):
    return asbool(settings.get("emporium.email_verification", False))


def verify_email(dbsession, token):
    user = redeem_account_token(dbsession, token, VERIFY_EMAIL)
    if user is not None and user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


# --- administration ------------------------------------------------------------------


def list_users(dbsession, staff_only=False):
    users = dbsession.execute(sa.select(User).order_by(User.id)).scalars().all()
    return [user for user in users if user.is_staff] if staff_only else users


def set_active(dbsession, user, active):
    """Deactivating signs the user out everywhere: refresh and login are refused at
    once, access tokens already issued run out within their lifetime."""
    user.is_active = active
    if not active:
        revoke_all_refresh_tokens(dbsession, user.id)
    dbsession.flush()


# --- addresses -----------------------------------------------------------------------


def _lock_addresses(dbsession, user_id):
    # the user row serialises one user's address writes (first address, default switch)
    dbsession.execute(sa.select(User.id).where(User.id == user_id).with_for_update())


def _clear_default(dbsession, user_id, keep_id=None):
    statement = sa.update(Address).where(Address.user_id == user_id, Address.is_default)
    if keep_id is not None:
        statement = statement.where(Address.id != keep_id)
    dbsession.execute(statement.values(is_default=False))


def list_addresses(dbsession, user_id, page, per_page):
    statement = (sa.select(Address).where(Address.user_id == user_id)
                 .order_by(Address.is_default.desc(), Address.id))
    return paginate_query(dbsession, statement, page, per_page)


def add_address(dbsession, user_id, data):
    """A new address; the first one, or one marked so, becomes the default."""
    _lock_addresses(dbsession, user_id)
    count = dbsession.execute(
        sa.select(sa.func.count()).select_from(Address).where(Address.user_id == user_id)
    ).scalar_one()
    if count >= MAX_ADDRESSES:
        raise Unprocessable(f"An account keeps at most {MAX_ADDRESSES} addresses.",
                            code="too_many_addresses")
    data = dict(data)
    is_default = data.pop("is_default", False) or count == 0
    if is_default:
        _clear_default(dbsession, user_id)
    address = Address(user_id=user_id, is_default=is_default, **data)
    dbsession.add(address)
    dbsession.flush()
    return address


def update_address(dbsession, address, data):
    data = dict(data)
    _lock_addresses(dbsession, address.user_id)
    is_default = data.pop("is_default", None)
    if is_default and not address.is_default:
        # the old default is cleared first: the unique index allows one at a time
        _clear_default(dbsession, address.user_id, keep_id=address.id)
    if is_default is not None:
        address.is_default = is_default
    for key, value in data.items():
        setattr(address, key, value)
    dbsession.flush()
    return address


def delete_address(dbsession, address):
    dbsession.delete(address)
    dbsession.flush()
