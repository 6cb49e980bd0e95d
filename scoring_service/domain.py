"""Score reports for stored surveys (from the counters) and for posted responses (stateless)."""

from __future__ import annotations

import re
from collections import Counter

from shared.errors import DomainError
from shared.cells import attribute_errors, languages_answered
from shared.instruments import segment_names, segment_options, segment_questions, validator_for
from shared.response_cells import place_response, segment_question_ids
from shared.storage import Instrument, Store

from .scoring.engine import TooMuchWork, build_report, segment_key
from .scoring.model import model_for
from .scoring.representation import representation
from .scoring.waves import wave_changes
from .scoring.weighting import CAP, report_weights
from .voice import customers_voice


_SEPARATORS = re.compile(r"\s*(?:[,+|&;/*\u00d7]|\s+(?:x|and|by)\s+|\s+)\s*", re.IGNORECASE)


def _canonical(word: str) -> str:
    return re.sub(r"[\s_-]+", "_", word.strip().lower())


def _segment_name(word: str, names: list[str], aliases: dict[str, str]) -> str | None:
    """A segment name from how a user might write it: any case, spaces or hyphens for
    underscores, or the profile question that asks it (company_size for size)."""
    wanted = _canonical(word)
    for name in names:
        if _canonical(name) == wanted:
            return name
    return aliases.get(wanted)


def _crosses(segment_by: list[str], names: list[str], aliases: dict[str, str] | None = None,
             location: str = "query") -> list[list[str]]:
    """The cuts asked for. Each value is one cut: "size,tenure", "size+tenure", "size x tenure",
    "Size | Tenure"... A single attribute is a cut the report lists anyway; when every value
    names a single attribute (segment_by=size&segment_by=tenure), they are read as one cross."""
    aliases = aliases or {}
    cuts, errors = [], []
    for position, spec in enumerate(segment_by):
        words = [w for w in _SEPARATORS.split(spec.strip()) if w]
        parts = []
        for word in words:
            name = _segment_name(word, names, aliases)
            if name is None:
                errors.append({"field": f"segment_by.{position}", "location": location,
                               "reason": f"Unknown segment {word!r}; this survey's segments "
                                         f"are: {', '.join(names) or 'none'}."})
            elif name not in parts:
                parts.append(name)
        cuts.append(sorted(parts))
    if errors:
        raise DomainError(422, "segment_by names unknown segments.", errors)
    if len(cuts) > 1 and all(len(c) == 1 for c in cuts):
        cuts = [sorted({c[0] for c in cuts})]
    unique = []
    for cut in cuts:
        if len(cut) > 1 and cut not in unique:
            unique.append(cut)
    return unique


def segment_filters(key: str, segments: dict[str, list[str]], names: list[str],
                    aliases: dict[str, str] | None = None) -> dict[str, str]:
    """A segment key as a user might write it ("tenure=new|size=large", "Size = Large,
    tenure=new") as filters; raises DomainError naming the field `segment`."""
    if _canonical(key) == "overall" or not key.strip():
        return {}
    filters = {}
    for part in re.split(r"[|,;&]", key):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        attribute = _segment_name(name, names, aliases or {})
        allowed = segments.get(attribute, []) if attribute else []
        match = next((v for v in allowed if _canonical(v) == _canonical(value)), None)
        if not sep or attribute in filters:
            raise DomainError(422, "Malformed segment key.", [{
                "field": "segment", "location": "query",
                "reason": f"{key!r} is not a segment key: keys look like size=large or "
                          "size=large|tenure=new, each segment at most once."}])
        if attribute is None or match is None:
            raise DomainError(404, f"No segment {key!r}; segment keys look like size=large or "
                                   f"size=large|tenure=new, with segments {', '.join(names)}.")
        filters[attribute] = match
    return filters


def _limited(location: str, func, *args, **kwargs):
    """Run func; a request over the model's limits answers 422 naming the field."""
    try:
        return func(*args, **kwargs)
    except TooMuchWork as exc:
        raise DomainError(422, exc.reason, [{"field": exc.field, "location": location,
                                             "reason": exc.reason}]) from None


def _aliases(customer: dict) -> dict[str, str]:
    return {_canonical(q["id"]): name for name, q in segment_questions(customer).items()}


