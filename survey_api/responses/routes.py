"""HTTP routes for responses."""

from __future__ import annotations

from flask import Response as HttpResponse
from flask import g, stream_with_context
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError

from shared.auth import require_scope
from shared.problems import flatten_messages
from shared.storage import CONFLICT, to_timestamp
from shared.text import encode_utf8
from shared.extensions import get_store
from shared.web import (
    Blueprint, item_problems, items_checked_one_by_one, json_response, record_response,
)

from ..surveys.domain import get_survey
from ..audit import record
from . import domain, erasure, export
from .schemas import (
    BatchInputSchema, ErasureInputSchema, ErasureSchema, BatchResultSchema, ExportQuerySchema, ResponseInputSchema,
    ResponsePageSchema, ResponseQuerySchema, ResponseSchema,
)

blp = Blueprint("responses", __name__, url_prefix="/v1/surveys/<survey_id>",
                description="Responses from integrations: single, batch, listing and export")

# A batch's items are checked one by one with the same schema as a single post (compiled); the
# single post's fast path (fast_post.py) loads its body with it too.
load_envelope = ResponseInputSchema().load


@blp.route("/responses")
class Responses(MethodView):
    @require_scope("read")
    @blp.arguments(ResponseQuerySchema, location="query")
    @blp.response(200, ResponsePageSchema)
    def get(self, query, survey_id):
        """A survey's responses, oldest first, filtered by segment, date, source or status."""
        survey = get_survey(get_store(), g.org_id, survey_id)
        filters = {k: query.get(k) for k in ("instrument", "source", "complete")}
        for bound in ("created_from", "created_to"):
            if query.get(bound):
                filters[bound] = to_timestamp(query[bound])
        filters["attributes"] = dict(s.split(":", 1) for s in query.get("segment", []))
        return get_store().responses.list(g.org_id, survey.id, after=query.get("cursor"),
                                          limit=query["limit"], filters=filters)

    @require_scope("ingest")
    @blp.arguments(ResponseInputSchema)
    @blp.response(201, ResponseSchema, description="Stored")
    @blp.alt_response(200, schema=ResponseSchema,
                      description="Already stored with the same content (the stored response), "
                                  "or a stored partial response updated")
    @blp.alt_response(409, description="The submission id is stored with other content")
    def post(self, item, survey_id):
        """Post one response. Safe to retry with the same submission_id. A partial response
        (complete=false) is a draft: posting the same submission_id again replaces it, until a
        complete version is posted; only complete responses are scored. A question that the
        instrument's display conditions hide, given the other answers, is not required, and an
        answer to it is refused (422, field answers.<id>)."""
        survey = get_survey(get_store(), g.org_id, survey_id)
        response, outcome = domain.ingest_one(get_store(), survey, item)
        if outcome == CONFLICT:
            abort(409, message="This submission_id is already stored with different content.",
                  existing_id=response.id)
        # Written by orjson from ResponseSchema's fields: the marshmallow dump and the json
        # module were a tenth of a single post's CPU.
        return record_response(ResponseSchema, response, domain.OUTCOME_STATUS[outcome])


@blp.route("/responses:batch")
class ResponseBatch(MethodView):
    @items_checked_one_by_one("responses")
    @require_scope("ingest")
    @blp.arguments(BatchInputSchema)
    @blp.response(200, BatchResultSchema)
    def post(self, body, survey_id):
        """Post up to 1,000 responses in one transaction. Each item gets its own result;
        invalid items are rejected with reasons and do not stop the valid ones."""
        survey = get_survey(get_store(), g.org_id, survey_id)
        items, envelope_errors = [], {}
        bad_text = item_problems("responses")
        for position, raw in enumerate(body["responses"]):
            if position in bad_text:
                envelope_errors[position] = bad_text[position]
                items.append(raw if isinstance(raw, dict) else {})
                continue
            if not isinstance(raw, dict):
                envelope_errors[position] = [{"field": None, "reason": "Must be an object."}]
                items.append({})
                continue
            try:
                items.append(load_envelope(raw))
            except ValidationError as exc:
                envelope_errors[position] = [{"field": e["field"], "reason": e["reason"]}
                                             for e in flatten_messages(exc.messages)]
                items.append(raw)
        results = domain.ingest_batch(get_store(), survey, items, envelope_errors)
        counts = dict.fromkeys(("created", "updated", "duplicate", "conflict", "rejected"), 0)
        for result in results:
            counts[result["status"]] += 1
        # The results are plain dicts already in BatchResultSchema's shape (the tests compare
        # them with it): dumping 1,000 of them through marshmallow cost a tenth of a batch.
        return json_response({**counts, "results": results})


@blp.route("/responses/<response_id>")
class ResponseById(MethodView):
    @require_scope("read")
    @blp.response(200, ResponseSchema)
    def get(self, survey_id, response_id):
        """One response."""
        response = get_store().responses.get(g.org_id, response_id, survey_id)
        if response is None or response.survey_id != survey_id:
            abort(404, message=f"No response {response_id} in survey {survey_id}.")
        return response


@blp.route("/erasures")
class Erasures(MethodView):
    @require_scope("admin")
    @blp.arguments(ErasureInputSchema)
    @blp.response(200, ErasureSchema)
    def post(self, body, survey_id):
        """Erase one respondent's response (by submission id or invitation id) and its
        counts from the scores. Recorded in the audit log without the answers."""
        survey = get_survey(get_store(), g.org_id, survey_id)
        return erasure.erase(get_store(), survey, g.api_key.id, **body)


@blp.route("/responses/export")
class ResponseExport(MethodView):
    @require_scope("read")
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.response(200, description="CSV (one instrument's columns) or NDJSON, streamed")
    def get(self, query, survey_id):
        """Every response of one instrument, streamed as CSV or NDJSON. Memory stays flat for
        any number of responses; CSV cells that a spreadsheet would run as formulas are
        prefixed with a quote. Answers are codes unless `labels` names a language the
        instrument offers: then options show as their labels in it."""
        store = get_store()
        survey = get_survey(store, g.org_id, survey_id)
        kind = query["instrument"]
        ctx = domain.context_for(store, survey)
        labels = export.labels_in(ctx.instruments[kind], query.get("labels"))
        record(store, g.org_id, "responses.exported", g.api_key.id, survey_id=survey.id,
               format=query["format"], instrument=kind,
               **({"labels": query["labels"]} if query.get("labels") else {}))
        rows = store.responses.iter_survey(survey.id, instrument=kind)
        filename = f"responses-{survey.id}-{kind}"
        if query["format"] == "ndjson":
            body, mimetype, filename = export.ndjson_rows(rows, labels), \
                "application/x-ndjson", filename + ".ndjson"
        else:
            body, mimetype, filename = export.csv_rows(
                rows, ctx.instruments[kind].definition, ctx.segment_names[kind], labels), \
                "text/csv", filename + ".csv"
        # Encoded here so that text an older version stored unencodable cannot end the stream.
        return HttpResponse(stream_with_context(map(encode_utf8, body)), mimetype=mimetype,
                            headers={"Content-Disposition":
                                     f'attachment; filename="{filename}"'})
