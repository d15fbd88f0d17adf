"""The menu, the dashboard and a customer's page: the kernel's parts plus what enabled
plugins add.

Plugins answer the ``admin_menu``, ``admin_dashboard`` and ``admin_customer_sections``
hooks (core/hookspecs.py); only enabled plugins are asked, so their parts go away
with them. An entry, widget or section whose permission the staff member lacks is
left out; one that is not well-formed is left out and logged, so one plugin cannot
break the admin.
"""
import dataclasses
import logging

from pyramid.httpexceptions import HTTPException

from core.db import utcnow
from core.plugins.listing import describe_all

from . import ACCESS, CUSTOMERS
from .customers import account_counts

log = logging.getLogger(__name__)

PLUGINS_PERMISSION = "core.plugins.manage"

KERNEL_MENU = (
    {"title": "Dashboard", "route_name": "core.admin_dashboard", "order": 0},
    {"title": "Customers", "route_name": "core.admin_customers", "match": "core.admin_customer",
     "permission": CUSTOMERS, "order": 40},
    {"title": "Plugins", "route_name": "core.admin_plugins", "match": "core.admin_plugin",
     "permission": PLUGINS_PERMISSION, "order": 1000},
)


@dataclasses.dataclass(frozen=True)
class MenuItem:
    title: str
    url: str
    active: bool
    order: int


def _entries(request, hook_name, **kwargs):
    results = getattr(request.plugins.hook, hook_name)(request=request, **kwargs)
    for result in results:
        if isinstance(result, dict):  # one entry instead of a list of them
            result = [result]
        for entry in result or ():
            yield entry


def _order(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else 500


def build_menu(request):
    admin = request.admin
    current = request.matched_route.name if request.matched_route else ""
    items = []
    for entry in [*KERNEL_MENU, *_entries(request, "admin_menu")]:
        if not isinstance(entry, dict) or not isinstance(entry.get("title"), str) \
                or not isinstance(entry.get("route_name"), str):
            log.warning("admin menu entry left out (needs title and route_name): %r", entry)
            continue
        if not admin.can(entry.get("permission") or ACCESS):
            continue
        try:
            url = request.route_path(entry["route_name"])
        except (KeyError, HTTPException):
            log.warning("admin menu entry left out (unknown route): %r", entry)
            continue
        match = entry.get("match") or entry["route_name"]
        items.append(MenuItem(entry["title"], url, current.startswith(match),
                              _order(entry.get("order"))))
    return sorted(items, key=lambda item: (item.order, item.title.lower()))


def _widgets(request, candidates, what):
    """The well-formed ``candidates`` the staff member may see, in their order."""
    admin = request.admin
    widgets = []
    for widget in candidates:
        if not isinstance(widget, dict) or not isinstance(widget.get("title"), str):
            log.warning("%s left out (needs a title): %r", what, widget)
            continue
        if not admin.can(widget.get("permission") or ACCESS):
            continue
        widgets.append(widget)
    return sorted(widgets, key=lambda w: (_order(w.get("order")), w["title"].lower()))


def build_dashboard(request):
    return _widgets(request, [*kernel_widgets(request), *_entries(request, "admin_dashboard")],
                    "dashboard widget")


def build_customer_sections(request, user):
    """The sections plugins add to ``user``'s page, shaped as dashboard widgets."""
    return _widgets(request, _entries(request, "admin_customer_sections", user=user),
                    "customer section")


def kernel_widgets(request):
    registry = request.registry["plugins"]
    plugins = describe_all(registry, request.plugins.snapshot)
    counts = {}
    for plugin in plugins:
        counts[plugin["state"]] = counts.get(plugin["state"], 0) + 1
    upgrades = sum(1 for plugin in plugins if plugin.get("upgrade_available"))

    def plugins_url(state):
        return request.route_path("core.admin_plugins", _query={"state": state})

    figures = [{"label": label, "value": str(counts.get(state, 0)), "url": plugins_url(state)}
               for state, label in (("enabled", "Enabled"), ("disabled", "Disabled"),
                                    ("available", "Not installed"), ("broken", "Broken"))]
    if upgrades:
        figures.append({"label": "Upgrades waiting", "value": str(upgrades), "url": None})
    counts = account_counts(request.dbsession, utcnow())

    def customers_url(**query):
        return request.route_path("core.admin_customers", _query=query)

    newest = customers_url(role="customer", sort="newest")
    return [
        {"title": "Plugins", "order": 900, "permission": PLUGINS_PERMISSION,
         "figures": figures,
         "link": {"title": "Manage plugins", "url": request.route_path("core.admin_plugins")}},
        {"title": "Accounts", "order": 950, "permission": CUSTOMERS, "figures": [
            {"label": "Customers", "value": str(counts["customers"]),
             "url": customers_url(role="customer")},
            {"label": "New today (UTC)", "value": str(counts["today"]), "url": newest},
            {"label": "New this month", "value": str(counts["month"]), "url": newest},
            {"label": "Deactivated", "value": str(counts["inactive"]),
             "url": customers_url(status="inactive")},
            {"label": "Staff", "value": str(counts["staff"]), "url": customers_url(role="staff")},
        ], "link": {"title": "Every customer", "url": request.route_path(
            "core.admin_customers")}},
    ]
