"""The rules of writing responses, the same on every backend: what adding a response means
given what is stored under its submission id, what a batch writes, and the counters it adds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from itertools import chain
from typing import Iterable

from .codec import canonical_bytes
from .models import NewResponse, Response


# Outcomes of adding a response with a client submission id.
CREATED = "created"
DUPLICATE = "duplicate"  # same submission id, same content: the stored one is returned
CONFLICT = "conflict"  # same submission id, different content: nothing is written
UPDATED = "updated"  # same submission id, the stored one was partial: replaced (same id)


def outcome_of_adding(previous: "Response | None", new: "Response") -> str:
    """What adding `new` means given what is stored under its submission id.

    A partial response (complete=False) is a draft: it is never counted and may be replaced,
    until the response is complete. A complete response is final.
    """
    if previous is None:
        return CREATED
    if previous.content_hash == new.content_hash:
        return DUPLICATE
    if not previous.complete:
        return UPDATED
    return CONFLICT


@dataclass
class BatchPlan:
    """What a batch of responses writes, decided item by item against what is stored and
    against the batch's own earlier items."""

    results: list[tuple[Response, str]]  # one per item, in order: (stored response, outcome)
    inserts: dict[tuple[str, str], int]  # (survey, submission id) -> position of its new row
    updates: dict[tuple[str, str], int]  # ... -> position of the version replacing a stored draft
    final: dict[int, NewResponse]  # position -> the response as it will be written


def plan_batch(batch: list[NewResponse], stored: dict[tuple[str, str], Response]) -> BatchPlan:
    """stored: the responses already under the batch's submission ids (updated as planned)."""
    plan = BatchPlan([], {}, {}, {})
    for position, new in enumerate(batch):
        response = new.response
        key = (response.survey_id, response.submission_id)
        previous = stored.get(key)
        outcome = outcome_of_adding(previous, response)
        if outcome in (DUPLICATE, CONFLICT):
            plan.results.append((previous, outcome))
            continue
        if outcome == UPDATED:  # a draft replaced: it keeps its id and creation time
            response = replace(response, id=previous.id, created_at=previous.created_at)
            # A draft this batch inserted is still an insert, only of the newer version.
            (plan.inserts if key in plan.inserts else plan.updates)[key] = position
        else:
            plan.inserts[key] = position
        plan.final[position] = NewResponse(response, new.counters)
        stored[key] = response
        plan.results.append((response, outcome))
    return plan


def group_answers(rows) -> list[tuple[str, bool, dict, int, int]]:
    """(cell_key, complete, answers) rows in order, grouped as ResponseRepository.first_answers
    returns them: equal rows once, with how many and the position of the first."""
    groups: dict[str, list] = {}
    for position, (cell, complete, answers) in enumerate(rows):
        key = canonical_bytes([cell, complete, answers])
        if key in groups:
            groups[key][3] += 1
        else:
            groups[key] = [cell, complete, answers, 1, position]
    return [tuple(group) for group in groups.values()]


def sum_counters(batch: Iterable[NewResponse]) -> dict[str, dict[str, int]]:
    """Aggregate the counter increments of many responses per cell before one write per cell."""
    by_cell: dict[str, list[tuple[str, ...]]] = {}
    for new in batch:
        by_cell.setdefault(new.response.cell_key, []).append(new.counters)
    # One Counter per cell over all its names: the counting loop runs in C.
    return {cell: dict(Counter(chain.from_iterable(names))) for cell, names in by_cell.items()}
