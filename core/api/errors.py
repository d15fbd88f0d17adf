"""The JSON error shape, for every error the API gives.

``{"error": {"code": "...", "message": "...", "fields": {...}}}`` with the status
that says what went wrong. Views raise ``APIError`` (or a subclass) and never
build an error response by hand.
"""
import logging

from marshmallow import ValidationError
from pyramid.exceptions import URLDecodeError
from pyramid.httpexceptions import HTTPException, HTTPMethodNotAllowed
from pyramid.response import Response
from pyramid_retry import is_last_attempt

from .methods import allowed_methods

log = logging.getLogger(__name__)


class APIError(Exception):
    status = 400
    code = "bad_request"
    message = "The request is not valid."

    def __init__(self, message=None, *, code=None, status=None, fields=None, headers=None,
                 extra=None):
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.fields = fields or {}
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(self.message)


class BadRequest(APIError):
    status, code = 400, "bad_request"


class Unauthorized(APIError):
    status, code, message = 401, "unauthorized", "Authentication is required."


class Forbidden(APIError):
    status, code, message = 403, "forbidden", "You are not allowed to do this."


class NotFound(APIError):
    status, code, message = 404, "not_found", "Nothing is here."


class Conflict(APIError):
    status, code = 409, "conflict"


class PayloadTooLarge(APIError):
    status, code = 413, "payload_too_large"


class Unprocessable(APIError):
    status, code = 422, "unprocessable"


class TooManyRequests(APIError):
    status, code = 429, "too_many_requests"


def error_body(code, message, fields=None, **extra):
    error = {"code": code, "message": message, "fields": fields or {}}
    error.update(extra)
    return {"error": error}


def json_error(request, status, code, message, fields=None, headers=None, **extra):
    response = Response(status=status, json_body=error_body(code, message, fields, **extra),
                        charset="utf-8")
    for name, value in (headers or {}).items():
        response.headers[name] = str(value)
    request_id = getattr(request, "request_id", None)
    if request_id:
        response.headers["X-Request-ID"] = request_id
    return response


def field_messages(messages):
    """marshmallow's nested messages flattened to {"field.sub": [str, ...]}."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix or "_schema", []).extend(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(prefix, item)
        else:
            flat.setdefault(prefix or "_schema", []).append(str(value))

    walk("", messages)
    return flat


def api_error_view(exc, request):
    return json_error(request, exc.status, exc.code, exc.message, exc.fields, exc.headers,
                      **exc.extra)


def validation_error_view(exc, request):
    return json_error(request, 400, "invalid", "Some fields are not valid.",
                      field_messages(exc.messages))


HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "unprocessable", 429: "too_many_requests",
}


def http_exception_view(exc, request):
    if exc.status_int < 400:
        return exc
    if exc.status_int == 404:
        allowed = allowed_methods(request)
        if allowed and request.method not in allowed:
            return json_error(request, 405, "method_not_allowed",
                              f"{request.method} is not allowed here; use "
                              f"{', '.join(allowed)}.", headers={"Allow": ", ".join(allowed)})
    headers = {}
    if exc.status_int == 405 or isinstance(exc, HTTPMethodNotAllowed):
        headers["Allow"] = exc.headers.get("Allow", "")
    message = exc.explanation or exc.title
    if exc.status_int == 404:
        message = "Nothing is here."
    elif exc.detail and isinstance(exc.detail, str):
        message = exc.detail
    return json_error(request, exc.status_int, HTTP_CODES.get(exc.status_int, "error"),
                      message, headers=headers)


def server_error_view(exc, request):
    if _should_retry(request, exc):
        # let pyramid_tm abort and pyramid_retry replay the request
        raise exc
    # the raw path: a decoded one may be the very thing that failed
    log.error("unhandled error in request %s %s %r", getattr(request, "request_id", "-"),
              request.method, request.environ.get("PATH_INFO", ""), exc_info=exc)
    return json_error(request, 500, "server_error",
                      "Something went wrong on our side; the error was logged.",
                      request_id=getattr(request, "request_id", None))


def _should_retry(request, exc):
    if is_last_attempt(request):
        return False
    try:
        return bool(request.tm.get().isRetryableError(exc))
    except Exception:  # no transaction: nothing to retry
        return False


def undecodable_url_view(exc, request):
    return json_error(request, 400, "invalid_url", "The URL is not valid UTF-8.")


def includeme(config):
    config.add_exception_view(undecodable_url_view, context=URLDecodeError)
    config.add_exception_view(api_error_view, context=APIError)
    config.add_exception_view(validation_error_view, context=ValidationError)
    config.add_exception_view(http_exception_view, context=HTTPException)
    config.add_exception_view(server_error_view, context=Exception)


__all__ = [name for name in dir() if name[0].isupper() and name != "Response"]
