"""The OpenAPI 3 document, generated from the views' marshmallow schemas.

Only routes of the kernel and of enabled plugins are listed; the document is built
once per plugin-state revision.
"""
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from pyramid.security import NO_PERMISSION_REQUIRED

from .schemas import ErrorSchema

PATTERN_PARAM = re.compile(r"\{(\w+)(?::([^}]*))?\}")
PUBLIC_PERMISSIONS = {None, NO_PERMISSION_REQUIRED}

ERROR_RESPONSES = {
    "400": "Bad input: the fields that are wrong are in error.fields",
    "401": "Authentication is required",
    "403": "Not allowed",
    "404": "Not found, or the plugin is not enabled",
    "409": "Conflict with the current state",
    "422": "A business rule refused the request",
}


def schema_namer(plugins):
    """Component names prefixed with the owning plugin, so two plugins never clash."""

    def name_of(schema):
        cls = schema if isinstance(schema, type) else type(schema)
        name = cls.__name__.removesuffix("Schema") or cls.__name__
        owner = plugins.owner_of_package(cls.__module__)
        return owner.title().replace("_", "") + name if owner else name

    return name_of


def build_document(registry, request):
    settings = registry.settings
    spec = APISpec(
        title=settings.get("emporium.api.title", "Emporium API"),
        version=settings.get("emporium.api.version", "1"),
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=schema_namer(registry["plugins"]))],
        info={"description": "The REST API of this Emporium installation: the kernel and "
                             "its enabled plugins."},
        servers=[{"url": request.application_url}],
    )
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    spec.components.schema("Error", schema=ErrorSchema)
    plugins = registry["plugins"]
    enabled = request.plugins.enabled
    introspector = registry.introspector
    paths = {}
    for op in registry["api_operations"]:
        owner = plugins.owner_of_package(op["package"])
        if owner is not None and owner not in enabled:
            continue
        route = introspector.get("routes", op["route_name"])
        if route is None:
            continue
        methods = op["request_method"] or ("GET",)
        if isinstance(methods, str):
            methods = (methods,)
        pattern = "/" + route["pattern"].lstrip("/")
        path = PATTERN_PARAM.sub(r"{\1}", pattern)
        for method in methods:
            if method == "HEAD":
                continue
            paths.setdefault(path, {})[method.lower()] = _operation(op, pattern, owner or "kernel")
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()


def _path_parameter(name, regex):
    schema = {"type": "string"}
    if regex and re.fullmatch(r"\w+(\|\w+)*", regex):
        schema["enum"] = regex.split("|")
    return {"in": "path", "name": name, "required": True, "schema": schema}


def _operation(op, pattern, owner):
    status = str(op.get("status") or 200)
    operation = {
        "operationId": op["route_name"] + "." + (op["request_method"] or "GET").lower()
        if isinstance(op["request_method"], str) else op["route_name"],
        "tags": list(op.get("tags") or [owner]),
        "summary": op.get("summary") or op["route_name"],
        "responses": {},
    }
    if op.get("description"):
        operation["description"] = op["description"]
    parameters = [_path_parameter(name, regex) for name, regex in PATTERN_PARAM.findall(pattern)]
    if op.get("query_schema") is not None:
        parameters.append({"in": "query", "schema": op["query_schema"]})
    if parameters:
        operation["parameters"] = parameters
    if op.get("body_schema") is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op["body_schema"]}},
        }
    if status == "204":
        operation["responses"][status] = {"description": "No content"}
    else:
        body = {"description": "Success"}
        if op.get("response_schema") is not None:
            body["content"] = {"application/json": {"schema": op["response_schema"]}}
        operation["responses"][status] = body
    for code, description in ERROR_RESPONSES.items():
        operation["responses"][code] = {
            "description": description,
            "content": {"application/json": {"schema": "Error"}},
        }
    if op.get("permission") not in PUBLIC_PERMISSIONS:
        operation["security"] = [{"bearerAuth": []}]
    return operation
