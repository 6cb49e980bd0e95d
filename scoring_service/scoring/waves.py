"""What changed since the wave a survey repeats: per segment (attribute values and their
crosses, the same universe the report examines) and per alignment figure (the composite and
A1-A7), this wave minus the previous one with an interval, a p-value and Holm's correction over
every wave comparison examined.

Error control: the wave comparisons are their own Holm family, at the report's alpha. Folding
them into the segment-vs-rest family would make a survey's segment findings depend on whether
it names an earlier wave (the same counters would give different findings); as a separate family
each question ("which segments differ now", "what changed since") keeps its familywise error
rate at alpha.

Cost: both waves' per-cell counters are merged per segment, O(cells x counters) each, whatever
the number of responses.
"""

from __future__ import annotations

from shared.cells import parse_cell_key

from . import disclosure, stats
from .counts import Counts
from .model import ALIGNMENT_DIMENSIONS


def _wave(cells: dict[str, dict[str, int]]) -> tuple[list[dict], list[Counts], Counts]:
    attrs, counts, vendor = [], [], []
    for key in sorted(cells):
        kind, attributes = parse_cell_key(key)
        if kind == "customer":
            attrs.append(attributes)
            counts.append(Counts(cells[key]))
        elif kind == "vendor":
            vendor.append(cells[key])
    return attrs, counts, Counts.merge(vendor)


class _Side:
    """One wave: its segments, which may be published, and their scores (memoised)."""

    def __init__(self, cells, *, model, customer_definition, segments, names):
        from .engine import OVERALL, Scorer, _universe  # engine imports nothing from here
        self.model = model
        attrs, self.per_cell, vendor = _wave(cells)
        self.scorer = Scorer(model, customer_definition, vendor)
        universe, self.depth = _universe(attrs, segments, names, model["findings"])
        everyone = frozenset(range(len(self.per_cell)))
        self.cells_of = {key: cellset for key, (_, cellset) in universe.items()}
        self.cells_of[OVERALL] = everyone
        self.filters_of = {key: f for key, (f, _) in universe.items()}
        self.filters_of[OVERALL] = {}
        rows = [disclosure.Row(OVERALL, everyone, 0)] + [
            disclosure.Row(key, cellset, len(f)) for key, (f, cellset) in universe.items()]
        self.safe = disclosure.publishable(rows, [c.n for c in self.per_cell],
                                           model["suppression"]["hide_below"])
        self._scores: dict[str, tuple] = {}

    def counts(self, key: str) -> Counts:
        cellset = self.cells_of.get(key, frozenset())
        return Counts.combine([self.per_cell[i] for i in sorted(cellset)]) if cellset \
            else Counts()

    def scores(self, key: str) -> tuple[int, dict]:
        if key not in self._scores:
            customers = self.counts(key)
            parts = self.scorer.alignment(customers)
            composite = self.scorer.composite(parts, self.model["alignment"]["weights"])
            self._scores[key] = (customers.n, {"alignment": composite, **parts})
        return self._scores[key]


def wave_changes(current: dict[str, dict[str, int]], previous: dict[str, dict[str, int]], *,
                 model: dict, customer_definition: dict, segments: dict[str, list[str]],
                 customer_names: list[str], previous_survey: str | None = None,
                 labels=None) -> dict:
    """The `changes` block of a report. labels(filters) -> reader's label of a segment."""
    from shared.instruments import segment_questions

    from .engine import OVERALL, _reader_label, _without_echoes  # engine imports nothing here
    adjectives = set(segment_questions(customer_definition))
    labels = labels or (lambda filters: _reader_label(filters, adjectives))
    kwargs = dict(model=model, customer_definition=customer_definition, segments=segments,
                  names=customer_names)
    now, before = _Side(current, **kwargs), _Side(previous, **kwargs)
    limits, settings = model["findings"], model["comparison"]
    insufficient = model["suppression"]["insufficient_below"]
    depth = min(limits["depth"], max(now.depth, 1), max(before.depth, 1))
    z = stats.z_value(model.get("confidence", 0.95))
    titles = {k: model["alignment"][k]["title"] for k in ALIGNMENT_DIMENSIONS}
    titles["alignment"] = "Alignment"
    # Segments examined: shown in both waves (suppression applies to each) with enough
    # responses in both for a comparison to mean something.
    keys = [OVERALL] + [k for k, f in now.filters_of.items()
                        if k != OVERALL and len(f) <= depth and k in now.safe
                        and k in before.safe]
    items = []
    for key in keys:
        n_now, scores_now = now.scores(key)
        n_before, scores_before = before.scores(key)
        if n_now < insufficient or n_before < insufficient:
            continue
        for metric in ("alignment", *ALIGNMENT_DIMENSIONS):
            a, b = scores_now[metric], scores_before[metric]
            if a.score is None or b.score is None or a.se is None or b.se is None:
                continue
            se = (a.se ** 2 + b.se ** 2) ** 0.5
            if se <= 0:
                continue
            difference = a.score - b.score
            items.append({"segment": key, "segment_label": labels(now.filters_of[key]),
                          "filters": now.filters_of[key], "metric": metric,
                          "metric_name": titles[metric], "value": a.score,
                          "previous_value": b.score, "difference": difference,
                          # scores are on 0-100, so a change lies within -100..100
                          "interval": [max(-100.0, difference - z * se),
                                       min(100.0, difference + z * se)],
                          "p": stats.two_sided_p(difference, se), "n": n_now,
                          "previous_n": n_before})
    for item, p_adj in zip(items, stats.holm([i["p"] for i in items])):
        item["p_adjusted"] = round(p_adj, 4)
        item["significant"] = p_adj < settings["alpha"] and abs(
            item["difference"]) >= settings["min_difference"]
        item["p"] = round(item["p"], 6)
        for name in ("value", "previous_value", "difference"):
            item[name] = round(item[name], 1)
        item["interval"] = [round(x, 1) for x in item["interval"]]
    items.sort(key=lambda i: (not i["significant"], -abs(i["difference"]) if i["significant"]
                              else 0, len(i["filters"]), i["segment"], i["metric"]))
    # The same change seen again in a nested segment ("large" and "large, new") is one story,
    # told for the broader group when the changes are about the same size (same 5 points).
    ranked = sorted((i for i in items if i["significant"]), key=lambda i: (
        -(abs(i["difference"]) // 5), len(i["filters"]), -abs(i["difference"]), i["segment"]))
    notable = _without_echoes(ranked, lambda a, b: (
        a["metric"] == b["metric"] and (a["difference"] > 0) == (b["difference"] > 0)))
    return {"previous_survey": previous_survey,
            "examined": {"segments": len({i["segment"] for i in items}),
                         "comparisons": len(items), "depth": depth, "error_control": "holm",
                         "family": "wave changes (separate from segment comparisons)",
                         "alpha": settings["alpha"],
                         "min_difference": settings["min_difference"]},
            "significant": sum(i["significant"] for i in items),
            "notable": notable, "items": items}
