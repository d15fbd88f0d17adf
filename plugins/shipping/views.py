"""Shipping's REST views: the public list of methods for a country, the staff's zones,
methods and carriers (``shipping.manage``), and an order's shipments (``orders.manage``,
the permission that moves orders)."""
from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import NO_PERMISSION_REQUIRED

from core.api import api_view
from core.api.errors import NotFound
from core.api.pagination import page_of
from plugins.orders import MANAGE as ORDERS_MANAGE
from plugins.orders.representation import order_json
from plugins.orders.schemas import OrderSchema

from . import MANAGE, services
from .representation import carrier_data, fulfillment_data, method_data, zone_data
from .schemas import (CarrierBody, CarrierListSchema, CarrierPatch, CarrierSchema,
                      DeliverBody, FulfillmentSchema, MethodAnswer, MethodBody, MethodsQuery,
                      PublicMethodsSchema, ShipmentBody, ZoneBody, ZoneListQuery,
                      ZonePageSchema, ZoneSchema, patch)

PUBLIC = NO_PERMISSION_REQUIRED


def _user_id(request):
    return request.identity.id if request.identity is not None else None


# --- the storefront ------------------------------------------------------------------------


@api_view(route_name="shipping.methods", request_method="GET", permission=PUBLIC,
          query_schema=MethodsQuery, response_schema=PublicMethodsSchema,
          summary="The shipping methods to a country (and region) with their rates",
          description="The methods of the zone that serves the address; an empty list when "
                      "no zone does. What an order really costs to ship depends on its "
                      "weight and value: POST /checkout/quote says.")
def public_methods(request):
    query = request.validated_query
    zone = services.zone_for(request.dbsession, query["country"], query["region"])
    currency = services.shop_currency(request)
    methods = [method for method in (zone.methods if zone is not None else ())
               if method.is_active and method.currency == currency]
    return {"country": query["country"], "region": query["region"],
            "zone": {"id": zone.id, "name": zone.name} if zone is not None else None,
            "items": [method_data(method, staff=False) for method in methods]}


# --- zones ---------------------------------------------------------------------------------


def _zone(request):
    zone = services.find_zone(request.dbsession, request.matchdict["id"])
    if zone is None:
        raise NotFound("There is no such shipping zone.", code="zone_not_found")
    return zone


@api_view(route_name="shipping.zones", request_method="GET", permission=MANAGE,
          query_schema=ZoneListQuery, response_schema=ZonePageSchema,
          summary="Every shipping zone with its areas and methods")
def list_zones(request):
    query = request.validated_query
    zones, total = services.list_zones(request.dbsession, query["page"], query["per_page"])
    return page_of(request, [zone_data(zone) for zone in zones], total, query["page"],
                   query["per_page"])


@api_view(route_name="shipping.zones", request_method="POST", permission=MANAGE,
          body_schema=ZoneBody, response_schema=ZoneSchema, status=201,
          summary="Create a zone: countries, regions of them, or * for the rest of the world",
          description="409 area_taken when an area belongs to another zone already.")
def create_zone(request):
    return zone_data(services.create_zone(request.dbsession, request.validated))


@api_view(route_name="shipping.zone", request_method="GET", permission=MANAGE,
          response_schema=ZoneSchema, summary="One zone with its areas and methods")
def get_zone(request):
    return zone_data(_zone(request))


@api_view(route_name="shipping.zone", request_method="PATCH", permission=MANAGE,
          body_schema=patch(ZoneBody), response_schema=ZoneSchema,
          summary="Change a zone; areas, if given, replace the zone's areas")
def update_zone(request):
    return zone_data(services.update_zone(request.dbsession, _zone(request),
                                          request.validated))


@api_view(route_name="shipping.zone", request_method="DELETE", permission=MANAGE,
          summary="Delete a zone and its methods (placed orders keep their copy)")
def delete_zone(request):
    services.delete_zone(request.dbsession, _zone(request))
    return HTTPNoContent()


# --- methods -------------------------------------------------------------------------------


def _method(request):
    method = services.find_method(request.dbsession, request.matchdict["id"])
    if method is None:
        raise NotFound("There is no such shipping method.", code="method_not_found")
    return method


@api_view(route_name="shipping.zone_methods", request_method="POST", permission=MANAGE,
          body_schema=MethodBody, response_schema=MethodAnswer, status=201,
          summary="Add a method to a zone: flat, by weight or value in tiers, or free",
          description="Amounts are in the shop currency. 409 duplicate_code when another "
                      "method has the code.")
