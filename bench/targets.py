"""What a benchmark row promises: goals on its figure, on its ratio to the baseline, or on a
named measure it reports (p99, growth), so bench/results.md computes whether each is met
instead of someone typing it."""

from __future__ import annotations

import operator
from dataclasses import dataclass

# "Memory stays flat": RSS grows by at most this much over the measured stretch.
FLAT_MB = 5.0

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Goal:
    measure: str  # "figure", "ratio" (figure / baseline) or a key of the row's "measures"
    op: str  # one of <, <=, >, >=
    value: float
    unit: str = ""
    text: str = ""  # how to say it, when the plain form would mislead

    def describe(self) -> str:
        if self.text:
            return self.text
        name = {"figure": "", "ratio": "ratio "}.get(self.measure, self.measure + " ")
        return f"{name}{self.op} {self.value:,g}{' ' + self.unit if self.unit else ''}".strip()

    def holds(self, row: dict) -> bool | None:
        measured = measure_of(row, self.measure)
        return None if measured is None else _OPS[self.op](measured, self.value)


def ratio_of(row: dict) -> float | None:
    return row["value"] / row["baseline_value"] if row.get("baseline_value") else None


def measure_of(row: dict, measure: str) -> float | None:
    if measure == "figure":
        return row["value"]
    if measure == "ratio":
        return ratio_of(row)
    return (row.get("measures") or {}).get(measure)


def target_text(row: dict) -> str:
    return " and ".join(goal.describe() for goal in row.get("targets", ())) or "—"


def met(row: dict) -> str:
    """yes / no, or — for a row without a target."""
    goals = row.get("targets", ())
    if not goals:
        return "—"
    return "yes" if all(goal.holds(row) for goal in goals) else "no"
