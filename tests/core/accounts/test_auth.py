"""Register, log in, refresh and log out exactly as shared/api.md says."""
import sqlalchemy as sa

from core.accounts import services
from core.accounts.models import RefreshToken
from core.accounts.services import hash_token
from core.plugins import hookimpl
from core.security import User

from .conftest import PASSWORD, assert_error


def test_register_answers_201_with_the_user(accounts, dbsession):
    response = accounts.register("  Ada.Lovelace@Example.COM ", name="Ada Lovelace")
    user = response.json
    assert {"id", "email", "name", "roles"} <= set(user)
    assert user["email"] == "ada.lovelace@example.com"
    assert user["name"] == "Ada Lovelace"
    assert user["roles"] == ["customer"]
    assert user["email_verified"] is False
    assert "password_hash" not in user and "password" not in user
    stored = dbsession.get(User, user["id"])
    assert stored.password_hash.startswith("$argon2")
    assert stored.check_password(PASSWORD)


def test_an_email_registers_once_whatever_its_case(accounts):
    accounts.register("grace@example.com")
    error = assert_error(accounts.register("GRACE@example.com", status=409), 409, "email_taken",
                         fields=["email"])
    assert "exists" in error["message"]


def test_password_rules_are_field_errors(accounts):
    error = assert_error(accounts.register("short@example.com", password="too short", status=400),
                         400, "invalid", fields=["password"])
    assert "at least 10 characters" in error["fields"]["password"][0]
    error = assert_error(accounts.register("same.as.mail@example.com",
                                           password="Same.As.Mail@example.com", status=400),
                         400, fields=["password"])
    assert "must not be the e-mail" in " ".join(error["fields"]["password"])


def test_every_field_error_is_reported_at_once(accounts):
    response = accounts.post("/auth/register", {"email": "not an address", "password": "short"},
                             status=400)
    error = assert_error(response, 400, "invalid", fields=["email", "password"])
    assert error["fields"]["email"] == ["Not a valid e-mail address."]


def test_unknown_or_malformed_bodies_are_400(accounts):
    response = accounts.post("/auth/register", {"email": "x@example.com", "password": PASSWORD,
                                                "roles": ["staff"]}, status=400)
    assert_error(response, 400, "invalid", fields=["roles"])
    assert_error(accounts.post("/auth/login", {"email": "x@example.com"}, status=400), 400,
                 fields=["password"])
    assert_error(accounts.post("/auth/login", ["x"], status=400), 400, "invalid_json")
    response = accounts.testapp.post("/api/v1/auth/login", "{not json", status=400,
                                     content_type="application/json")
    assert_error(response, 400, "invalid_json")
    assert_error(accounts.post("/auth/login", {"email": "a\x00@example.com",
                                               "password": PASSWORD}, status=400), 400,
                 fields=["email"])
    assert_error(accounts.post("/auth/login", {"email": "x@example.com",
                                               "password": "\ud800" * 12}, status=400), 400,
                 fields=["password"])
    assert_error(accounts.refresh("not/a/token", status=400), 400, fields=["refresh_token"])


def test_login_answers_the_token_pair(accounts, customer):
    tokens = accounts.login(customer.email.upper()).json
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 900
    assert tokens["refresh_expires_in"] == 30 * 24 * 3600
    assert tokens["refresh_token"] and tokens["access_token"]
    me = accounts.testapp.get("/api/v1/users/me", headers=accounts.bearer(tokens)).json
    assert me["id"] == customer.id and me["email"] == customer.email


def test_wrong_password_and_unknown_email_answer_alike(accounts, customer):
    wrong = assert_error(accounts.login(customer.email, "not the password", status=401), 401,
                         "invalid_credentials")
    unknown = assert_error(accounts.login("nobody@example.com", status=401), 401,
                           "invalid_credentials")
    assert wrong == unknown


def test_refresh_tokens_are_stored_only_as_hashes(accounts, customer, dbsession):
    tokens = accounts.login(customer.email).json
    rows = dbsession.execute(sa.select(RefreshToken).where(RefreshToken.user_id == customer.id)
                             ).scalars().all()
    assert [row.token_hash for row in rows] == [hash_token(tokens["refresh_token"])]
    assert tokens["refresh_token"] not in rows[0].token_hash


def test_refresh_rotates_and_the_used_token_stops_working(accounts, customer):
    first = accounts.login(customer.email).json
    second = accounts.refresh(first["refresh_token"]).json
    assert set(second) == set(first)
    assert second["refresh_token"] != first["refresh_token"]
    accounts.testapp.get("/api/v1/users/me", headers=accounts.bearer(second))
    third = accounts.refresh(second["refresh_token"]).json
    assert third["refresh_token"] not in (first["refresh_token"], second["refresh_token"])


def test_reusing_a_rotated_token_revokes_its_whole_family(accounts, customer):
    other_sign_in = accounts.login(customer.email).json
    stolen = accounts.login(customer.email).json
    thief = accounts.refresh(stolen["refresh_token"]).json
    # the owner comes back with the token the thief already used
    assert_error(accounts.refresh(stolen["refresh_token"], status=401), 401,
                 "refresh_token_reused")
    # which signs the thief out as well ...
    assert_error(accounts.refresh(thief["refresh_token"], status=401), 401,
                 "invalid_refresh_token")
    # ... but not the user's other sign-ins
    accounts.refresh(other_sign_in["refresh_token"])


