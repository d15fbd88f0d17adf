"""The Stripe widget of the admin's dashboard (no pages of its own: the keys are set on
the kernel's plugin settings page, where secrets are write-only)."""
from core.plugins import hookimpl
from plugins.orders import MANAGE

from . import services


@hookimpl
def admin_dashboard(request):
    found = services.figures(request.dbsession)

    def order_link(number):
        if not number:
            return "-"
        return {"text": number,
                "url": request.route_path("orders.admin_page_order", number=number)}

    return [{
        "title": "Stripe payments", "order": 30, "permission": MANAGE,
        "figures": [
            {"label": "Webhook events (24 h)", "value": str(found["events_today"]),
             "url": None},
            {"label": "Orders waiting for a card payment", "value": str(found["waiting"]),
             "url": request.route_path("orders.admin_page_orders",
                                       _query={"status": "payment_pending"})},
        ],
        "table": {
            "columns": ["Received (UTC)", "Event", "Outcome", "Order"],
            "rows": [[event.received_at.strftime("%Y-%m-%d %H:%M"), event.type,
                      event.outcome.replace("_", " "), order_link(event.order_number)]
                     for event in found["problems"]],
        },
        "empty": "No payment needed attention this week.",
    }]
