"""Users, passwords, access tokens and the Pyramid security policy.

An access token is a short-lived JWT (HS256, signed with ``emporium.jwt_secret``)
carrying the user id and roles, so identifying a request costs no database query.
Permissions are strings such as ``catalog.manage``; the ``staff`` role holds every
permission, a signed-in customer holds ``authenticated`` and whatever a plugin
granted the ``customer`` role with ``config.declare_permission``. An undeclared
permission is staff-only. Refresh tokens, login protection and the account
endpoints live in ``core.accounts``.
"""
import dataclasses
import datetime as dt
import logging

import argon2
import jwt
import sqlalchemy as sa
from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import HTTPForbidden
from pyramid.request import RequestLocalCache
from pyramid.security import NO_PERMISSION_REQUIRED, Allowed, Denied
from sqlalchemy.orm import Mapped, mapped_column

from core.api.errors import NotFound, Unauthorized
from core.db import Base, UTCDateTime, utcnow

log = logging.getLogger(__name__)

CUSTOMER, STAFF = "customer", "staff"
ROLES = (CUSTOMER, STAFF)
AUTHENTICATED = "authenticated"
JWT_ALGORITHM = "HS256"
DEFAULT_ACCESS_TTL = 900  # 15 minutes: the longest a deactivated user keeps access
DEFAULT_REFRESH_TTL = 30 * 24 * 3600

_hasher = argon2.PasswordHasher()