def test_unknown_expired_or_revoked_refresh_tokens_are_401(accounts, customer, dbsession):
    assert_error(accounts.refresh("x" * 43, status=401), 401, "invalid_refresh_token")
    tokens = accounts.login(customer.email).json
    dbsession.execute(sa.update(RefreshToken).values(
        expires_at=RefreshToken.created_at))
    assert_error(accounts.refresh(tokens["refresh_token"], status=401), 401,
                 "invalid_refresh_token")


def test_logout_revokes_the_refresh_token(accounts, customer):
    tokens = accounts.login(customer.email).json
    other = accounts.login(customer.email).json
    response = accounts.post("/auth/logout", {"refresh_token": tokens["refresh_token"]})
    assert response.status_int == 204 and response.body == b""
    assert_error(accounts.refresh(tokens["refresh_token"], status=401), 401,
                 "invalid_refresh_token")
    accounts.refresh(other["refresh_token"])
    # logging out twice, or with a token never seen, changes nothing and says so alike
    assert accounts.post("/auth/logout", {"refresh_token": tokens["refresh_token"]}
                         ).status_int == 204
    assert accounts.post("/auth/logout", {"refresh_token": "x" * 43}).status_int == 204


def test_a_deactivated_user_is_refused_at_login_and_refresh(accounts, customer, dbsession):
    tokens = accounts.login(customer.email).json
    customer.is_active = False
    dbsession.flush()
    assert_error(accounts.refresh(tokens["refresh_token"], status=403), 403,
                 "account_inactive")
    assert_error(accounts.login(customer.email, status=403), 403, "account_inactive")
    # only with the right password does the answer tell the account is deactivated
    assert_error(accounts.login(customer.email, "wrong password", status=401), 401,
                 "invalid_credentials")
    # and an access token still in its lifetime no longer reads the account
    assert_error(accounts.testapp.get("/api/v1/users/me", headers=accounts.bearer(tokens),
                                      status=401), 401, "unauthorized")


def test_deactivating_signs_the_user_out_everywhere(accounts, customer, dbsession):
    tokens = accounts.login(customer.email).json
    services.set_active(dbsession, customer, False)
    services.set_active(dbsession, customer, True)
    # reactivated, the user signs in again: the old sign-in stays revoked
    assert_error(accounts.refresh(tokens["refresh_token"], status=401), 401,
                 "invalid_refresh_token")
    accounts.login(customer.email)


def test_refresh_gives_the_roles_the_user_has_now(accounts, customer, dbsession, registry):
    from core.security import read_access_token

    tokens = accounts.login(customer.email).json
    customer.roles = ["customer", "staff"]
    dbsession.flush()
    fresh = accounts.refresh(tokens["refresh_token"]).json
    assert read_access_token(registry.settings, fresh["access_token"]).is_staff
    accounts.testapp.get("/api/v1/admin/plugins", headers=accounts.bearer(fresh))


class AccountProbe:
    def __init__(self):
        self.calls = []

    @hookimpl
    def user_registered(self, user, request):
        self.calls.append(("registered", user.email, request.path))

    @hookimpl
    def user_logged_in(self, user, request):
        self.calls.append(("logged_in", user.email, request.path))


def test_registration_and_login_call_the_kernel_hooks(accounts, registry):
    probe = AccountProbe()
    pm = registry["plugins"].pm
    pm.register(probe, name="account-probe")
    try:
        accounts.register("hooks@example.com")
        tokens = accounts.login("hooks@example.com").json
        accounts.refresh(tokens["refresh_token"])
        accounts.login("hooks@example.com", "wrong password", status=401)
    finally:
        pm.unregister(probe)
    assert probe.calls == [("registered", "hooks@example.com", "/api/v1/auth/register"),
                           ("logged_in", "hooks@example.com", "/api/v1/auth/login")]


def test_a_failing_hook_leaves_no_half_written_account(accounts, registry, dbsession):
    class Refuses:
        @hookimpl
        def user_registered(self, user, request):
            from core.api.errors import Unprocessable
            raise Unprocessable("not today", code="refused")

    pm = registry["plugins"].pm
    refuses = Refuses()
    pm.register(refuses, name="refuses")
    try:
        assert_error(accounts.register("half@example.com", status=422), 422, "refused")
    finally:
        pm.unregister(refuses)
    assert dbsession.execute(sa.select(User).where(User.email == "half@example.com")
                             ).first() is None


def test_the_endpoints_are_in_the_openapi_document(testapp):
    paths = testapp.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/api/v1/auth/login"]) == {"post"}
    assert paths["/api/v1/auth/register"]["post"]["responses"]["201"]
    assert set(paths["/api/v1/users/me"]) == {"get", "patch"}
    assert set(paths["/api/v1/users/me/addresses/{id}"]) == {"get", "patch", "delete"}
    assert paths["/api/v1/users/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in paths["/api/v1/auth/login"]["post"]
