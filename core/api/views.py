"""The kernel's own API views: health, the OpenAPI document and its readable page."""
import html

import sqlalchemy as sa
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from . import api_view
from .openapi import build_document


@api_view(route_name="core.healthz", request_method="GET", permission=NO_PERMISSION_REQUIRED,
          summary="Health: the database answers and the plugins are loaded")
def healthz(request):
    registry = request.registry
    try:
        with registry["db_engine"].connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.DBAPIError:
        database = "unreachable"
    plugins = request.plugins
    ok = database == "ok" and plugins.snapshot.initialized
    request.response.status = 200 if ok else 503
    return {
        "status": "ok" if ok else "unavailable",
        "database": database,
        "plugins": {
            "initialized": plugins.snapshot.initialized,
            "revision": plugins.snapshot.revision,
            "enabled": sorted(plugins.enabled),
            "broken": sorted(registry["plugins"].broken),
        },
    }


def openapi_document(request):
    cache = request.registry.setdefault("openapi_cache", {})
    key = (request.plugins.snapshot.revision, request.application_url)
    if key not in cache:
        cache.clear()
        cache[key] = build_document(request.registry, request)
    return cache[key]


@api_view(route_name="core.openapi", request_method="GET", permission=NO_PERMISSION_REQUIRED,
          summary="This OpenAPI document")
def openapi_json(request):
    return openapi_document(request)


def _schema_rows(schema, components):
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    rows = []
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type") or prop.get("$ref", "").rsplit("/", 1)[-1] or "object"
        if kind == "array":
            items = prop.get("items", {})
            kind = "array of " + (items.get("type") or items.get("$ref", "").rsplit("/", 1)[-1])
        required = name in schema.get("required", [])
        rows.append(
            f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(kind)}</td>"
            f"<td>{'required' if required else ''}</td>"
            f"<td>{html.escape(str(prop.get('description', '')))}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>" if rows else ""


@api_view(route_name="core.docs", request_method="GET", permission=NO_PERMISSION_REQUIRED,
          summary="The API reference as a readable page")
def api_docs(request):
    document = openapi_document(request)
    components = document.get("components", {}).get("schemas", {})
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>",
        html.escape(document["info"]["title"]),
        " reference</title><style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "h3{font-family:monospace}table{border-collapse:collapse}td{border:1px solid #ccc;"
        "padding:2px 6px}</style></head><body>",
        f"<h1>{html.escape(document['info']['title'])}</h1>",
        f"<p>{html.escape(document['info'].get('description', ''))} "
        "The machine-readable document is at <a href='/api/v1/openapi.json'>"
        "/api/v1/openapi.json</a>.</p>",
    ]
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            parts.append(f"<h3>{method.upper()} {html.escape(path)}</h3>")
            parts.append(f"<p>{html.escape(op.get('summary', ''))}"
                         f"{' (authentication required)' if op.get('security') else ''}</p>")
            for param in op.get("parameters", []):
                parts.append(f"<div>{param['in']} parameter <code>"
                             f"{html.escape(param['name'])}</code></div>")
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                parts.append("<p>Body:</p>" + _schema_rows(body["schema"], components))
            for status, response in op["responses"].items():
                if status.startswith("2"):
                    schema = response.get("content", {}).get("application/json", {})
                    parts.append(f"<p>{status}: {html.escape(response['description'])}</p>")
                    if schema:
                        parts.append(_schema_rows(schema["schema"], components))
    parts.append("</body></html>")
    return Response("".join(parts), content_type="text/html", charset="utf-8")


def includeme(config):
    config.add_route("core.healthz", "/healthz")
    config.add_route("core.openapi", "/api/v1/openapi.json")
    config.add_route("core.docs", "/api/docs")
    config.scan(".views")
