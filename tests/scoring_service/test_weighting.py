"""Weighting back to the invited population: raking checked against an independent from-scratch
IPF over individual respondents, post-stratification against its definition, trimming's cap,
Kish's effective n; and, over many seeded replicates where one segment over-responds, the
unweighted overall is biased while the weighted one covers the population value at about the
nominal rate."""

from __future__ import annotations

import random

from scipy.stats import binom

from scoring_service.scoring.engine import build_report
from scoring_service.scoring.model import load_model
from scoring_service.scoring.weighting import (
    CAP, cell_weights, kish, post_stratify, rake, report_weights, trim)

from tests.support.populations import CUSTOMER, SEGMENTS, healthy_customer, healthy_vendor, to_cells

MODEL = load_model()
NAMES = ["size", "tenure"]


def ipf_from_scratch(people: list[tuple], margins: list[dict], rounds: int = 500) -> list[float]:
    """Textbook raking, one weight per respondent, no cells: for each attribute in turn,
    multiply each respondent's weight by target share / current weighted share of their value."""
    weights = [1.0] * len(people)
    for _ in range(rounds):
        for position, margin in enumerate(margins):
            total_target = sum(margin.values())
            total = sum(weights)
            current = {}
            for person, w in zip(people, weights):
                current[person[position]] = current.get(person[position], 0) + w
            weights = [w * (margin[p[position]] / total_target) / (current[p[position]] / total)
                       for p, w in zip(people, weights)]
    mean = sum(weights) / len(weights)
    return [w / mean for w in weights]


def test_raking_matches_an_independent_ipf_over_respondents():
    rng = random.Random(3)
    people = [(rng.choice(["small", "small", "midsize", "large"]),
               rng.choice(["new", "established", "established", "long_standing"]))
              for _ in range(400)]
    margins = [{"small": 500, "midsize": 300, "large": 200},
               {"new": 100, "established": 300, "long_standing": 600}]
    expected = ipf_from_scratch(people, margins)
    cell_n = {}
    for p in people:
        cell_n[p] = cell_n.get(p, 0) + 1
    weights, rounds = rake(cell_n, margins, NAMES)
    assert 1 < rounds < 200
    for person, w in zip(people, expected):
        assert abs(weights[person] - w) < 1e-6
    # and the margins hold: weighted shares equal the targets
    total = sum(cell_n[c] * w for c, w in weights.items())
    small = sum(cell_n[c] * w for c, w in weights.items() if c[0] == "small")
    assert abs(small / total - 0.5) < 1e-9


def test_the_two_by_two_worked_example_of_the_docs():
    # docs/scoring.md: 20 small-new, 40 small-old, 30 large-new, 10 large-old; targets 50/50
    cell_n = {("small", "new"): 20, ("small", "old"): 40, ("large", "new"): 30,
              ("large", "old"): 10}
    weights, _ = rake(cell_n, [{"small": 1, "large": 1}, {"new": 1, "old": 1}], NAMES)
    # First size step: small x 50/60, large x 50/40 -> 16.67, 33.33, 37.5, 12.5; new has 54.17.
    totals = {c: cell_n[c] * w for c, w in weights.items()}
    assert abs(totals[("small", "new")] + totals[("small", "old")] - 50) < 1e-6
    assert abs(totals[("small", "new")] + totals[("large", "new")] - 50) < 1e-6
    # cross-product ratio of the sample is kept by raking: (20 x 10) / (40 x 30) = 1/6
    ratio = totals[("small", "new")] * totals[("large", "old")] / (
        totals[("small", "old")] * totals[("large", "new")])
    assert abs(ratio - 1 / 6) < 1e-6
    # so with x = small-new total: x^2 / (50 - x)^2 = 1/6 -> x = 50 / (1 + sqrt 6) = 14.495
    assert abs(totals[("small", "new")] - 50 / (1 + 6 ** 0.5)) < 1e-6
    assert [round(weights[c], 3) for c in cell_n] == [0.725, 0.888, 1.184, 1.449]
    assert round(kish(cell_n, weights), 1) == 95.2


def test_post_stratification_is_population_share_over_sample_share():
    cell_n = {("small", "new"): 30, ("large", "new"): 10}
    weights = post_stratify(cell_n, {("small", "new"): 50, ("large", "new"): 50})
    assert weights == {("small", "new"): 0.5 / 0.75, ("large", "new"): 0.5 / 0.25}
    chosen = cell_weights(cell_n, NAMES, joint={("small", "new"): 50, ("large", "new"): 50})
    assert chosen["method"] == "post-stratification"
    thin = cell_weights(cell_n, NAMES, joint={("small", "new"): 50, ("large", "new"): 50},
                        min_cell=20)
    assert thin["method"] == "raking"


