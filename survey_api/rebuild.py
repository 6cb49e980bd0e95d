"""Recomputing a survey's per-cell counters from its stored responses, and its invitation
tally (invitations per attributes and status) from its stored invitations.

Used after a change to how responses are counted (a new segment attribute, a repaired crash on a
backend without transactions) and as a check: the live counters must equal the recomputation.
Reads the responses in batches (memory stays flat) and writes all counters in one swap.
Responses that arrive while it runs would be missed by the swap: run it on a closed survey or a
quiet moment, or with --check, which writes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable

from shared.cells import cell_key, response_counters
from shared.instruments import validator_for
from shared.storage import Store, Survey
from shared.storage.codec import attributes_key

from .responses.domain import context_for


@dataclass
class RebuildResult:
    responses: int
    cells: dict[str, dict[str, int]]
    differences: list[tuple[str, str, int, int]]  # cell, counter, live, recomputed
    tally: list[tuple[dict, str, int]]  # (attributes, status, invitations), recounted
    tally_differences: list[tuple[dict, str, int, int]]  # attributes, status, live, recounted

    @property
    def matches(self) -> bool:
        return not self.differences and not self.tally_differences


def recount_invitations(store: Store, survey: Survey
                        ) -> tuple[list[tuple[dict, str, int]], list[tuple[dict, str, int, int]]]:
    """The invitation tally counted from the invitations page by page, and where the live
    tally differs from it."""
    counts: Counter = Counter()
    attributes_of: dict[str, dict] = {}
    after = None
    while True:
        page = store.invitations.list(survey.org_id, survey.id, after=after, limit=1000)
        for invitation in page.items:
            key = attributes_key(invitation.attributes)
            attributes_of[key] = invitation.attributes or {}
            counts[(key, invitation.status)] += 1
        if not page.next_cursor:
            break
        after = page.next_cursor
    live: Counter = Counter()
    for attributes, status, n in store.invitations.tally(survey.id):
        key = attributes_key(attributes)
        attributes_of.setdefault(key, attributes)
        live[(key, status)] += n
    tally = [(attributes_of[key], status, n) for (key, status), n in sorted(counts.items())]
    differences = [(attributes_of[key], status, live[(key, status)], counts[(key, status)])
                   for key, status in sorted(set(live) | set(counts))
                   if live[(key, status)] != counts[(key, status)]]
    return tally, differences


def recompute(store: Store, survey: Survey, progress: Callable[[int], None] = lambda n: None
              ) -> RebuildResult:
    ctx = context_for(store, survey)
    questions = {kind: validator_for(inst).questions for kind, inst in ctx.instruments.items()}
    cells: dict[str, Counter] = {}
    seen = 0
    for response in store.responses.iter_survey(survey.id):
        seen += 1
        if response.complete:
            key = cell_key(response.instrument, response.attributes,
                           ctx.segment_names[response.instrument])
            cells.setdefault(key, Counter()).update(
                response_counters(questions[response.instrument], response))
        if seen % 1000 == 0:
            progress(1000)
    progress(seen % 1000)
    recomputed = {k: dict(v) for k, v in cells.items()}
    live = store.aggregates.for_survey(survey.id)
    differences = []
    for cell in sorted(set(live) | set(recomputed)):
        a, b = live.get(cell, {}), recomputed.get(cell, {})
        for counter in sorted(set(a) | set(b)):
            if a.get(counter, 0) != b.get(counter, 0):
                differences.append((cell, counter, a.get(counter, 0), b.get(counter, 0)))
    tally, tally_differences = recount_invitations(store, survey)
    return RebuildResult(seen, recomputed, differences, tally, tally_differences)


def rebuild(store: Store, survey: Survey, progress=lambda n: None) -> RebuildResult:
    result = recompute(store, survey, progress)
    if result.differences:
        store.aggregates.replace_survey(survey.id, result.cells)
    if result.tally_differences:
        store.invitations.replace_tally(survey.id, result.tally)
    return result
