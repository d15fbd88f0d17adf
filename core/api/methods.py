"""405 instead of 404 when a path exists but not for the request's method.

Pyramid answers "no view" (a 404) both for a path nothing serves and for a path
served only for other methods; the API conventions promise a 405 with ``Allow``
for the second. Routes of plugins that are not enabled do not count: to a
client, a disabled plugin's paths do not exist.
"""
from pyramid.interfaces import IRoutesMapper

ANY = "*"


def _as_set(value):
    if not value:
        return set()
    return {value} if isinstance(value, str) else set(value)


def _route_table(registry):
    """route name -> (owner plugin or None, methods), built once per process."""
    table = registry.get("route_methods")
    if table is not None:
        return table
    plugins = registry["plugins"]
    table = {}
    for item in registry.introspector.get_category("routes") or []:
        route = item["introspectable"]
        route_methods = _as_set(route["request_methods"])
        methods, owner = set(), None
        for related in item["related"]:
            if related.category_name != "views":
                continue
            view_methods = _as_set(related["request_methods"]) or route_methods or {ANY}
            methods |= view_methods
            module = getattr(related["callable"], "__module__", None) or ""
            owner = owner or plugins.owner_of_package(module)
        prefix = route["name"].split(".", 1)[0]
        if prefix in plugins.plugins:
            owner = prefix
        table[route["name"]] = (owner, methods or route_methods)
    registry["route_methods"] = table
    return table


def allowed_methods(request):
    """The methods some enabled route answers at this path; empty if none or any."""
    table = _route_table(request.registry)
    enabled = request.plugins.enabled
    allowed = set()
    for route in request.registry.getUtility(IRoutesMapper).get_routes():
        if route.match(request.path_info) is None:
            continue
        owner, methods = table.get(route.name, (None, set()))
        if owner is not None and owner not in enabled:
            continue
        allowed |= methods
    if ANY in allowed:
        return []
    if "GET" in allowed:
        allowed.add("HEAD")
    return sorted(allowed)
