"""The dashboard: the kernel's figures and the widgets of enabled plugins."""
from pyramid.httpexceptions import HTTPSeeOther

from .. import admin_view
from ..menu import build_dashboard


@admin_view(route_name="core.admin_dashboard", request_method="GET",
            renderer="core.admin:templates/dashboard.jinja2")
def dashboard(request):
    return {"widgets": build_dashboard(request)}


@admin_view(route_name="core.admin_slash", request_method="GET")
def slash(request):
    return HTTPSeeOther(request.route_url("core.admin_dashboard"))