def test_trimming_caps_weights_and_keeps_the_total():
    cell_n = {("a",): 100, ("b",): 100, ("c",): 2}
    weights, trimmed = trim(cell_n, {("a",): 0.5, ("b",): 0.5, ("c",): 50.0})
    assert trimmed
    total = sum(cell_n[c] * w for c, w in weights.items())
    assert abs(total - (50 + 50 + 100)) < 1e-9
    mean = total / 202
    assert max(weights.values()) <= CAP * mean + 1e-9
    assert abs(weights[("c",)] - CAP * mean) < 1e-9


def test_kish_effective_n_by_hand():
    # 30 respondents weighing 2/3 and 10 weighing 2: (20 + 20)^2 / (30 x 4/9 + 10 x 4) = 30
    assert abs(kish({"s": 30, "l": 10}, {"s": 2 / 3, "l": 2.0}) - 30.0) < 1e-9


RATES = {"small": 0.6, "midsize": 0.35, "large": 0.15}
PER_CELL_INVITED = 60
TRUE_A6 = (87.5 + 87.5 + 25) / 3  # population: sizes equally invited; see plant below


def replicate(seed: int):
    """Invited customers: 60 per size x tenure cell. Large customers rate their experience
    1-3 (pomp 25 on average), others 4-5 (87.5); large customers respond least."""
    rng = random.Random(seed)
    customers, invitations = [], []
    for tenure in SEGMENTS["tenure"]:
        for size in SEGMENTS["size"]:
            for _ in range(PER_CELL_INVITED):
                answered = rng.random() < RATES[size]
                invitations.append(({"size": size, "tenure": tenure},
                                    "completed" if answered else "sent"))
                if not answered:
                    continue
                answers = healthy_customer(rng, tenure, size)
                if size == "large":
                    for item in MODEL["alignment"]["A6"]["items"]:
                        answers[item] = rng.randint(1, 3)
                customers.append(answers)
    vendors = [healthy_vendor(rng, role) for role in ("sales", "marketing", "leadership")]
    return to_cells(customers, vendors), invitations


def a6(cells, weights=None):
    report = build_report(cells, model=MODEL, customer_definition=CUSTOMER, segments=SEGMENTS,
                          customer_names=NAMES, cell_weights=weights)
    return report, report["overall"]["alignment"]["dimensions"]["A6"]


REPLICATES = 100


def test_weighting_recovers_the_population_value_where_one_segment_over_responds():
    covered_weighted = covered_raw = 0
    for r in range(REPLICATES):
        cells, invitations = replicate(900 + r)
        weights = report_weights(cells, NAMES,
                                 invitation_tally=[(a, s, 1) for a, s in invitations],
                                 min_cell=MODEL["suppression"]["insufficient_below"])
        _, raw = a6(cells)
        report, weighted = a6(cells, weights["by_key"])
        covered_raw += raw["interval"][0] <= TRUE_A6 <= raw["interval"][1]
        covered_weighted += weighted["interval"][0] <= TRUE_A6 <= weighted["interval"][1]
        if r == 0:
            assert raw["score"] > TRUE_A6 + 5  # biased towards the keen small customers
            assert abs(weighted["score"] - TRUE_A6) < 5
            overall = report["overall"]
            assert overall["n"] == sum(c["n"] for k, c in cells.items()
                                       if k.startswith("customer"))
            assert overall["effective_n"] < overall["n"]
            assert abs(overall["effective_n"] - weights["effective_n"]) < 0.1
            # a weighted interval is wider than an unweighted one of the same data would be
            assert weighted["interval"][1] - weighted["interval"][0] > \
                raw["interval"][1] - raw["interval"][0]
    assert covered_raw <= 0.2 * REPLICATES, covered_raw
    # the A6 interval is conservative (items treated as perfectly correlated): at least nominal
    assert covered_weighted >= binom.ppf(0.001, REPLICATES, 0.95), covered_weighted


def test_a_population_value_nobody_answered_from_is_left_out_of_its_margin():
    weights, rounds = rake({("small", "new"): 60, ("large", "new"): 60},
                           [{"small": 100, "midsize": 100, "large": 800}, {}], NAMES)
    assert rounds <= 3  # converges instead of chasing the missing midsize share
    assert abs(weights[("large", "new")] / weights[("small", "new")] - 8) < 1e-9
