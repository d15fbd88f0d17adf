"""CORS for storefronts on another origin."""
import pytest

SETTING = "emporium.api.cors_origins"


@pytest.fixture
def cors(registry):
    before = registry.settings.get(SETTING)
    registry.settings[SETTING] = "https://shop.example, https://m.shop.example"
    yield
    if before is None:
        registry.settings.pop(SETTING, None)
    else:
        registry.settings[SETTING] = before


def test_allowed_origin_gets_headers_and_exposed_cart_token(testapp, cors):
    response = testapp.get("/healthz", headers={"Origin": "https://shop.example"})
    assert "Access-Control-Allow-Origin" not in response.headers  # not under /api/
    response = testapp.get("/api/v1/openapi.json", headers={"Origin": "https://shop.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "X-Cart-Token" in response.headers["Access-Control-Expose-Headers"]
    assert "Origin" in response.headers["Vary"]


def test_preflight_is_answered_without_reaching_views(testapp, cors):
    response = testapp.options("/api/v1/admin/plugins/alpha/install", headers={
        "Origin": "https://m.shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"}, status=204)
    assert response.headers["Access-Control-Allow-Origin"] == "https://m.shop.example"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


def test_other_origins_get_no_cors_headers(testapp, cors):
    response = testapp.get("/api/v1/openapi.json", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = testapp.options("/api/v1/openapi.json", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}, status=204)
    assert "Access-Control-Allow-Methods" not in preflight.headers


def test_without_the_setting_nothing_is_allowed(testapp):
    response = testapp.get("/api/v1/openapi.json", headers={"Origin": "https://shop.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
