"""Changing a password, resetting a forgotten one by mail, and confirming an e-mail address."""
import datetime as dt
import email
import email.policy
import re

import pytest
import sqlalchemy as sa

from core.accounts.models import AccountToken
from core.security import User

from .conftest import PASSWORD, assert_error

NEW_PASSWORD = "a brand new passphrase"


def mails(mail_dir):
    if not mail_dir.exists():
        return []
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(mail_dir.iterdir())]


def text_of(message):
    return message.get_body(("plain",)).get_content()


def token_in(message):
    return re.search(r"^    (\S+)$", text_of(message), re.M).group(1)


def change(accounts, headers, current=PASSWORD, new=NEW_PASSWORD, status=None):
    return accounts.post("/users/me/password", {"current_password": current,
                                                "new_password": new},
                         headers=headers, status=status)


# --- change --------------------------------------------------------------------------


def test_change_password_signs_out_other_sessions_and_keeps_this_one(accounts, customer):
    here = accounts.login(customer.email).json
    elsewhere = accounts.login(customer.email).json
    tokens = change(accounts, accounts.bearer(here)).json
    assert tokens["token_type"] == "Bearer"
    assert_error(accounts.refresh(elsewhere["refresh_token"], status=401), 401)
    assert_error(accounts.refresh(here["refresh_token"], status=401), 401)
    accounts.refresh(tokens["refresh_token"])
    assert_error(accounts.login(customer.email, PASSWORD, status=401), 401)
    accounts.login(customer.email, NEW_PASSWORD)


def test_change_password_rules_are_field_errors(accounts, customer):
    error = assert_error(change(accounts, customer.headers, new="short", status=400), 400,
                         "invalid", fields=["new_password"])
    assert "at least 10" in error["fields"]["new_password"][0]
    error = assert_error(change(accounts, customer.headers, new=customer.email.upper(),
                                status=400), 400, fields=["new_password"])
    assert "e-mail" in error["fields"]["new_password"][0]
    assert_error(change(accounts, customer.headers, current="not it at all", status=400), 400,
                 "invalid_credentials", fields=["current_password"])
    accounts.login(customer.email)  # nothing changed


def test_change_password_needs_a_signed_in_user(accounts):
    assert_error(change(accounts, {}, status=401), 401, "unauthorized")


# --- reset ---------------------------------------------------------------------------


def request_reset(accounts, address):
    response = accounts.post("/auth/password-reset", {"email": address})
    assert response.status_int == 202
    return response.json


def test_reset_answers_alike_for_known_and_unknown_addresses(accounts, customer, mail_dir):
    known = request_reset(accounts, customer.email)
    unknown = request_reset(accounts, "nobody@example.com")
    assert known == unknown
    [message] = mails(mail_dir)
    assert message["To"] == customer.email
    assert message["Subject"] == "Reset your Emporium password"


def test_a_reset_token_works_once(accounts, customer, mail_dir, dbsession):
    signed_in = accounts.login(customer.email).json
    request_reset(accounts, customer.email)
    token = token_in(mails(mail_dir)[0])
    assert dbsession.execute(sa.select(AccountToken.token_hash)).scalar() != token
    body = {"token": token, "password": NEW_PASSWORD}
    assert accounts.post("/auth/password-reset/confirm", body).status_int == 204
    accounts.login(customer.email, NEW_PASSWORD)
    assert_error(accounts.refresh(signed_in["refresh_token"], status=401), 401)
    error = assert_error(accounts.post("/auth/password-reset/confirm",
                                       {**body, "password": "yet another password"},
                                       status=400), 400, "invalid_token", fields=["token"])
    assert "not valid" in error["message"]


def test_a_rejected_new_password_leaves_the_token_usable(accounts, customer, mail_dir):
    request_reset(accounts, customer.email)
    token = token_in(mails(mail_dir)[0])
    response = accounts.post("/auth/password-reset/confirm",
                             {"token": token, "password": customer.email}, status=400)
    assert_error(response, 400, "invalid", fields=["password"])
    accounts.post("/auth/password-reset/confirm", {"token": token, "password": NEW_PASSWORD})


def test_an_expired_reset_token_is_refused(accounts, customer, mail_dir, dbsession):
    request_reset(accounts, customer.email)
    token = token_in(mails(mail_dir)[0])
    dbsession.execute(sa.update(AccountToken).values(
        expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    assert_error(accounts.post("/auth/password-reset/confirm",
                               {"token": token, "password": NEW_PASSWORD}, status=400), 400,
                 "invalid_token")


def test_reset_mails_are_not_sent_more_than_once_a_minute(accounts, customer, mail_dir):
    request_reset(accounts, customer.email)
    request_reset(accounts, customer.email)
    assert len(mails(mail_dir)) == 1


def test_a_reset_unblocks_the_account(accounts, customer, mail_dir):
    for _ in range(6):
        accounts.login(customer.email, "wrong password", status=401)
    accounts.login(customer.email, status=429)
    request_reset(accounts, customer.email)
    accounts.post("/auth/password-reset/confirm",
                  {"token": token_in(mails(mail_dir)[0]), "password": NEW_PASSWORD})
    accounts.login(customer.email, NEW_PASSWORD)


def test_a_new_password_voids_older_reset_links(accounts, customer, mail_dir):
    request_reset(accounts, customer.email)
    change(accounts, customer.headers)
    assert_error(accounts.post("/auth/password-reset/confirm",
                               {"token": token_in(mails(mail_dir)[0]),
                                "password": "something else entirely"}, status=400), 400,
                 "invalid_token")


def test_no_mail_when_the_request_fails(accounts, customer, mail_dir):
    assert_error(accounts.post("/auth/password-reset", {"email": customer.email, "x": 1},
                               status=400), 400)
    assert mails(mail_dir) == []


# --- e-mail verification -------------------------------------------------------------


def test_verifying_an_email_address(accounts, customer, mail_dir, dbsession):
    response = accounts.post("/users/me/email-verification", {}, headers=customer.headers)
    assert response.status_int == 202
    [message] = mails(mail_dir)
    assert message["Subject"] == "Confirm your e-mail address for Emporium"
    token = token_in(message)
    assert accounts.post("/auth/verify-email", {"token": token}).status_int == 204
    assert accounts.testapp.get("/api/v1/users/me", headers=customer.headers
                                ).json["email_verified"] is True
    assert_error(accounts.post("/auth/verify-email", {"token": token}, status=400), 400,
                 "invalid_token")
    # a reset token is no verification token, nor the other way round
    request_reset(accounts, customer.email)
    reset_token = token_in(mails(mail_dir)[-1])
    assert_error(accounts.post("/auth/verify-email", {"token": reset_token}, status=400), 400)


@pytest.fixture
def verification_on(registry):
    registry.settings["emporium.email_verification"] = "true"
    registry.settings["emporium.email_verification_url"] = "https://shop.test/verify/{token}"
    yield
    registry.settings.pop("emporium.email_verification")
    registry.settings.pop("emporium.email_verification_url")


def test_registration_mails_a_verification_link_when_enabled(accounts, mail_dir, verification_on,
                                                             dbsession):
    user = accounts.register("verify-me@example.com").json
    [message] = mails(mail_dir)
    token = re.search(r"https://shop.test/verify/(\S+)", text_of(message)).group(1)
    accounts.post("/auth/verify-email", {"token": token})
    assert dbsession.get(User, user["id"]).email_verified_at is not None
