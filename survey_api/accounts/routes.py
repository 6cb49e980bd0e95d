"""HTTP routes of survey_api's account endpoints (HTTP only: the work is in accounts.py)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import abort

from shared.auth import require_scope
from shared.extensions import get_store
from shared.web import Blueprint

from . import domain as accounts
from .schemas import (
    AuditEventSchema, AuditQuerySchema, KeySchema, NewKeySchema, WhoAmISchema,
)

blp = Blueprint("account", __name__, url_prefix="/v1",
                description="The calling organization and its API keys")


@blp.route("/me")
class WhoAmI(MethodView):
    @require_scope("read")
    @blp.response(200, WhoAmISchema)
    def get(self):
        """The organization and scopes of the API key in use."""
        org = get_store().organizations.get(g.org_id)
        return {"organization": org, "key": g.api_key}


@blp.route("/keys")
class Keys(MethodView):
    @require_scope("admin")
    @blp.response(200, KeySchema(many=True))
    def get(self):
        """The organization's API keys (never the keys themselves)."""
        return get_store().api_keys.list(g.org_id)

    @require_scope("admin")
    @blp.arguments(KeySchema)
    @blp.response(201, NewKeySchema)
    def post(self, body):
        """Issue a key. The response is the only time the key is shown."""
        key, plaintext = accounts.create_key(get_store(), g.org_id, body["name"], body["scopes"],
                                             actor=g.api_key.id)
        return {**KeySchema().dump(key), "key": plaintext}


@blp.route("/audit")
class Audit(MethodView):
    @require_scope("admin")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEventSchema(many=True))
    def get(self, query):
        """The audit log, newest first: keys issued and revoked, surveys opened and closed,
        exports and erasures, with who did them."""
        return get_store().audit.list(g.org_id, limit=query["limit"])


@blp.route("/keys/<key_id>")
class Key(MethodView):
    @require_scope("admin")
    @blp.response(204)
    def delete(self, key_id):
        """Revoke a key at once. Revoking a revoked key is a no-op."""
        if accounts.revoke_key(get_store(), g.org_id, key_id, actor=g.api_key.id) is None:
            abort(404, message=f"No API key {key_id} in this organization.")
