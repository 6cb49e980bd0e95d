"""Merged counters of a set of cells, indexed by question (see shared/cells.py for the keys)."""

from __future__ import annotations

from shared.cells import ANSWERED


class Counts:
    def __init__(self, counters: dict[str, int] | None = None):
        self.n = 0
        self._answered: dict[str, int] = {}
        self._values: dict[str, dict[str, int]] = {}
        self._numeric: dict[str, dict[int, int]] = {}
        self.memo: dict = {}  # figures worked out from these counts, reused within a report
        # Respondents behind the counts: n itself, except for weighted counts (n is then the
        # effective sample size); suppression always reads this.
        self.respondents = 0
        if counters is None:
            return
        self.n = self.respondents = counters.get("n", 0)
        # Canonical order: float sums over these dicts then come out bit-identical however the
        # cells were merged, so equal counters always give equal reports.
        for key, count in sorted(counters.items()):
            if key.endswith(ANSWERED):
                self._answered[key[:-len(ANSWERED)]] = count
            elif "=" in key:
                question, value = key.split("=", 1)
                self._values.setdefault(question, {})[value] = count

    @classmethod
    def _built(cls, n: int, answered: dict, values: dict, respondents: int | None = None
               ) -> "Counts":
        counts = cls()
        counts.n, counts._answered = n, answered
        counts.respondents = n if respondents is None else respondents
        # Each histogram in value order, as parsing sorted counters gives it.
        counts._values = {q: dict(sorted(h.items())) for q, h in values.items() if h}
        return counts

    @classmethod
    def merge(cls, many: list[dict[str, int]]) -> "Counts":
        return cls.combine([cls(counters) for counters in many])

    @classmethod
    def combine(cls, many: list["Counts"]) -> "Counts":
        """The counts of several disjoint sets of cells, without parsing counter names again."""
        if len(many) == 1:
            return many[0]
        answered: dict[str, int] = {}
        values: dict[str, dict[str, int]] = {}
        for counts in many:
            for question, count in counts._answered.items():
                answered[question] = answered.get(question, 0) + count
            for question, histogram in counts._values.items():
                target = values.setdefault(question, {})
                for value, count in histogram.items():
                    target[value] = target.get(value, 0) + count
        return cls._built(sum(c.n for c in many), answered, values,
                          sum(c.respondents for c in many))

    def scaled(self, factor: float) -> "Counts":
        """Every count times factor, the respondents unchanged: weighting scales a cell's
        histograms by its weight, and a segment's merged counts by n_eff / their total."""
        return Counts._built(self.n * factor,
                             {q: c * factor for q, c in self._answered.items()},
                             {q: {v: c * factor for v, c in h.items()}
                              for q, h in self._values.items()}, self.respondents)

    @classmethod
    def difference(cls, total: "Counts", part: "Counts") -> "Counts":
        """The counts of total's cells outside part (part's cells are among total's): the rest
        of the sample, in O(counters) rather than a merge of every other cell."""
        answered = {q: c - part._answered.get(q, 0) for q, c in total._answered.items()}
        values = {}
        for question, histogram in total._values.items():
            theirs = part._values.get(question, {})
            values[question] = {v: c - theirs.get(v, 0) for v, c in histogram.items()
                                if c - theirs.get(v, 0)}
        return cls._built(total.n - part.n, {q: c for q, c in answered.items() if c}, values,
                          total.respondents - part.respondents)

    def answered(self, question: str) -> int:
        return self._answered.get(question, 0)

    def count(self, question: str, value: str) -> int:
        return self._values.get(question, {}).get(value, 0)

    def options(self, question: str) -> dict[str, int]:
        """{option: count} of a choice question."""
        return dict(self._values.get(question, {}))

    def numeric(self, question: str) -> dict[int, int]:
        """{value: count} of a numeric question (1-5, 0-10, 0-100). Shared: do not modify."""
        found = self._numeric.get(question)
        if found is None:
            found = {int(v): c for v, c in self._values.get(question, {}).items() if c}
            self._numeric[question] = found
        return found

    def share(self, question: str, value: str) -> float | None:
        answered = self.answered(question)
        return self.count(question, value) / answered if answered else None
