"""Recomputing a survey's per-cell counters from its stored responses.

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

from .responses.domain import context_for


@dataclass
class RebuildResult:
    responses: int
    cells: dict[str, dict[str, int]]
    differences: list[tuple[str, str, int, int]]  # cell, counter, live, recomputed

    @property
    def matches(self) -> bool:
        return not self.differences


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
    return RebuildResult(seen, recomputed, differences)


def rebuild(store: Store, survey: Survey, progress=lambda n: None) -> RebuildResult:
    result = recompute(store, survey, progress)
    if not result.matches:
        store.aggregates.replace_survey(survey.id, result.cells)
    return result
