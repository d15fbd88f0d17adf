"""The API conventions every route follows: errors, 405, 413, request ids, OpenAPI, health."""
import pytest
from marshmallow import ValidationError
from pyramid.testing import DummyRequest

from core.api.pagination import PageQuery, page_of

ADMIN = "/api/v1/admin/plugins"


def install(testapp, staff, name):
    testapp.post_json(f"{ADMIN}/{name}/install", {}, headers=staff.headers)


def assert_error_shape(response, status, code):
    assert response.status_int == status
    assert response.content_type == "application/json"
    error = response.json["error"]
    assert set(error) >= {"code", "message", "fields"}
    assert error["code"] == code
    assert error["message"]
    return error


def test_unknown_path_is_json_404(testapp):
    assert_error_shape(testapp.get("/api/v1/nothing-here", status=404), 404, "not_found")
    assert_error_shape(testapp.get("/favicon.ico", status=404), 404, "not_found")


def test_wrong_method_is_405_with_allow(testapp, staff):
    response = testapp.get(f"{ADMIN}/alpha/install", headers=staff.headers, status=405)
    assert_error_shape(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"
    response = testapp.delete(ADMIN, headers=staff.headers, status=405)
    assert response.headers["Allow"] == "GET, HEAD"


def test_wrong_method_on_a_plugin_path_is_405_only_while_enabled(testapp, staff):
    # not installed: the path does not exist, whatever the method
    assert_error_shape(testapp.put_json("/api/v1/alpha/items", {}, status=404), 404,
                       "not_found")
    install(testapp, staff, "alpha")
    response = testapp.put_json("/api/v1/alpha/items", {}, status=405)
    assert response.headers["Allow"] == "GET, HEAD, POST"
    # gamma's route is registered with add_view in includeme, not scanned
    install(testapp, staff, "gamma")
    assert testapp.post("/api/v1/gamma/ping", status=405).headers["Allow"] == "GET, HEAD"


def test_urls_that_are_not_utf8_are_400(testapp):
    for url in ("/api/v1/healthz%FF", "/api/v1/admin/plugins/%FF/plan",
                "/api/v1/admin/plugins?page=%FF"):
        assert_error_shape(testapp.get(url, status=400), 400, "invalid_url")


def test_invalid_json_is_400(testapp, staff):
    for body in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        response = testapp.post(f"{ADMIN}/alpha/install", body, headers={
            **staff.headers, "Content-Type": "application/json"}, status=400)
        assert_error_shape(response, 400, "invalid_json")


def test_field_errors_are_400_with_fields(testapp, staff):
    install(testapp, staff, "alpha")
    response = testapp.post_json("/api/v1/alpha/items", {}, headers=staff.headers, status=400)
    error = assert_error_shape(response, 400, "invalid")
    assert error["fields"] == {"name": ["Missing data for required field."]}


def test_oversized_body_is_413_and_changes_nothing(testapp, staff):
    install(testapp, staff, "alpha")
    big = {"name": "x" * (1024 * 1024 + 10)}
    response = testapp.post_json("/api/v1/alpha/items", big, headers=staff.headers, status=413)
    assert_error_shape(response, 413, "payload_too_large")
    assert len(testapp.get("/api/v1/alpha/items").json["items"]) == 1


def test_oversized_chunked_body_is_413(testapp, staff):
    install(testapp, staff, "alpha")
    body = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    response = testapp.request("/api/v1/alpha/items", method="POST", body=body, headers={
        **staff.headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        content_length=None, expect_errors=True)
    assert response.status_int == 413
    small = testapp.request("/api/v1/alpha/items", method="POST", body=b'{"name": "ok"}',
                            headers={**staff.headers, "Content-Type": "application/json",
                                     "Transfer-Encoding": "chunked"}, expect_errors=True)
    assert small.status_int == 201, small.text


def test_server_error_is_500_without_internals_and_with_request_id(testapp, staff, caplog):
    install(testapp, staff, "gamma")
    response = testapp.get("/api/v1/gamma/boom", status=500)
    error = assert_error_shape(response, 500, "server_error")
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert any(error["request_id"] in record.getMessage() for record in caplog.records)


def test_request_id_is_echoed_or_made(testapp):
    response = testapp.get("/healthz", headers={"X-Request-ID": "client-chosen-id-42"})
    assert response.headers["X-Request-ID"] == "client-chosen-id-42"
    made = testapp.get("/healthz", headers={"X-Request-ID": "bad\nid"}).headers["X-Request-ID"]
    assert len(made) == 32


def test_healthz(testapp):
    body = testapp.get("/healthz").json
    assert body["status"] == "ok" and body["database"] == "ok"
    assert "cycle_a" in body["plugins"]["broken"]


class TestOpenAPI:
    def test_lists_kernel_routes_and_only_enabled_plugins(self, testapp, staff):
        document = testapp.get("/api/v1/openapi.json").json
        assert document["openapi"].startswith("3.")
        assert "/api/v1/admin/plugins/{name}/settings" in document["paths"]
        assert "/api/v1/alpha/items" not in document["paths"]
        install(testapp, staff, "alpha")
        document = testapp.get("/api/v1/openapi.json").json
        items = document["paths"]["/api/v1/alpha/items"]
        assert set(items) == {"get", "post"}
        body = items["post"]["requestBody"]["content"]["application/json"]["schema"]
        # component names carry their plugin, so two plugins' ItemBody never clash
        assert body == {"$ref": "#/components/schemas/AlphaItemBody"}
        assert document["components"]["schemas"]["AlphaItemBody"]["required"] == ["name"]
        assert items["post"]["security"] == [{"bearerAuth": []}]
        assert "security" not in items["get"]
        assert "201" in items["post"]["responses"]

    def test_query_parameters_are_documented(self, testapp):
        document = testapp.get("/api/v1/openapi.json").json
        params = document["paths"]["/api/v1/admin/plugins/{name}/plan"]["get"]["parameters"]
        names = {(p["in"], p["name"]) for p in params}
        assert {("path", "name"), ("query", "operation"), ("query", "purge")} <= names

    def test_readable_page(self, testapp):
        page = testapp.get("/api/docs")
        assert page.content_type == "text/html"
        assert "GET /api/v1/admin/plugins" in page.text


class TestPagination:
    def test_page_query_limits(self):
        assert PageQuery().load({}) == {"page": 1, "per_page": 20}
        with pytest.raises(ValidationError) as exc:
            PageQuery().load({"page": "0", "per_page": "101"})
        assert set(exc.value.messages) == {"page", "per_page"}

    def test_envelope_and_links(self):
        request = DummyRequest(params={"q": "shoe"})
        request.matched_route = None
        page = page_of(request, ["a", "b"], total=45, page=2, per_page=20)
        assert (page["pages"], page["total"], page["page"]) == (3, 45, 2)
        assert page["next"] is None  # no route to link to outside a request

    def test_links_in_a_real_request(self, testapp):
        from pyramid.request import Request

        request = Request.blank("/api/v1/admin/plugins?page=1&per_page=2&q=x")
        request.registry = testapp.app.registry
        request.matched_route = request.registry.introspector.get("routes", "core.plugins")[
            "object"]
        request.matchdict = {}
        page = page_of(request, [1, 2], total=5, page=1, per_page=2)
        assert page["next"] == "http://localhost/api/v1/admin/plugins?page=2&per_page=2&q=x"
        assert page["previous"] is None
        last = page_of(request, [5], total=5, page=3, per_page=2)
        assert last["next"] is None
        assert last["previous"] == "http://localhost/api/v1/admin/plugins?page=2&per_page=2&q=x"
