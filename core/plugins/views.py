"""The plugins admin API (staff only): list, plan, install, enable, disable, uninstall, settings."""
from marshmallow import fields, validate

from core.api import api_view
from core.api.derivers import json_body
from core.api.schemas import RequestSchema

from .lifecycle import OPERATIONS, Lifecycle
from .listing import describe, describe_all, public_settings

MANAGE = "core.plugins.manage"


class OperationBody(RequestSchema):
    cascade = fields.Boolean(load_default=False, metadata={
        "description": "disable: also disable the enabled plugins that depend on it"})
    purge = fields.Boolean(load_default=False, metadata={
        "description": "uninstall: also drop the plugin's tables and settings"})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "only return the plan; change nothing"})


class PlanQuery(OperationBody):
    operation = fields.String(required=True, validate=validate.OneOf(OPERATIONS))


def lifecycle(request):
    return Lifecycle.for_app(request.registry, request.dbsession, request.tm)


@api_view(route_name="core.plugins", request_method="GET", permission=MANAGE,
          summary="Every discovered plugin with its state")
def list_plugins(request):
    registry = request.registry["plugins"]
    items = describe_all(registry, lifecycle(request).snapshot())
    return {"items": items, "total": len(items)}


@api_view(route_name="core.plugin", request_method="GET", permission=MANAGE,
          summary="One plugin")
def get_plugin(request):
    life = lifecycle(request)
    name = request.matchdict["name"]
    life.require(name)
    return describe(request.registry["plugins"], life.snapshot(), name)


@api_view(route_name="core.plugin_plan", request_method="GET", permission=MANAGE,
          query_schema=PlanQuery, summary="What an operation would change, without doing it")
def plan_operation(request):
    query = request.validated_query
    steps = lifecycle(request).plan(query["operation"], request.matchdict["name"],
                                    cascade=query["cascade"], purge=query["purge"])
    return {"operation": query["operation"], "steps": [s.as_dict() for s in steps]}


@api_view(route_name="core.plugin_operation", request_method="POST", permission=MANAGE,
          body_schema=OperationBody,
          summary="Install, enable, disable, uninstall or upgrade a plugin (with its "
                  "dependencies or dependents as the plan says)")
def run_operation(request):
    body = request.validated
    name, operation = request.matchdict["name"], request.matchdict["operation"]
    life = lifecycle(request)
    if body["dry_run"]:
        steps = life.plan(operation, name, cascade=body["cascade"], purge=body["purge"])
    else:
        steps = life.run(operation, name, cascade=body["cascade"], purge=body["purge"])
    return {
        "plugin": describe(request.registry["plugins"], life.snapshot(), name),
        "changed": [s.as_dict() for s in steps],
        "dry_run": body["dry_run"],
    }


@api_view(route_name="core.plugin_settings", request_method="GET", permission=MANAGE,
          summary="The plugin's settings; secrets only say whether they are set")
def get_settings(request):
    name = request.matchdict["name"]
    life = lifecycle(request)
    life.require(name)
    return public_settings(request.registry["plugins"], life.snapshot(), name)


@api_view(route_name="core.plugin_settings", request_method="PUT", permission=MANAGE,
          summary="Change settings: the given keys are validated and stored; null resets one")
def put_settings(request):
    name = request.matchdict["name"]
    life = lifecycle(request)
    life.update_settings(name, json_body(request))
    return public_settings(request.registry["plugins"], life.snapshot(), name)


def includeme(config):
    config.add_route("core.plugins", "/admin/plugins")
    config.add_route("core.plugin", "/admin/plugins/{name}")
    config.add_route("core.plugin_plan", "/admin/plugins/{name}/plan")
    config.add_route("core.plugin_settings", "/admin/plugins/{name}/settings")
    config.add_route("core.plugin_operation",
                     "/admin/plugins/{name}/{operation:" + "|".join(OPERATIONS) + "}")
    config.scan(".views")
