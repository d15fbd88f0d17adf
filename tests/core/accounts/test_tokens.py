"""Access tokens: anything but a genuine, unexpired HS256 token of ours is a 401."""
import base64
import datetime as dt
import json

import jwt
import pytest

from core.security import issue_access_token, read_access_token
from tests.conftest import JWT_SECRET

from .conftest import assert_error


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_for(user, **changes):
    now = dt.datetime.now(dt.timezone.utc)
    claims = {"sub": str(user.id), "roles": list(user.roles), "typ": "access", "iat": now,
              "exp": now + dt.timedelta(minutes=5)}
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def me(testapp, token, status=200):
    return testapp.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"},
                       status=status)


def test_a_genuine_token_reads_the_user(testapp, customer, registry):
    token, ttl = issue_access_token(registry.settings, customer)
    assert ttl == 900
    assert me(testapp, token).json["id"] == customer.id
    identity = read_access_token(registry.settings, token)
    assert identity.id == customer.id and identity.roles == ("customer",)


def tampered(token):
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["customer", "staff"]
    return f"{header}.{b64(claims)}.{signature}"


def signed(user, key=JWT_SECRET, algorithm="HS256", **changes):
    return jwt.encode(claims_for(user, **changes), key, algorithm=algorithm)


def unsigned(user, **changes):
    claims = {key: int(value.timestamp()) if isinstance(value, dt.datetime) else value
              for key, value in claims_for(user, **changes).items()}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def none_keeping_signature(user):
    _, payload, signature = signed(user).split(".")
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}"


STAFF = ["customer", "staff"]
FORGERIES = {
    "tampered payload": lambda user: tampered(signed(user)),
    "expired": lambda user: signed(
        user, exp=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)),
    "wrongly signed": lambda user: signed(user, key="another-key-0123456789-0123456789-x",
                                          roles=STAFF),
    "alg none": lambda user: unsigned(user, roles=STAFF),
    "alg none, signature kept": none_keeping_signature,
    "HS512 with our key": lambda user: signed(user, algorithm="HS512", roles=STAFF),
    "no expiry": lambda user: signed(user, exp=None),
    "no issue time": lambda user: signed(user, iat=None),
    "no subject": lambda user: signed(user, sub=None),
    "not an access token": lambda user: signed(user, typ="refresh"),
    "roles not a list": lambda user: signed(user, roles="staff"),
    "subject not a number": lambda user: signed(user, sub="admin"),
    "garbage": lambda user: "not.a.jwt",
    "empty segments": lambda user: "..",
}


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512 forgery
@pytest.mark.parametrize("kind", list(FORGERIES))
def test_forged_or_broken_tokens_are_401(testapp, customer, kind):
    token = FORGERIES[kind](customer)
    error = assert_error(me(testapp, token, status=401), 401, "unauthorized")
    assert error["message"] == "Authentication is required."
    response = testapp.get("/api/v1/admin/plugins", headers={"Authorization": f"Bearer {token}"},
                           status=401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_forgeries_differ_from_a_genuine_token_only_in_their_flaw(testapp, customer):
    # the same construction, unflawed, is accepted: the 401s above are for the flaw
    assert me(testapp, signed(customer)).json["id"] == customer.id


def test_a_refresh_token_is_no_access_token(testapp, customer):
    tokens = testapp.post_json("/api/v1/auth/login", {"email": customer.email,
                                                      "password": "correct horse battery"},
                               extra_environ={"REMOTE_ADDR": "192.0.2.10"}).json
    assert_error(me(testapp, tokens["refresh_token"], status=401), 401)


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz",
                                    "Token abc"])
def test_missing_or_other_schemes_are_401(testapp, header):
    headers = {"Authorization": header} if header else {}
    response = testapp.get("/api/v1/users/me", headers=headers, status=401)
    assert_error(response, 401, "unauthorized")
