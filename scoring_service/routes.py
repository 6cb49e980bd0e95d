"""HTTP routes of scoring_service (HTTP only: the work is in domain.py and scoring/)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import abort

from shared.auth import require_scope
from shared.extensions import get_store
from shared.web import Blueprint

from . import domain
from .schemas import (
    ExplainQuerySchema, ExplainSchema, ReportQuerySchema, ReportSchema, ScoreRequestSchema,
)

blp = Blueprint("reports", __name__, url_prefix="/v1",
                description="Alignment and readiness score reports per customer segment")


@blp.route("/surveys/<survey_id>/report")
class Report(MethodView):
    @require_scope("read", service_calls=True)  # pdf_service fetches reports for briefs
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ReportSchema)
    def get(self, query, survey_id):
        """The score report: overall and per segment, with n, intervals, bands, suppression,
        comparisons, quadrants and ranked recommendations. Computed from the per-cell counters,
        so its cost does not grow with the number of responses."""
        return domain.survey_report(get_store(), g.org_id, survey_id,
                    query["segment_by"], weighted=query["weighted"])


@blp.route("/surveys/<survey_id>/report/explain")
class Explain(MethodView):
    @require_scope("read")
    @blp.arguments(ExplainQuerySchema, location="query")
    @blp.response(200, ExplainSchema)
    def get(self, query, survey_id):
        """The inputs and formula behind one number of the report."""
        report = domain.survey_report(get_store(), g.org_id, survey_id, [],
                      explain=True, segment=query["segment"])
        key = report["explained"]
        segment = next((s for s in report["segments"] if s["key"] == key), None)
        if segment is None or segment["status"] == "suppressed":
            abort(404, message=f"Segment {key!r} is not shown: it has too few responses, or "
                               "showing it would let a smaller group be worked out.")
        dimension = query["dimension"]
        part = segment["alignment"]["dimensions"].get(dimension) or \
            segment["readiness"]["pillars"].get(dimension)
        return {"survey_id": survey_id, "segment": key, "dimension": dimension,
                "model": report["model"], "result": part, **segment["explain"][dimension]}


@blp.route("/score")
class Score(MethodView):
    @require_scope("read")
    @blp.arguments(ScoreRequestSchema)
    @blp.response(200, ReportSchema)
    def post(self, body):
        """Score posted responses without storing anything: the same report shape and the
        same validation as ingestion."""
        store = get_store()
        instruments = []
        for field in ("instrument", "vendor_instrument"):
            ref = body[field]
            found = store.instruments.get(g.org_id, ref["id"], ref.get("version"))
            if found is None:
                abort(422, message="Unknown instrument.", errors=[
                    {"field": f"{field}.id", "location": "json",
                     "reason": f"No instrument '{ref['id']}'."}])
            instruments.append(found)
        return domain.stateless_report(instruments[0], instruments[1], body)
