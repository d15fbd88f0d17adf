"""The settings the accounts read are checked at start-up, with a one-line reason."""
import pytest
from pyramid.exceptions import ConfigurationError

from core.accounts import check_settings
from core.security import access_token_ttl, includeme, refresh_token_ttl
from tests.conftest import JWT_SECRET


def test_token_lifetimes_default_and_are_read_as_seconds():
    assert access_token_ttl({}) == 900
    assert refresh_token_ttl({}) == 30 * 24 * 3600
    assert access_token_ttl({"emporium.access_token_ttl": "300"}) == 300
    assert refresh_token_ttl({"emporium.refresh_token_ttl": "86400"}) == 86400


@pytest.mark.parametrize("value", ["0", "-5", "15m", ""])
def test_a_bad_lifetime_stops_start_up(value):
    from pyramid.config import Configurator

    config = Configurator(settings={"emporium.jwt_secret": JWT_SECRET,
                                    "emporium.refresh_token_ttl": value})
    with pytest.raises(ConfigurationError, match="emporium.refresh_token_ttl must be a whole"):
        includeme(config)


def test_token_lifetimes_reach_the_tokens(accounts, customer, registry, monkeypatch):
    monkeypatch.setitem(registry.settings, "emporium.access_token_ttl", "60")
    monkeypatch.setitem(registry.settings, "emporium.refresh_token_ttl", "120")
    tokens = accounts.login(customer.email).json
    assert (tokens["expires_in"], tokens["refresh_expires_in"]) == (60, 120)


def test_mail_link_templates_must_hold_the_token():
    check_settings({"emporium.password_reset_url": "https://shop.test/reset?t={token}"})
    with pytest.raises(ConfigurationError, match="must contain {token}"):
        check_settings({"emporium.password_reset_url": "https://shop.test/reset"})
