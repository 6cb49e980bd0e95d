"""Score reports for stored surveys (from the counters) and for posted responses (stateless)."""

from __future__ import annotations

from collections import Counter

from shared.cells import attribute_errors, cell_key
from shared.instruments import segment_names, segment_questions, validator_for
from shared.storage import Instrument, Store

from .scoring.engine import build_report
from .scoring.model import model_for


class ReportError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or []


def _crosses(segment_by: list[str], names: list[str]) -> list[list[str]]:
    crosses, errors = [], []
    for position, spec in enumerate(segment_by):
        parts = [p.strip() for p in spec.split(",") if p.strip()]
        unknown = [p for p in parts if p not in names]
        if unknown or len(parts) < 2 or len(set(parts)) != len(parts):
            errors.append({"field": f"segment_by.{position}", "location": "query",
                           "reason": f"Name two or more different segments from: "
                                     f"{', '.join(names)}."})
        else:
            crosses.append(parts)
    if errors:
        raise ReportError(422, "segment_by names unknown segments.", errors)
    return crosses


def survey_report(store: Store, org_id: str, survey_id: str, segment_by: list[str],
                  explain: bool = False) -> dict:
    survey = store.surveys.get(org_id, survey_id)
    if survey is None:
        raise ReportError(404, f"No survey {survey_id}.")
    customer = store.instruments.get(org_id, survey.customer_instrument["id"],
                                     survey.customer_instrument["version"])
    vendor = store.instruments.get(org_id, survey.vendor_instrument["id"],
                                   survey.vendor_instrument["version"])
    names = segment_names(customer.definition, vendor.definition, list(survey.segments))
    report = build_report(
        store.aggregates.for_survey(survey.id), model=model_for(customer),
        customer_definition=customer.definition, segments=survey.segments,
        customer_names=names["customer"], crosses=_crosses(segment_by, names["customer"]),
        survey_id=survey.id, explain=explain)
    report["survey"] = {"id": survey.id, "name": survey.name, "status": survey.status,
                        "branding": survey.branding, "created_at": survey.created_at}
    return report


def stateless_report(customer: Instrument, vendor: Instrument, body: dict) -> dict:
    """Validate posted responses exactly as ingestion does, count them in memory, score."""
    cq, vq = segment_questions(customer.definition), segment_questions(vendor.definition)
    segments = {name: [o["value"] for o in q["options"]] for name, q in {**vq, **cq}.items()}
    segments.update(body.get("segments") or {})
    names = segment_names(customer.definition, vendor.definition, list(segments))
    cells: dict[str, Counter] = {}
    errors: list[dict] = []
    for field, items, instrument, kind in (("responses", body["responses"], customer, "customer"),
                                           ("vendor_responses", body["vendor_responses"],
                                            vendor, "vendor")):
        validator = validator_for(instrument)
        asked = {name: q["id"] for name, q in segment_questions(instrument.definition).items()}
        for position, item in enumerate(items):
            attributes = dict(item.get("attributes") or {})
            errors += attribute_errors(segments, attributes, f"{field}.{position}.attributes")
            answers, counters, problems = validator.check(
                item["answers"], complete=True,
                skip_required=frozenset(q for n, q in asked.items() if n in attributes))
            errors += [{**e, "field": f"{field}.{position}.{e['field']}"} for e in problems]
            if problems:
                continue
            for name, qid in asked.items():
                attributes.setdefault(name, answers.get(qid))
            attributes = {k: v for k, v in attributes.items() if v is not None}
            key = cell_key(kind, attributes, names[kind])
            cells.setdefault(key, Counter()).update(counters)
    if errors:
        raise ReportError(422, f"{len(errors)} field(s) are invalid.", errors)
    report = build_report({k: dict(v) for k, v in cells.items()}, model=model_for(customer),
                          customer_definition=customer.definition, segments=segments,
                          customer_names=names["customer"],
                          crosses=_crosses(body.get("segment_by") or [], names["customer"]))
    return report