class User(Base):
    __tablename__ = "core_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # stored lower-cased, which makes the unique index case-insensitive
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    roles: Mapped[list] = mapped_column(sa.JSON, default=lambda: [CUSTOMER])
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def set_password(self, password):
        self.password_hash = hash_password(password)

    def check_password(self, password):
        try:
            return _hasher.verify(self.password_hash, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False

    @property
    def is_staff(self):
        return STAFF in (self.roles or [])

    def as_dict(self):
        return {"id": self.id, "email": self.email, "name": self.name,
                "roles": list(self.roles or []), "is_active": self.is_active,
                "email_verified": self.email_verified_at is not None,
                "created_at": self.created_at}


def normalize_email(email):
    return email.strip().lower()


MIN_PASSWORD_LENGTH = 10


def validate_password(password, email=""):
    """The problems with a password, as sentences; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if email and password.strip().lower() == normalize_email(email):
        problems.append("The password must not be the e-mail address.")
    if len(password) > 1024:
        problems.append("The password must have at most 1024 characters.")
    return problems


def hash_password(password):
    return _hasher.hash(password)


_dummy_hash = None


def spend_password_check_time(password):
    """Verify ``password`` against a throw-away hash, so that a login for an unknown
    e-mail takes as long as one for a known e-mail (no account enumeration by timing)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not a real password, only spends time")
    try:
        _hasher.verify(_dummy_hash, password)
    except argon2.exceptions.VerificationError:
        pass
    return False


def create_user(dbsession, email, password, name="", staff=False):
    user = User(email=normalize_email(email), name=name,
                roles=[CUSTOMER, STAFF] if staff else [CUSTOMER])
    user.set_password(password)
    dbsession.add(user)
    dbsession.flush()
    return user


def find_user(dbsession, email):
    return dbsession.execute(
        sa.select(User).where(User.email == normalize_email(email))
    ).scalar_one_or_none()


@dataclasses.dataclass(frozen=True)
class Identity:
    id: int
    roles: tuple

    @property
    def is_staff(self):
        return STAFF in self.roles


def _seconds_setting(settings, name, default):
    raw = settings.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value <= 0:
        raise ConfigurationError(f"{name} must be a whole number of seconds above 0, not {raw!r}")
    return value


def access_token_ttl(settings):
    """``emporium.access_token_ttl``: seconds an access token is accepted (default 900)."""
    return _seconds_setting(settings, "emporium.access_token_ttl", DEFAULT_ACCESS_TTL)


def refresh_token_ttl(settings):
    """``emporium.refresh_token_ttl``: seconds a refresh token may wait for its use
    (default 30 days); each refresh hands out a new one with a fresh lifetime."""
    return _seconds_setting(settings, "emporium.refresh_token_ttl", DEFAULT_REFRESH_TTL)


def issue_access_token(settings, user, ttl=None):
    now = dt.datetime.now(dt.timezone.utc)
    ttl = int(ttl or access_token_ttl(settings))
    claims = {"sub": str(user.id), "roles": list(user.roles or []), "typ": "access",
              "iat": now, "exp": now + dt.timedelta(seconds=ttl)}
    return jwt.encode(claims, signing_key(settings), algorithm=JWT_ALGORITHM), ttl


def signing_key(settings):
    key = settings.get("emporium.jwt_secret")
    if not key or len(key) < 32:
        raise RuntimeError("emporium.jwt_secret must be set to at least 32 characters")
    return key


def read_access_token(settings, token):
    """The Identity a token proves, or None for a bad, expired or forged one."""
    try:
        # the algorithm list is fixed: a token saying "alg": "none" or RS256 is refused
        claims = jwt.decode(token, signing_key(settings), algorithms=[JWT_ALGORITHM],
                            options={"require": ["exp", "iat", "sub"]})
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "access":
        return None
    roles = claims.get("roles") or ()
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        return None
    try:
        return Identity(id=int(claims["sub"]), roles=tuple(roles))
    except (TypeError, ValueError):
        return None


# --- permissions ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Permission:
    name: str
    description: str
    roles: tuple  # roles besides staff that hold it


def _permission_owner(config):
    package = config.package_name
    if package == "core" or package.startswith("core."):
        return "core"
    plugins = config.registry.get("plugins")
    return plugins.owner_of_package(package) if plugins is not None else None


def declare_permission(config, name, description, roles=()):
    """``config.declare_permission("catalog.manage", "Edit products", roles=())``.

    The name starts with its owner (``core.`` or ``<plugin>.``). Staff holds every
    permission anyway; ``roles`` grants it to other roles too (``("customer",)``).
    Declaring the same name twice is a configuration conflict.
    """
    roles = tuple(roles)
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise ConfigurationError(f"permission {name}: unknown roles {unknown} (known: {ROLES})")
    owner = _permission_owner(config)
    if owner is not None and not name.startswith(owner + "."):
        raise ConfigurationError(f"permission {name!r} must start with {owner + '.'!r}, "
                                 "the name of its owner")
    permission = Permission(name, description, roles)

    def register():
        config.registry["permissions"][name] = permission

    intr = config.introspectable("emporium permissions", name, name, "emporium permission")
    intr["description"] = description
    intr["roles"] = roles
    config.action(("emporium.permission", name), register, introspectables=(intr,))


def has_permission(registry, identity, permission):
    """Whether ``identity`` (or None) holds ``permission``, without a request."""
    if permission == NO_PERMISSION_REQUIRED:
        return True
    if identity is None:
        return False
    if identity.is_staff or permission == AUTHENTICATED:
        return True
    declared = registry.get("permissions", {}).get(permission)
    return declared is not None and bool(set(declared.roles) & set(identity.roles))


def owned_or_404(request, obj, owner_id_attr="user_id"):
    """``obj`` if it belongs to the signed-in user, else 404 Not Found.

    Not 403: telling a customer that another customer's order 17 exists is already
    a leak. ``obj`` may be None (nothing found), which is a 404 too.
    """
    identity = request.identity
    if obj is None or identity is None or getattr(obj, owner_id_attr, None) != identity.id:
        raise NotFound()
    return obj


def authenticated_user(request):
    """The signed-in ``User`` loaded from the database; 401 if it is gone or deactivated.

    For views that read the user anyway: a deactivated user's access token is still
    valid until it expires, and this is where such a token stops working early.
    """
    identity = request.identity
    return active_user(request.dbsession.get(User, identity.id) if identity is not None
                       else None)


def active_user(user):
    """``user`` (a ``User`` read for the signed-in identity, or None if there is none):
    a 401 if it is gone or deactivated, as ``authenticated_user`` answers. For code that
    reads the user together with other rows."""
    if user is None or not user.is_active:
        raise Unauthorized(headers={"WWW-Authenticate": 'Bearer realm="emporium"'})
    return user


class SecurityPolicy:
    def __init__(self):
        # request.identity is a plain property: without the cache every permission
        # check and every view that asks would verify the token's signature again
        self._identities = RequestLocalCache(self._identity)

    def identity(self, request):
        return self._identities.get_or_create(request)

    def _identity(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return read_access_token(request.registry.settings, token.strip())

    def authenticated_userid(self, request):
        identity = request.identity
        return identity.id if identity else None

    def permits(self, request, context, permission):
        if has_permission(request.registry, request.identity, permission):
            return Allowed(permission)
        if request.identity is None:
            return Denied("not signed in")
        return Denied(f"not granted to {', '.join(request.identity.roles) or 'no role'} "
                      f"({permission})")

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


def forbidden_view(exc, request):
    from core.api.errors import json_error

    if request.identity is None:
        return json_error(request, 401, "unauthorized", "Authentication is required.",
                          headers={"WWW-Authenticate": 'Bearer realm="emporium"'})
    return json_error(request, 403, "forbidden", "You are not allowed to do this.")


def includeme(config):
    settings = config.get_settings()
    # fail at start-up, not at the first login
    signing_key(settings)
    access_token_ttl(settings)
    refresh_token_ttl(settings)
    config.set_security_policy(SecurityPolicy())
    config.add_exception_view(forbidden_view, context=HTTPForbidden)
    config.registry["permissions"] = {}
    config.add_directive("declare_permission", declare_permission)
    config.declare_permission("core.plugins.manage",
                              "Install, enable, disable, uninstall and configure plugins")
