"""Turning a posted response into a stored one: validation against the survey's pinned
instrument, segment attributes, the cell it falls in, its counters and its content hash.

Plain functions over the store; the routes only translate HTTP.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared import ids
from shared.bounded_cache import BoundedCache
from shared.cells import attribute_errors
from shared.text import text_problem
from shared.storage import (
    CONFLICT, CREATED, DUPLICATE, UPDATED, Instrument, NewResponse, Response, Store, Survey,
    canonical_bytes, utc_now,
)

from shared.errors import Invalid
from shared.instruments import segment_names, validator_for
from shared.response_cells import place_response, segment_question_ids
from ..invitations.domain import is_expired
from ..surveys.domain import instruments_of
from ..webhooks import domain as webhooks

MAX_BATCH = 1000


@dataclass
class IngestContext:
    """What every response to one survey is checked against, looked up once per request."""

    store: Store
    survey: Survey
    instruments: dict[str, Instrument]
    segment_names: dict[str, list[str]]  # kind -> the attributes its cells are keyed by
    asked: dict[str, dict[str, str]]  # kind -> {segment name: question id}


def context_for(store: Store, survey: Survey) -> IngestContext:
    instruments = instruments_of(store, survey)
    names, asked = _segment_lookups(survey, instruments)
    return IngestContext(store=store, survey=survey, instruments=instruments,
                         segment_names=names, asked=asked)


# Which attributes key the cells, and which question asks each, depend only on the pinned
# instrument versions (immutable) and the survey's segment names: worked out once per such
# combination instead of walking both instruments on every request. Read-only once made.
_lookups: BoundedCache[tuple[dict, dict]] = BoundedCache(1000)


def _segment_lookups(survey: Survey, instruments: dict[str, Instrument]) -> tuple[dict, dict]:
    key = (survey.org_id, *((i.id, i.version) for i in instruments.values()),
           tuple(survey.segments))
    found = _lookups.get(key)
    if found is None:
        asked = {kind: segment_question_ids(inst.definition)
                 for kind, inst in instruments.items()}
        names = segment_names(instruments["customer"].definition,
                              instruments["vendor"].definition, list(survey.segments))
        found = _lookups.put(key, (names, asked))
    return found


def content_hash(kind: str, answers: dict, attributes: dict, complete: bool,
                 invitation_id: str | None) -> str:
    """SHA-256 of the response's canonical JSON (sorted keys, compact, UTF-8): equal content,
    equal hash, whatever order the client sent the answers in."""
    return hashlib.sha256(canonical_bytes({"i": kind, "a": answers, "s": attributes,
                                           "c": complete, "v": invitation_id})).hexdigest()


def prepare(ctx: IngestContext, item: dict, source: str,
            fingerprint: str | None = None, received_at: str | None = None) -> NewResponse:
    """Validate one response envelope (already shape-checked) and build what the store writes.
    Raises Invalid naming every bad field. A batch passes one received_at for all its items."""
    survey = ctx.survey
    errors: list[dict] = []
    if survey.status != "open":
        raise Invalid(f"The survey is {survey.status}; it accepts responses only while open.",
                      [{"field": "survey_id", "reason": f"The survey is {survey.status}."}])
    kind = item.get("instrument", "customer")
    complete = item.get("complete", True)
    invitation = None
    if item.get("invitation_id"):
        invitation = ctx.store.invitations.get(survey.org_id, item["invitation_id"])
        if invitation is None or invitation.survey_id != survey.id:
            errors.append({"field": "invitation_id", "reason": "No such invitation in this survey."})
            invitation = None
        elif invitation.status == "revoked":
            errors.append({"field": "invitation_id", "reason": "The invitation was revoked."})
        elif is_expired(invitation):
            errors.append({"field": "invitation_id", "reason": "The invitation has expired."})
        elif invitation.status == "completed" and not _same_submission(ctx, invitation, item):
            errors.append({"field": "invitation_id",
                           "reason": "The invitation has already been used for another response."})
    # Attributes: the invitation's win, then the payload's, then the profile answers.
    given = item.get("attributes") or {}
    errors += attribute_errors(survey.segments, given, "attributes")
    placed = place_response(validator_for(ctx.instruments[kind]), ctx.asked[kind],
                            ctx.segment_names[kind], kind, item["answers"],
                            {**given, **(invitation.attributes if invitation else {})}, complete,
                            language=item.get("language"))
    errors += placed.errors
    if errors:
        raise Invalid(f"{len(errors)} field(s) are invalid.", errors)
    answers, attributes = placed.answers, placed.attributes
    now = received_at or utc_now()
    response = Response(
        id=ids.new_id(), org_id=survey.org_id, survey_id=survey.id, instrument=kind,
        submission_id=item["submission_id"], answers=answers, attributes=attributes,
        cell_key=placed.cell_key,
        content_hash=content_hash(kind, answers, attributes, complete,
                                  invitation.id if invitation else None),
        source=source, complete=complete, invitation_id=invitation.id if invitation else None,
        fingerprint=fingerprint, created_at=now, updated_at=now,
        language=item.get("language"),
    )
    # A partial response is kept but adds to no counter (placed.counters is empty).
    return NewResponse(response, placed.counters)


def _same_submission(ctx: IngestContext, invitation, item: dict) -> bool:
    if not invitation.response_id:
        return False
    previous = ctx.store.responses.get(ctx.survey.org_id, invitation.response_id,
                                       ctx.survey.id)
    return previous is not None and previous.submission_id == item["submission_id"]


def advance_invitations(ctx: IngestContext, stored: list[tuple[Response, str]]) -> None:
    """Move the invitations of newly stored responses along: completed, or started."""
    for response, outcome in stored:
        if outcome not in (CREATED, UPDATED) or not response.invitation_id:
            continue
        if response.complete:
            change = {"status": "completed", "response_id": response.id}
        else:
            invitation = ctx.store.invitations.get(ctx.survey.org_id, response.invitation_id)
            if invitation is None or invitation.status not in ("created", "sent"):
                continue
            change = {"status": "started"}
        ctx.store.invitations.update(ctx.survey.org_id, response.invitation_id, change)


def ingest_prepared(ctx: IngestContext, ready: list[NewResponse]) -> list[tuple[Response, str]]:
    """Store validated responses and their webhook deliveries in one transaction, then move
    their invitations along."""
    if not ready:
        return []
    stored = ctx.store.responses.add_many(
        ready, outbox=webhooks.outbox(ctx.store, ctx.survey.org_id, "response.created",
                                      webhooks.response_event))
    advance_invitations(ctx, stored)
    return stored


def one_per_invitation(ready: list[tuple[int, NewResponse]]
                       ) -> tuple[list[tuple[int, NewResponse]], dict[int, list[dict]]]:
    """One invitation, one response, within a batch as across requests: the first item naming
    an invitation keeps it; a later one with another submission id is rejected (the same
    submission id again is a repeat, which the store answers as duplicate or conflict)."""
    kept, rejected = [], {}
    first: dict[str, tuple[int, str]] = {}
    for position, new in ready:
        invitation_id, submission_id = new.response.invitation_id, new.response.submission_id
        if invitation_id:
            earlier = first.setdefault(invitation_id, (position, submission_id))
            if earlier[1] != submission_id:
                rejected[position] = [{"field": "invitation_id", "reason": (
                    f"Item {earlier[0]} of this batch already answers this invitation; an "
                    "invitation counts one response.")}]
                continue
        kept.append((position, new))
    return kept, rejected


def ingest_one(store: Store, survey: Survey, item: dict, source: str = "api"
               ) -> tuple[Response, str]:
    ctx = context_for(store, survey)
    return ingest_prepared(ctx, [prepare(ctx, item, source)])[0]


def ingest_batch(store: Store, survey: Survey, items: list[dict], envelope_errors: dict,
                 source: str = "api") -> list[dict]:
    """Each item: created, duplicate, conflict, or rejected with its reasons. Valid items are
    written in one transaction whatever happens to the others."""
    ctx = context_for(store, survey)
    received_at = utc_now()
    results: list[dict | None] = [None] * len(items)
    ready: list[tuple[int, NewResponse]] = []
    for position, item in enumerate(items):
        if position in envelope_errors:
            results[position] = _rejected(position, item, envelope_errors[position])
            continue
        try:
            ready.append((position, prepare(ctx, item, source, received_at=received_at)))
        except Invalid as exc:
            results[position] = _rejected(position, item, exc.errors)
    ready, repeats = one_per_invitation(ready)
    for position, errors in repeats.items():
        results[position] = _rejected(position, items[position], errors)
    stored = ingest_prepared(ctx, [new for _, new in ready])
    for (position, _), (response, outcome) in zip(ready, stored):
        results[position] = {"index": position, "submission_id": response.submission_id,
                             "status": outcome, "id": response.id}
    return results  # type: ignore[return-value]


def _rejected(position: int, item, errors: list[dict]) -> dict:
    submission_id = item.get("submission_id") if isinstance(item, dict) else None
    if not isinstance(submission_id, str) or text_problem(submission_id, single_line=True):
        submission_id = None  # never echo text we refused
    return {"index": position, "submission_id": submission_id, "status": "rejected",
            "errors": errors}


OUTCOME_STATUS = {CREATED: 201, UPDATED: 200, DUPLICATE: 200, CONFLICT: 409}
