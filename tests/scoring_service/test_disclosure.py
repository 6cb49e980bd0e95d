"""Statistical disclosure control: an attacker who subtracts every published figure from every
other (segment n, the rest's n, explain's histograms; across the plain report, every cross a
user can ask for, and explain) never finds a group of 1 to 4 respondents."""

from __future__ import annotations

import itertools
import random

from scoring_service.scoring import disclosure
from scoring_service.scoring.engine import build_report
from scoring_service.scoring.model import load_model
from shared.cells import parse_cell_key

from tests.support.populations import CUSTOMER, SEGMENTS, population_answers, to_cells

MODEL = load_model()
NAMES = ["region", "size", "tenure"]
WITH_REGION = {**SEGMENTS, "region": ["north", "south"]}
CUTS = [[], [["size", "tenure"]], [["region", "size"]], [["region", "tenure"]],
        [["region", "size", "tenure"]]]


def uneven_population(seed: int) -> dict:
    """Cells of very different sizes, many of them 1-4 respondents."""
    rng = random.Random(seed)
    counts = {(t, s): rng.choice([0, 1, 2, 3, 4, 6, 9, 15, 25])
              for t in ("new", "established", "long_standing")
              for s in ("small", "midsize", "large")}

    def region(answers, r):
        answers["_region"] = "north" if r.random() < 0.7 else "south"

    return to_cells(*population_answers(seed, per_cell=counts, plant=region))


def customer_cells(cells):
    return {key: c for key, c in cells.items() if key.startswith("customer|")}


def members(filters: dict, cells: dict) -> frozenset:
    return frozenset(key for key in customer_cells(cells)
                     if all(parse_cell_key(key)[1].get(k) == v for k, v in filters.items()))


def published_figures(report: dict, cells: dict) -> list[tuple[frozenset, dict]]:
    """(the cells a figure covers, its numbers) for everything a report shows."""
    everyone = members({}, cells)
    figures = []
    for seg in report["segments"]:
        if seg["status"] == "suppressed":
            continue
        group = members(seg["filters"], cells)
        numbers = {"n": seg["n"]}
        for dimension, shown in seg.get("explain", {}).items():
            for value, count in (shown["inputs"].get("customer_histogram") or {}).items():
                numbers[f"{dimension}:{value}"] = count
        figures.append((group, numbers))
        for comparison in seg["comparisons"]:
            figures.append((everyone - group, {"n": comparison["rest_n"]}))
    for finding in report["findings"]:
        group = members(finding["filters"], cells)
        figures += [(group, {"n": finding["n"]}), (everyone - group, {"n": finding["rest_n"]})]
    figures.append((everyone, {"n": report["responses"]["customer"]}))
    return figures


def attack(figures: list[tuple[frozenset, dict]], rounds: int = 3) -> dict[frozenset, dict]:
    """Subtract every figure from every figure that contains it, and again from the results."""
    known: dict[frozenset, dict] = {}
    for group, numbers in figures:
        known.setdefault(group, {}).update(numbers)
    for _ in range(rounds):
        derived = {}
        for (a, na), (b, nb) in itertools.permutations(list(known.items()), 2):
            if b < a and a - b not in known:
                common = set(na) & set(nb)
                derived[a - b] = {k: na[k] - nb[k] for k in common}
        if not derived:
            break
        for group, numbers in derived.items():
            known.setdefault(group, {}).update(numbers)
        if len(known) > 20_000:
            break
    return known


def small_groups(known: dict[frozenset, dict]) -> list:
    limit = MODEL["suppression"]["hide_below"]
    return [(sorted(g), numbers) for g, numbers in known.items()
            if 0 < numbers.get("n", 0) < limit]


def every_publication(cells: dict) -> list[tuple[frozenset, dict]]:
    figures = []
    for cut in CUTS:
        report = build_report(cells, model=MODEL, customer_definition=CUSTOMER,
                              segments=WITH_REGION, customer_names=NAMES, crosses=cut,
                              explain=True)
        figures += published_figures(report, cells)
    return figures


