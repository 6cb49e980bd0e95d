"""Merged counters of a set of cells, indexed by question (see shared/cells.py for the keys)."""

from __future__ import annotations

from collections import defaultdict


class Counts:
    def __init__(self, counters: dict[str, int]):
        self.raw = counters
        self.n = counters.get("n", 0)
        self._answered: dict[str, int] = {}
        self._values: dict[str, dict[str, int]] = defaultdict(dict)
        # Canonical order: float sums over these dicts then come out bit-identical however the
        # cells were merged, so equal counters always give equal reports.
        for key, count in sorted(counters.items()):
            if key.endswith("#answered"):
                self._answered[key[:-len("#answered")]] = count
            elif "=" in key:
                question, value = key.split("=", 1)
                self._values[question][value] = count

    @classmethod
    def merge(cls, many: list[dict[str, int]]) -> "Counts":
        total: dict[str, int] = defaultdict(int)
        for counters in many:
            for key, count in counters.items():
                total[key] += count
        return cls(dict(total))

    @classmethod
    def difference(cls, total: "Counts", part: "Counts") -> "Counts":
        """The counters of total's cells outside part (part's cells are among total's): the rest
        of the sample, in O(counters) rather than a merge of every other cell."""
        rest = dict(total.raw)
        for key, count in part.raw.items():
            rest[key] = rest.get(key, 0) - count
        return cls({k: v for k, v in rest.items() if v})

    def answered(self, question: str) -> int:
        return self._answered.get(question, 0)

    def count(self, question: str, value: str) -> int:
        return self._values.get(question, {}).get(value, 0)

    def options(self, question: str) -> dict[str, int]:
        """{option: count} of a choice question."""
        return dict(self._values.get(question, {}))

    def numeric(self, question: str) -> dict[int, int]:
        """{value: count} of a numeric question (1-5, 0-10, 0-100)."""
        return {int(v): c for v, c in self._values.get(question, {}).items() if c}

    def share(self, question: str, value: str) -> float | None:
        answered = self.answered(question)
        return self.count(question, value) / answered if answered else None
