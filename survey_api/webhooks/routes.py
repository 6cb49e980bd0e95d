"""HTTP routes for webhooks."""

from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView

from shared.auth import require_scope
from shared.extensions import get_store
from shared.web import Blueprint

from . import domain
from .schemas import NewWebhookSchema, WebhookDetailSchema, WebhookInputSchema, WebhookSchema

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks",
                description="Signed notifications of new responses, retried until they land")


@blp.route("")
class Webhooks(MethodView):
    @require_scope("admin")
    @blp.response(200, WebhookSchema(many=True))
    def get(self):
        """The organization's webhooks with the result of their last delivery attempt."""
        return get_store().webhooks.list(g.org_id)

    @require_scope("admin")
    @blp.arguments(WebhookInputSchema)
    @blp.response(201, NewWebhookSchema)
    def post(self, body):
        """Register an endpoint. The signing secret is in this response only. The URL must
        reach a public address (checked again on every delivery) and carry no credentials."""
        allow_private = current_app.config["SETTINGS"].webhook_allow_private
        return domain.register(get_store(), g.org_id, body["url"], body["events"],
                               allow_private=allow_private)


@blp.route("/<webhook_id>")
class WebhookById(MethodView):
    @require_scope("admin")
    @blp.response(200, WebhookDetailSchema)
    def get(self, webhook_id):
        """A webhook and its latest deliveries."""
        store = get_store()
        webhook = domain.get_webhook(store, g.org_id, webhook_id)
        return {**WebhookSchema().dump(webhook),
                "deliveries": store.deliveries.list(g.org_id, webhook.id)}

    @require_scope("admin")
    @blp.response(204)
    def delete(self, webhook_id):
        """Remove a webhook; its pending deliveries are dropped."""
        domain.get_webhook(get_store(), g.org_id, webhook_id)
        get_store().webhooks.delete(g.org_id, webhook_id)