def test_no_group_of_1_to_4_respondents_can_be_derived_from_everything_published():
    exposed_before = 0
    for seed in range(8):
        cells = uneven_population(seed)
        figures = every_publication(cells)
        assert small_groups(attack(figures)) == [], seed
        # The same population published with only primary suppression (every segment of 5 or
        # more shown, as before) gives hidden groups away.
        naive = []
        for cut in CUTS:
            report = build_report(cells, model=MODEL, customer_definition=CUSTOMER,
                                  segments=WITH_REGION, customer_names=NAMES, crosses=cut)
            for seg in report["segments"]:
                group = members(seg["filters"], cells)
                n = sum(cells[k]["n"] for k in group)
                if n >= 5:
                    naive.append((group, {"n": n}))
        exposed_before += bool(small_groups(attack(naive)))
    assert exposed_before >= 6


def test_the_row_space_audit_by_hand():
    # Cells a (n=3), b (n=10), c (n=12). Overall and b, c shown: a = overall - b - c.
    rows = [disclosure.Row("overall", frozenset({0, 1, 2}), 0),
            disclosure.Row("b", frozenset({1}), 1), disclosure.Row("c", frozenset({2}), 1),
            disclosure.Row("a", frozenset({0}), 1)]
    assert disclosure.publishable(rows, [3, 10, 12], 5) == {"overall", "c"}
    # Two-way table with one small cell: margins alone do not pin a cell down (the classic
    # rectangle), so the margins stay; the cross's other cells would, so they go.
    cells = [(r, c) for r in "xy" for c in "pq"]
    n = [2, 20, 30, 40]  # (x,p) is small
    rows = [disclosure.Row("overall", frozenset(range(4)), 0)]
    rows += [disclosure.Row(f"row={r}", frozenset(i for i, (a, _) in enumerate(cells) if a == r),
                            1) for r in "xy"]
    rows += [disclosure.Row(f"col={c}", frozenset(i for i, (_, b) in enumerate(cells) if b == c),
                            1) for c in "pq"]
    rows += [disclosure.Row(f"{a}{b}", frozenset({i}), 2) for i, (a, b) in enumerate(cells)]
    shown = disclosure.publishable(rows, n, 5)
    assert {"row=x", "row=y", "col=p", "col=q"} <= shown
    assert "xp" not in shown and not {"xq", "yp", "yq"} <= shown


def test_suppressed_segments_carry_no_numbers_and_one_note():
    cells = uneven_population(3)
    report = build_report(cells, model=MODEL, customer_definition=CUSTOMER,
                          segments=WITH_REGION, customer_names=NAMES,
                          crosses=[["size", "tenure"]], explain=True)
    hidden = [s for s in report["segments"] if s["status"] == "suppressed"]
    assert hidden
    assert len({s["note"] for s in hidden}) == 1
    assert all(s["n"] is None and "alignment" not in s and "explain" not in s for s in hidden)


def test_a_table_too_fragmented_to_audit_shows_the_overall_figure_only():
    # 300 respondents, each alone in a cell of ten custom attributes of 50 values: every
    # margin of 5 or more is a candidate, every cell is a hidden group. Rather than an audit
    # without end, the report publishes the overall figure, and does so every time.
    rng = random.Random(2)
    one_customer = to_cells(*population_answers(1, per_cell={("new", "small"): 1}))
    cells = {k: c for k, c in one_customer.items() if k.startswith("vendor|")}
    answers = next(c for k, c in one_customer.items() if k.startswith("customer|"))
    attributes = {f"a{i}": [f"v{j}" for j in range(50)] for i in range(10)}
    total = 0
    while total < 300:
        values = {name: rng.choice(options) for name, options in attributes.items()}
        key = "customer|" + "|".join(f"{k}={v}" for k, v in sorted(values.items()))
        if key not in cells:
            cells[key] = answers
            total += 1

    def run():
        return build_report(cells, model=MODEL, customer_definition=CUSTOMER,
                            segments=attributes, customer_names=sorted(attributes))

    first, second = run(), run()
    shown = [s["key"] for s in first["segments"] if s["status"] != "suppressed"]
    assert shown == ["overall"] and first["overall"]["n"] == total
    assert [s["status"] for s in first["segments"]] == [s["status"] for s in second["segments"]]
