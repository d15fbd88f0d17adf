"""API conventions shared by the kernel and every plugin.

- errors: one JSON shape for every error (core.api.errors)
- ``api_view``: a view_config for JSON views that validates the body and query
  with marshmallow schemas (``request.validated``, ``request.validated_query``),
  dumps the answer with its response schema and documents it in OpenAPI
- every view of a plugin answers 404 while the plugin is not enabled
- a request id on every request and every error; over-large bodies refused (413)
"""
import datetime as dt
import decimal
import uuid

from pyramid.renderers import JSON
from pyramid.view import view_config

from .derivers import plugin_gate, schema_view
from .errors import APIError, NotFound, json_error  # noqa: F401  (re-exported for plugins)

API_PREFIX = "/api/v1"


class api_view(view_config):
    """``@api_view(route_name=..., request_method=..., body_schema=..., query_schema=...,
    response_schema=..., status=201, summary=..., permission=...)``"""

    def __init__(self, **settings):
        settings.setdefault("renderer", "json")
        super().__init__(**settings)


def _json_renderer():
    renderer = JSON()
    renderer.add_adapter(decimal.Decimal, lambda value, request: str(value))
    renderer.add_adapter(dt.datetime, lambda value, request: value.isoformat())
    renderer.add_adapter(dt.date, lambda value, request: value.isoformat())
    renderer.add_adapter(uuid.UUID, lambda value, request: str(value))
    return renderer


def _body_too_large(request, max_body):
    length = request.content_length
    if length is not None:
        return length > max_body
    if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
        # a chunked body has no length (waitress de-chunks and sets one; other
        # servers may not): read one byte past the limit at most
        data = request.body_file_raw.read(max_body + 1)
        if len(data) > max_body:
            return True
        request.body = data
    return False


def request_id_tween_factory(handler, registry):
    max_body = int(registry.settings.get("emporium.api.max_body_bytes", 1024 * 1024))

    def request_id_tween(request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = (
            incoming if 8 <= len(incoming) <= 64 and incoming.isascii() and incoming.isprintable()
            else uuid.uuid4().hex
        )
        try:
            request.GET  # parsed once here, so a bad query string is a 400 everywhere
        except UnicodeDecodeError:
            return json_error(request, 400, "invalid_url", "The URL is not valid UTF-8.")
        if _body_too_large(request, max_body):
            return json_error(request, 413, "payload_too_large",
                              f"The request body is larger than {max_body} bytes.")
        response = handler(request)
        response.headers["X-Request-ID"] = request.request_id
        return response

    return request_id_tween


def includeme(config):
    config.add_renderer("json", _json_renderer())
    config.include(".errors")
    # over pyramid_tm, so a refused body never opens a transaction
    config.add_tween("core.api.request_id_tween_factory", over="pyramid_tm.tm_tween_factory")
    # outermost of the API's tweens: a preflight needs no id, no body, no transaction
    config.add_tween("core.api.cors.cors_tween_factory", over="core.api.request_id_tween_factory")
    config.add_view_deriver(plugin_gate, under="INGRESS", over="secured_view")
    # under the renderer: the wrapped view returns data, not yet a Response
    config.add_view_deriver(schema_view, under="rendered_view", over="mapped_view")
    config.registry["api_operations"] = []
    config.include(".views")
