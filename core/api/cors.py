"""CORS, so a storefront served from another origin can call the API from a browser.

``emporium.api.cors_origins`` lists the allowed origins (space or comma separated,
``*`` for any). Authentication is a bearer token, never a cookie, so credentials
are not allowed and ``*`` is safe for a public storefront API. The headers a
frontend must read (the guest cart token, the request id, ETag, Retry-After) are
exposed.
"""
from pyramid.response import Response

from core.settings import as_list

SETTING = "emporium.api.cors_origins"
ALLOW_HEADERS = "Authorization, Content-Type, X-Cart-Token, Idempotency-Key, If-None-Match, " \
                "X-Request-ID"
EXPOSE_HEADERS = "X-Cart-Token, X-Request-ID, ETag, Retry-After, Location"
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
PREFLIGHT_MAX_AGE = "600"


def _allowed(registry, origin):
    origins = as_list(registry.settings.get(SETTING))
    return "*" in origins or origin in origins


def cors_tween_factory(handler, registry):
    def cors_tween(request):
        origin = request.headers.get("Origin")
        if not origin or not request.path_info.startswith("/api/"):
            return handler(request)
        allowed = _allowed(registry, origin)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            # a preflight is answered here: it carries no token and must not reach views
            response = Response(status=204)
            if allowed:
                response.headers.update({
                    "Access-Control-Allow-Methods": ALLOW_METHODS,
                    "Access-Control-Allow-Headers": ALLOW_HEADERS,
                    "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                })
        else:
            response = handler(request)
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        response.vary = tuple(sorted(set(response.vary or ()) | {"Origin"}))
        return response

    return cors_tween
