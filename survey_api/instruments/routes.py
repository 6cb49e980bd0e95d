"""HTTP routes for instruments."""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from shared.auth import require_scope
from shared.extensions import get_store
from shared.web import Blueprint

from . import domain
from .schemas import InstrumentQuerySchema, InstrumentSchema, InstrumentSummarySchema

blp = Blueprint("instruments", __name__, url_prefix="/v1/instruments",
                description="Versioned questionnaires: two built in, and the organization's own")


@blp.route("")
class Instruments(MethodView):
    @require_scope("read")
    @blp.response(200, InstrumentSummarySchema(many=True))
    def get(self):
        """Every instrument version the organization can use (built-in and its own)."""
        return [domain.summary(i) for i in get_store().instruments.list(g.org_id)]

    @require_scope("admin")
    @blp.arguments(InstrumentSchema)
    @blp.response(201, InstrumentSchema)
    def post(self, definition):
        """Add an instrument, or a new version of one. Versions are immutable once added."""
        return domain.add_instrument(get_store(), g.org_id, definition).definition


@blp.route("/<instrument_id>")
class InstrumentById(MethodView):
    @require_scope("read")
    @blp.arguments(InstrumentQuerySchema, location="query")
    @blp.response(200, InstrumentSchema)
    def get(self, query, instrument_id):
        """One instrument: the latest version, or the one named by ?version=."""
        return domain.get_instrument(get_store(), g.org_id, instrument_id,
                                     query.get("version")).definition
