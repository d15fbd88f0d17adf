"""The menu and the dashboard: the kernel's entries plus what enabled plugins add.

Plugins answer the ``admin_menu`` and ``admin_dashboard`` hooks (core/hookspecs.py);
only enabled plugins are asked, so their entries go away with them. An entry or a
widget whose permission the staff member lacks is left out; one that is not
well-formed is left out and logged, so one plugin cannot break the admin.
"""
import dataclasses
import datetime as dt
import logging

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPException

from core.db import utcnow
from core.plugins.listing import describe_all
from core.security import STAFF, User

from . import ACCESS

log = logging.getLogger(__name__)

PLUGINS_PERMISSION = "core.plugins.manage"

KERNEL_MENU = (
    {"title": "Dashboard", "route_name": "core.admin_dashboard", "order": 0},
    {"title": "Plugins", "route_name": "core.admin_plugins", "match": "core.admin_plugin",
     "permission": PLUGINS_PERMISSION, "order": 1000},
)


@dataclasses.dataclass(frozen=True)
class MenuItem:
    title: str
    url: str
    active: bool
    order: int


def _entries(request, hook_name):
    results = getattr(request.plugins.hook, hook_name)(request=request)
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


def build_dashboard(request):
    admin = request.admin
    widgets = []
    for widget in [*kernel_widgets(request), *_entries(request, "admin_dashboard")]:
        if not isinstance(widget, dict) or not isinstance(widget.get("title"), str):
            log.warning("dashboard widget left out (needs a title): %r", widget)
            continue
        if not admin.can(widget.get("permission") or ACCESS):
            continue
        widgets.append(widget)
    return sorted(widgets, key=lambda w: (_order(w.get("order")), w["title"].lower()))


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
    dbsession = request.dbsession
    # roles is a JSON list; its text form names the role on every database
    is_staff = sa.cast(User.roles, sa.Text).like(f'%"{STAFF}"%')
    since = utcnow() - dt.timedelta(days=30)
    total, staff, new = dbsession.execute(sa.select(
        sa.func.count(),
        sa.func.count().filter(is_staff),
        sa.func.count().filter(sa.not_(is_staff), User.created_at >= since),
    ).select_from(User)).one()
    return [
        {"title": "Plugins", "order": 900, "permission": PLUGINS_PERMISSION,
         "figures": figures,
         "link": {"title": "Manage plugins", "url": request.route_path("core.admin_plugins")}},
        {"title": "Accounts", "order": 950, "figures": [
            {"label": "Customers", "value": str(total - staff), "url": None},
            {"label": "New customers, 30 days", "value": str(new), "url": None},
            {"label": "Staff", "value": str(staff), "url": None},
        ]},
    ]