def create_method(request):
    zone = _zone(request)
    method = services.create_method(request.dbsession, zone, request.validated,
                                     services.shop_currency(request))
    return method_data(method)


@api_view(route_name="shipping.method", request_method="GET", permission=MANAGE,
          response_schema=MethodAnswer, summary="One shipping method")
def get_method(request):
    return method_data(_method(request))


@api_view(route_name="shipping.method", request_method="PATCH", permission=MANAGE,
          body_schema=patch(MethodBody), response_schema=MethodAnswer,
          summary="Change a method (amounts in its currency); tiers, if given, replace its "
                  "tiers")
def update_method(request):
    return method_data(services.update_method(request.dbsession, _method(request),
                                              request.validated))


@api_view(route_name="shipping.method", request_method="DELETE", permission=MANAGE,
          summary="Delete a method (placed orders keep their copy)")
def delete_method(request):
    services.delete_method(request.dbsession, _method(request))
    return HTTPNoContent()


# --- carriers ------------------------------------------------------------------------------


def _carrier(request):
    carrier = services.find_carrier(request.dbsession, request.matchdict["code"])
    if carrier is None:
        raise NotFound("There is no such carrier.", code="carrier_not_found")
    return carrier


@api_view(route_name="shipping.carriers", request_method="GET", permission=MANAGE,
          response_schema=CarrierListSchema,
          summary="The carriers whose tracking pages shipments link to")
def list_carriers(request):
    return {"items": [carrier_data(c) for c in services.list_carriers(request.dbsession)]}


@api_view(route_name="shipping.carriers", request_method="POST", permission=MANAGE,
          body_schema=CarrierBody, response_schema=CarrierSchema, status=201,
          summary="Add a carrier and its tracking page ({tracking_number} in it)")
def create_carrier(request):
    return carrier_data(services.create_carrier(request.dbsession, request.validated))


@api_view(route_name="shipping.carrier", request_method="PATCH", permission=MANAGE,
          body_schema=patch(CarrierPatch), response_schema=CarrierSchema,
          summary="Change a carrier's name or tracking page (shipments keep their link)")
def update_carrier(request):
    return carrier_data(services.update_carrier(request.dbsession, _carrier(request),
                                                request.validated))


@api_view(route_name="shipping.carrier", request_method="DELETE", permission=MANAGE,
          summary="Delete a carrier (shipments keep their carrier's name and link)")
def delete_carrier(request):
    services.delete_carrier(request.dbsession, _carrier(request))
    return HTTPNoContent()


# --- shipments -----------------------------------------------------------------------------


def _answer(request, order):
    request.dbsession.flush()
    order = services.orders.load_order(request.dbsession, order)
    return order_json(request, order, staff=True)


@api_view(route_name="shipping.shipments", request_method="GET", permission=ORDERS_MANAGE,
          response_schema=FulfillmentSchema,
          summary="An order's shipments, and per item the units shipped and left")
def list_shipments(request):
    order = services.orders.find_order(request.dbsession, request.matchdict["number"])
    if order is None:
        raise NotFound("There is no such order.", code="order_not_found")
    shipments = services.shipments_of(request.dbsession, order.id)
    return {"number": order.number, "order_status": order.status,
            **fulfillment_data(order, shipments, staff=True)}


@api_view(route_name="shipping.shipments", request_method="POST", permission=ORDERS_MANAGE,
          body_schema=ShipmentBody, response_schema=OrderSchema, status=201,
          summary="Ship some or all units still to ship; the last ones make the order "
                  "shipped",
          description="Answers the order (staff view) with its fulfillment. 409 not_paid, "
                      "already_shipped, not_shippable, nothing_to_ship; 422 "
                      "quantity_exceeds_remaining.")
def create_shipment(request):
    order = services.find_order(request, request.matchdict["number"])
    body = request.validated
    services.ship(request, order, items=body.get("items"), carrier=body["carrier"],
                  tracking_number=body["tracking_number"],
                  tracking_url=body.get("tracking_url"), note=body["note"],
                  user_id=_user_id(request))
    return _answer(request, order)


@api_view(route_name="shipping.deliver", request_method="POST", permission=ORDERS_MANAGE,
          body_schema=DeliverBody, response_schema=OrderSchema, status=200,
          summary="A shipment arrived; once all have (and nothing is left to ship), the "
                  "order is delivered")
def deliver_shipment(request):
    order = services.find_order(request, request.matchdict["number"])
    services.deliver(request, order, request.matchdict["shipment_id"],
                     user_id=_user_id(request), note=request.validated["note"])
    return _answer(request, order)
