"""The plugin's settings through the admin API: the keys are validated, and the secret
key and the webhook signing secret are write-only."""
import pytest

from .conftest import API, NAME
from .stripe_fake import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET

URL = f"{API}/admin/plugins/{NAME}/settings"


def test_secrets_are_write_only(testapp, staff, stripe_plugin):
    shown = testapp.get(URL, headers=staff.headers).json
    assert shown["secrets"] == {"secret_key": True, "webhook_secret": True}
    assert shown["settings"]["secret_key"] is None
    assert shown["settings"]["webhook_secret"] is None
    assert shown["settings"]["publishable_key"] == PUBLISHABLE_KEY
    assert shown["settings"]["api_base"] == stripe_plugin.url
    text = testapp.get(URL, headers=staff.headers).text
    assert SECRET_KEY not in text and WEBHOOK_SECRET not in text
    # writing one answers the settings without it either
    answer = testapp.put_json(URL, {"webhook_secret": "whsec_rotated_123"},
                              headers=staff.headers)
    assert "whsec_rotated_123" not in answer.text
    assert answer.json["secrets"]["webhook_secret"] is True


def test_a_fresh_install_has_no_keys(testapp, staff, install_plugin):
    install_plugin(NAME)
    shown = testapp.get(URL, headers=staff.headers).json
    assert shown["secrets"] == {"secret_key": False, "webhook_secret": False}
    assert shown["settings"]["api_base"] == "https://api.stripe.com"
    config = testapp.get(f"{API}/payments/stripe/config").json
    assert config == {"provider": "stripe", "publishable_key": None, "ready": False}


@pytest.mark.parametrize("values, field", [
    ({"secret_key": "pk_live_123"}, "secret_key"),
    ({"secret_key": "sk_live with space"}, "secret_key"),
    ({"secret_key": 42}, "secret_key"),
    ({"publishable_key": "sk_test_123"}, "publishable_key"),
    ({"webhook_secret": "secret"}, "webhook_secret"),
    ({"api_base": "ftp://api.stripe.com"}, "api_base"),
    ({"api_base": "not a url"}, "api_base"),
    ({"webhook_tolerance_seconds": 0}, "webhook_tolerance_seconds"),
    ({"webhook_tolerance_seconds": 1.5}, "webhook_tolerance_seconds"),
    ({"payment_method_types": ["Card!"]}, "payment_method_types.0"),
    ({"payment_method_types": "card"}, "payment_method_types"),
    ({"payment_pending_minutes": 1}, "payment_pending_minutes"),
    ({"reconcile_after_minutes": 0}, "reconcile_after_minutes"),
    ({"timeout_seconds": 0}, "timeout_seconds"),
    ({"no_such_setting": 1}, "no_such_setting"),
])
def test_bad_settings_are_400_and_nothing_is_stored(testapp, staff, stripe_plugin, values,
                                                    field):
    before = testapp.get(URL, headers=staff.headers).json
    response = testapp.put_json(URL, values, headers=staff.headers, status=400)
    assert response.json["error"]["code"] == "invalid"
    assert field in response.json["error"]["fields"]
    assert testapp.get(URL, headers=staff.headers).json == before


def test_customers_cannot_read_or_write_the_settings(testapp, customer, stripe_plugin):
    testapp.get(URL, headers=customer.headers, status=403)
    testapp.put_json(URL, {"secret_key": "sk_live_x"}, headers=customer.headers, status=403)
    testapp.get(URL, status=401)


def test_the_admin_settings_page_never_shows_the_secrets(testapp, staff, stripe_plugin):
    from tests.core.admin.conftest import Admin

    admin = Admin(testapp)
    admin.login(staff)
    page = admin.get(f"/admin/plugins/{NAME}")
    assert SECRET_KEY not in page.text and WEBHOOK_SECRET not in page.text
    assert PUBLISHABLE_KEY in page.text
    names = {field["name"] for field in page.html.select("input[name]")}
    assert {"secret_key", "publishable_key", "webhook_secret", "api_base"} <= names
