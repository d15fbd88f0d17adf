"""Users, passwords, access tokens and the Pyramid security policy.

An access token is a short-lived JWT (HS256, signed with ``emporium.jwt_secret``)
carrying the user id and roles, so identifying a request costs no database query.
Permissions are strings such as ``catalog.manage``; the ``staff`` role holds every
permission, a signed-in customer holds ``authenticated``.
"""
import dataclasses
import datetime as dt
import logging

import argon2
import jwt
import sqlalchemy as sa
from pyramid.security import Allowed, Denied
from pyramid.httpexceptions import HTTPForbidden
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

log = logging.getLogger(__name__)

CUSTOMER, STAFF = "customer", "staff"
ROLES = (CUSTOMER, STAFF)
AUTHENTICATED = "authenticated"
JWT_ALGORITHM = "HS256"
DEFAULT_ACCESS_TTL = 900

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


def issue_access_token(settings, user, ttl=None):
    now = dt.datetime.now(dt.timezone.utc)
    ttl = int(ttl or settings.get("emporium.access_token_ttl", DEFAULT_ACCESS_TTL))
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
        claims = jwt.decode(token, signing_key(settings), algorithms=[JWT_ALGORITHM],
                            options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "access":
        return None
    try:
        return Identity(id=int(claims["sub"]), roles=tuple(claims.get("roles") or ()))
    except (TypeError, ValueError):
        return None


class SecurityPolicy:
    def identity(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return read_access_token(request.registry.settings, token.strip())

    def authenticated_userid(self, request):
        identity = request.identity
        return identity.id if identity else None

    def permits(self, request, context, permission):
        if permission == NO_PERMISSION_REQUIRED:
            return Allowed("public")
        identity = request.identity
        if identity is None:
            return Denied("not signed in")
        if identity.is_staff or permission == AUTHENTICATED:
            return Allowed("role")
        return Denied(f"staff only ({permission})")

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
    signing_key(config.get_settings())  # fail at start-up, not at the first login
    config.set_security_policy(SecurityPolicy())
    config.add_exception_view(forbidden_view, context=HTTPForbidden)
