"""Errors under /admin as pages, not JSON: the same statuses and messages as the API.

Registered for /admin paths only (``path_info``), where they win over the JSON
error views of core.api.errors. They render without the menu: the request's
transaction may be unusable by now.
"""
from marshmallow import ValidationError
from pyramid.httpexceptions import HTTPException
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config

from core.api.errors import APIError, server_error_view

ADMIN_PATHS = r"^/admin(/|$)"
TEMPLATE = "core.admin:templates/error.jinja2"
TITLES = {400: "Bad request", 403: "Not allowed", 404: "Page not found",
          405: "Not allowed here", 409: "Conflict", 413: "Too large", 422: "Refused",
          429: "Too many attempts", 500: "Something went wrong"}


def page(request, status, message, request_id=None):
    response = render_to_response(TEMPLATE, {
        "title": TITLES.get(status, "Error"), "message": message, "status": status,
        "bare": True, "request_id": request_id}, request=request)
    response.status = status
    return response


@exception_view_config(APIError, path_info=ADMIN_PATHS)
def api_error(exc, request):
    message = "There is nothing here, or its plugin is not enabled." \
        if exc.status == 404 else exc.message
    response = page(request, exc.status, message)
    response.headers.update({name: str(value) for name, value in exc.headers.items()})
    return response


@exception_view_config(ValidationError, path_info=ADMIN_PATHS)
def invalid(exc, request):
    return page(request, 400, "The request is not valid.")


@exception_view_config(HTTPException, path_info=ADMIN_PATHS)
def http_error(exc, request):
    if exc.status_int < 400:
        return exc
    message = "There is nothing here, or its plugin is not enabled." \
        if exc.status_int == 404 else (exc.detail if isinstance(exc.detail, str)
                                       else exc.explanation or exc.title)
    return page(request, exc.status_int, message)


@exception_view_config(Exception, path_info=ADMIN_PATHS)
def server_error(exc, request):
    # the API's view logs the error and lets pyramid_retry replay a retryable one
    server_error_view(exc, request)
    return page(request, 500, "Something went wrong on our side; nothing was changed and "
                              "the error was logged.",
                request_id=getattr(request, "request_id", None))
