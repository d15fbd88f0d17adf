from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import NO_PERMISSION_REQUIRED

from core.api import NotFound, api_view

from . import MANAGE, services
from .schemas import Announcement, AnnouncementBody

KIND = "announcements.announcement"


def _as_json(request, announcement):
    # other plugins may add fields through the serialize hook
    return request.plugins.extend(KIND, announcement, Announcement().dump(announcement), request)


@api_view(route_name="announcements.list", request_method="GET",
          permission=NO_PERMISSION_REQUIRED,
          summary="The announcements showing now, newest first (at most the max_shown setting)")
def list_active(request):
    limit = request.plugins.settings("announcements")["max_shown"]
    items = services.active(request.dbsession, limit)
    return {"items": [_as_json(request, item) for item in items]}


@api_view(route_name="announcements.create", request_method="POST", permission=MANAGE,
          body_schema=AnnouncementBody, status=201, summary="Publish an announcement (staff)")
def create(request):
    announcement = services.create(request.dbsession, **request.validated)
    return _as_json(request, announcement)


@api_view(route_name="announcements.delete", request_method="DELETE", permission=MANAGE,
          summary="Delete an announcement (staff)")
def delete(request):
    if not services.delete(request.dbsession, int(request.matchdict["id"])):
        raise NotFound("There is no announcement with this id.", code="announcement_not_found")
    return HTTPNoContent()