def survey_report(store: Store, org_id: str, survey_id: str, segment_by: list[str],
                  explain: bool = False, segment: str | None = None,
                  weighted: bool = False) -> dict:
    """The report; with `segment` (a key in any order or case), only what explain needs:
    the report with that segment's cross, the segment's canonical key in report["explained"]."""
    survey = store.surveys.get(org_id, survey_id)
    if survey is None:
        raise DomainError(404, f"No survey {survey_id}.")
    customer = store.instruments.get(org_id, survey.customer_instrument["id"],
                                     survey.customer_instrument["version"])
    vendor = store.instruments.get(org_id, survey.vendor_instrument["id"],
                                   survey.vendor_instrument["version"])
    names = segment_names(customer.definition, vendor.definition, list(survey.segments))
    aliases = _aliases(customer.definition)
    crosses = _crosses(segment_by, names["customer"], aliases)
    explained, also = None, []
    if segment is not None:
        filters = segment_filters(segment, survey.segments, names["customer"], aliases)
        explained, also = segment_key(filters), [filters]
    cells = store.aggregates.for_survey(survey.id)
    invitation_tally = store.invitations.tally(survey.id)
    population = (survey.settings or {}).get("population")
    model = model_for(customer)
    weights = report_weights(cells, names["customer"], invitation_tally=invitation_tally,
                             population=population,
                             min_cell=model["suppression"]["insufficient_below"]) \
        if weighted else None
    report = _limited(
        "query", build_report, cells, model=model,
        customer_definition=customer.definition, segments=survey.segments,
        customer_names=names["customer"], crosses=crosses, survey_id=survey.id,
        explain=explain, also=also, cell_weights=weights and weights["by_key"])
    report["weighting"] = _weighting(weighted, weights)
    if explained is not None:
        report["explained"] = explained
    report["changes"] = _changes(store, org_id, survey, customer.definition, names["customer"],
                                 model)
    hidden = {s["key"] for s in report["segments"] if s["status"] == "suppressed"}
    report["representation"] = representation(
        invitation_tally=invitation_tally, cells=cells, segments=survey.segments,
        names=names["customer"], population=population, hidden=hidden)
    report["languages"] = languages_answered(cells)
    report["survey"] = {"id": survey.id, "name": survey.name, "status": survey.status,
                        "branding": survey.branding, "created_at": survey.created_at}
    report["voice"] = customers_voice(store, survey, report)
    return report


def _weighting(asked: bool, weights: dict | None) -> dict:
    if weights is None:
        return {"applied": False, "method": None, "effective_n": None,
                "note": "Weighting was asked for, but no invitations or population say whom "
                        "to weight to." if asked else "Unweighted: every respondent counts "
                        "once. Add weighted=true to weight back to the invited customers (or "
                        "settings.population)."}
    return {"applied": True, "method": weights["method"], "reference": weights["reference"],
            "effective_n": round(weights["effective_n"], 1), "n": weights["n"],
            "trimmed": weights["trimmed"], "cap": CAP,
            "note": "Weighted: figures are for the " + ("uploaded population" if weights[
                "reference"] == "population" else "invited customers") + ", intervals on "
                    "Kish's effective sample size."}


def _changes(store: Store, org_id: str, survey, customer_definition: dict,
             names: list[str], model: dict) -> dict | None:
    """What changed since the wave this survey repeats (None when it names none, or when that
    survey has since been deleted)."""
    previous_id = (survey.settings or {}).get("repeats")
    previous = store.surveys.get(org_id, previous_id) if previous_id else None
    if previous is None:
        return None
    return _limited("query", wave_changes, store.aggregates.for_survey(survey.id),
                    store.aggregates.for_survey(previous.id), model=model,
                    customer_definition=customer_definition, segments=survey.segments,
                    customer_names=names, previous_survey=previous.id)


def stateless_report(customer: Instrument, vendor: Instrument, body: dict) -> dict:
    """Validate and place posted responses as ingestion does (shared.response_cells), count
    them in memory, score."""
    segments = segment_options(customer.definition, vendor.definition)
    segments.update(body.get("segments") or {})
    names = segment_names(customer.definition, vendor.definition, list(segments))
    cells: dict[str, Counter] = {}
    errors: list[dict] = []
    for field, items, instrument, kind in (("responses", body["responses"], customer, "customer"),
                                           ("vendor_responses", body["vendor_responses"],
                                            vendor, "vendor")):
        validator = validator_for(instrument)
        asked = segment_question_ids(instrument.definition)
        for position, item in enumerate(items):
            given = item.get("attributes") or {}
            errors += attribute_errors(segments, given, f"{field}.{position}.attributes")
            placed = place_response(validator, asked, names[kind], kind, item["answers"],
                                    given, complete=True)
            errors += [{**e, "field": f"{field}.{position}.{e['field']}"} for e in placed.errors]
            if not placed.errors:
                cells.setdefault(placed.cell_key, Counter()).update(placed.counters)
    if errors:
        raise DomainError(422, f"{len(errors)} field(s) are invalid.", errors)
    crosses = _crosses(body.get("segment_by") or [], names["customer"],
                       _aliases(customer.definition), location="json")
    return _limited("json", build_report, {k: dict(v) for k, v in cells.items()}, model=model_for(customer),
                    customer_definition=customer.definition, segments=segments,
                    customer_names=names["customer"], crosses=crosses)
