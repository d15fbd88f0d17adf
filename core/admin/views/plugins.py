"""The plugins page: every plugin, its plan before each operation, and its settings.

The same ``Lifecycle`` and ``listing`` the REST API (core/plugins/views.py) uses:
plans, refusals and settings validation are theirs, shown here in words.
"""
from pyramid.httpexceptions import HTTPNotFound

from core.api.errors import APIError
from core.plugins.lifecycle import Lifecycle
from core.plugins.listing import describe, describe_all
from core.plugins.models import AVAILABLE, DISABLED, ENABLED

from .. import admin_view
from .. import settings_form
from ..forms import attempt, checked, done, not_done, pager, text

MANAGE = "core.plugins.manage"
STATES = (ENABLED, DISABLED, AVAILABLE, "broken")
DONE = {"install": "installed", "enable": "enabled", "disable": "disabled",
        "uninstall": "uninstalled", "upgrade": "upgraded"}


def lifecycle(request):
    return Lifecycle.for_app(request.registry, request.dbsession, request.tm)


def actions(plugin):
    """The operations that make sense for a plugin in its state, in the order shown."""
    state = plugin["state"]
    found = []
    if state == AVAILABLE:
        found.append("install")
    if state == DISABLED:
        found.append("enable")
    if state == ENABLED:
        found.append("disable")
    if plugin.get("upgrade_available"):
        found.append("upgrade")
    if state in (ENABLED, DISABLED):
        found.append("uninstall")
    return found


def _matches(plugin, q):
    q = q.lower()
    return any(q in (plugin.get(key) or "").lower() for key in ("name", "title", "summary"))


@admin_view(route_name="core.admin_plugins", request_method="GET", permission=MANAGE,
            renderer="core.admin:templates/plugins.jinja2")
def list_plugins(request):
    q = text(request.GET, "q")
    state = request.GET.get("state", "")
    plugins = describe_all(request.registry["plugins"], lifecycle(request).snapshot())
    if q:
        plugins = [p for p in plugins if _matches(p, q)]
    if state in STATES:
        plugins = [p for p in plugins if p["state"] == state]
    page = pager(request, len(plugins))
    items = plugins[page.offset:page.offset + page.per_page]
    return {"plugins": [dict(p, actions=actions(p)) for p in items], "page": page, "q": q,
            "state": state, "states": STATES}


def _detail(request, name, submitted=None, errors=None):
    registry = request.registry["plugins"]
    life = lifecycle(request)
    if registry.get(name) is None and name not in registry.broken:
        raise HTTPNotFound()
    snapshot = life.snapshot()
    plugin = describe(registry, snapshot, name)
    fields = settings_form.build_fields(registry, snapshot, name, submitted, errors) \
        if registry.get(name) is not None else []
    return {"plugin": plugin, "actions": actions(plugin) if plugin["state"] != "broken" else [],
            "fields": fields, "errors": errors or {}}


@admin_view(route_name="core.admin_plugin", request_method="GET", permission=MANAGE,
            renderer="core.admin:templates/plugin.jinja2")
def plugin_page(request):
    return _detail(request, request.matchdict["name"])


@admin_view(route_name="core.admin_plugin_settings", request_method="POST", permission=MANAGE,
            renderer="core.admin:templates/plugin.jinja2")
def save_settings(request):
    name = request.matchdict["name"]
    registry = request.registry["plugins"]
    if registry.get(name) is None:
        raise HTTPNotFound()
    life = lifecycle(request)
    changes, submitted, errors = settings_form.parse(registry, life.snapshot(), name,
                                                     request.POST)
    refusal = None
    if not errors and changes:
        _, refusal = attempt(request, lambda: life.update_settings(name, changes))
    if errors or refusal is not None:
        request.response.status = refusal.status if refusal is not None else 400
        data = _detail(request, name, submitted, refusal.fields if refusal else errors)
        data["error"] = refusal.message if refusal is not None and not refusal.fields else \
            "The settings were not saved; see the messages below."
        return data
    return done(request, "Settings saved." if changes else "Nothing changed.",
                "core.admin_plugin", _kind="success" if changes else "info", name=name)


def _options(params):
    return {"cascade": checked(params, "cascade"), "purge": checked(params, "purge")}


@admin_view(route_name="core.admin_plugin_operation", request_method="GET", permission=MANAGE,
            renderer="core.admin:templates/plan.jinja2")
def plan_operation(request):
    """What the operation would change, with a button to confirm it."""
    name, operation = request.matchdict["name"], request.matchdict["operation"]
    options = _options(request.GET)
    life = lifecycle(request)
    try:
        steps = life.plan(operation, name, **options)
        refusal = None
    except APIError as exc:
        if exc.status == 404:
            raise HTTPNotFound()
        steps, refusal = [], exc
    plugin = describe(request.registry["plugins"], life.snapshot(), name)
    return {"plugin": plugin, "operation": operation, "steps": steps, "options": options,
            "refusal": refusal,
            "can_cascade": operation == "disable" and refusal is not None
            and refusal.code == "plugin_has_dependents"}


@admin_view(route_name="core.admin_plugin_operation", request_method="POST", permission=MANAGE)
def run_operation(request):
    name, operation = request.matchdict["name"], request.matchdict["operation"]
    life = lifecycle(request)
    steps, refusal = attempt(request, lambda: life.run(operation, name,
                                                       **_options(request.POST)))
    if refusal is not None:
        if refusal.status == 404:
            raise HTTPNotFound()
        return not_done(request, refusal, "core.admin_plugin", name=name)
    if not steps:
        return done(request, f"Nothing to do: {name} is already {DONE[operation]}.",
                    "core.admin_plugin", _kind="info", name=name)
    described = "; ".join(step.describe() for step in steps)
    return done(request, f"Done: {described}.", "core.admin_plugin", name=name)
