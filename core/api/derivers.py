"""View derivers: wrapping every view with the checks the conventions promise."""
import json

from marshmallow import fields

from .errors import BadRequest, NotFound

SCHEMA_OPTIONS = ("body_schema", "query_schema", "response_schema", "status", "summary",
                  "description", "tags")


def plugin_gate(view, info):
    """A plugin's views answer 404 while the plugin is not enabled.

    The owner is found from the package that registered the view, so a plugin
    cannot forget it; the check reads the request's snapshot, no database.
    """
    if info.exception_only:
        return view
    registry = info.registry
    owner = registry["plugins"].owner_of_package(info.package.__name__)
    if owner is None:
        return view

    def gated(context, request):
        if owner not in request.plugins.enabled:
            raise NotFound()
        return view(context, request)

    return gated


def _schema(value):
    if value is None:
        return None
    return value() if isinstance(value, type) else value


def json_body(request):
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.", code="invalid_json")
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.", code="invalid_json")
    return body


def _query_dict(request, schema):
    """Query parameters as a dict; a parameter a List field declares keeps every value."""
    data = {}
    for key in request.GET.keys():
        field = schema.fields.get(key)
        values = request.GET.getall(key)
        data[key] = values if isinstance(field, fields.List) else values[-1]
    return data


def schema_view(view, info):
    options = info.options
    body = _schema(options.get("body_schema"))
    query = _schema(options.get("query_schema"))
    response = _schema(options.get("response_schema"))
    status = options.get("status")
    route_name = options.get("route_name")
    if route_name and not info.exception_only:
        info.registry["api_operations"].append({
            "route_name": route_name,
            "request_method": options.get("request_method"),
            "permission": options.get("permission"),
            "package": info.package.__name__,
            **{key: options.get(key) for key in SCHEMA_OPTIONS},
        })
    if body is None and query is None and response is None and status is None:
        return view

    def validated(context, request):
        if query is not None:
            request.validated_query = query.load(_query_dict(request, query))
        if body is not None:
            request.validated = body.load(json_body(request))
        result = view(context, request)
        if status is not None and not hasattr(result, "status_int"):
            request.response.status = status
        if response is not None and not hasattr(result, "status_int"):
            return response.dump(result)
        return result

    return validated


schema_view.options = SCHEMA_OPTIONS
