"""Announcements: short notices a shop shows its visitors for a period of time.

A third-party Emporium plugin in its own distribution. Emporium finds it through
the ``emporium.plugins`` entry point in setup.cfg, exactly like a built-in plugin.
"""
from marshmallow import Schema, fields, validate

from core.plugins import Manifest

MANAGE = "announcements.manage"


class AnnouncementsSettings(Schema):
    max_shown = fields.Integer(
        load_default=3, validate=validate.Range(min=1, max=20),
        metadata={"description": "How many active announcements the public list shows"})


# keep the version in step with setup.cfg: an increase is what triggers `emporium db upgrade`
manifest = Manifest(
    name="announcements",
    version="1.0.0",
    title="Announcements",
    summary="Shop-wide notices shown to visitors between a start and an optional end time",
    settings=AnnouncementsSettings,
    # the kernel versions it works with; on any other it is listed as broken
    requires_kernel=">=0.1,<1",
)


def includeme(config):
    # one path, two routes: the request method picks the route, so each action
    # keeps its own "<plugin>.<action>" name in plans and in the OpenAPI document
    config.add_route("announcements.list", "/announcements", request_method="GET")
    config.add_route("announcements.create", "/announcements", request_method="POST")
    # the only route on its path: a wrong method gets the kernel's 405, not a 404
    config.add_route("announcements.delete", r"/announcements/{id:\d+}")
    config.scan(".views")
