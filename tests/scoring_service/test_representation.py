"""Response rates and representativeness: invited / completed / rate per segment value from the
invitations, and a warning when the respondents' mix differs from the invited mix (chi-square
goodness of fit per attribute, Holm across attributes). Planted over-response is caught; equal
response rates warn at most at the nominal rate over many seeded replicates."""

from __future__ import annotations

import random

from scipy.stats import binom

from scoring_service.scoring.representation import representation

from tests.support.populations import SEGMENTS

NAMES = ["size", "tenure"]


def sample(seed: int, rates: dict[str, float], per_cell: int = 100):
    """Invitations per size x tenure cell, each completed with its size's rate; the cells'
    counters hold n for the completed ones (what the report's counters would)."""
    rng = random.Random(seed)
    invitations, cells = [], {}
    for size in SEGMENTS["size"]:
        for tenure in SEGMENTS["tenure"]:
            for _ in range(per_cell):
                done = rng.random() < rates[size]
                invitations.append(({"size": size, "tenure": tenure},
                                    "completed" if done else "sent"))
                if done:
                    key = f"customer|size={size}|tenure={tenure}"
                    cells.setdefault(key, {"n": 0})["n"] += 1
    return invitations, cells


def run(invitations, cells, **kwargs):
    tally = [(attributes, status, 1) for attributes, status in invitations]  # one row each
    return representation(invitation_tally=tally, cells=cells, segments=SEGMENTS, names=NAMES,
                          **kwargs)


def test_planted_over_response_is_counted_and_warned_about():
    invitations, cells = sample(1, {"small": 0.6, "midsize": 0.3, "large": 0.15})
    invitations.append(({"size": "small", "tenure": "new"}, "revoked"))  # never counted
    result = run(invitations, cells)
    size = next(a for a in result["attributes"] if a["attribute"] == "size")
    small = next(v for v in size["values"] if v["value"] == "small")
    invited_small = sum(1 for a, s in invitations if a["size"] == "small" and s != "revoked")
    completed_small = sum(1 for a, s in invitations if a["size"] == "small" and s == "completed")
    assert (small["invited"], small["completed"]) == (invited_small, completed_small) == (
        300, completed_small)
    assert small["response_rate"] == round(100 * completed_small / 300, 1)
    assert small["interval"][0] < small["response_rate"] < small["interval"][1]
    assert result["invited"] == 900
    assert small["reference_share"] == round(100 / 3, 1)
    assert small["respondent_share"] > 50
    assert size["test"]["differs"] and "size" in result["differs"]
    assert "size" in result["warning"]


def test_over_response_by_size_is_always_caught_and_tenure_flagged_at_most_nominally():
    caught = tenure_flagged = 0
    for r in range(200):
        result = run(*sample(2000 + r, {"small": 0.6, "midsize": 0.3, "large": 0.15}))
        caught += "size" in result["differs"]
        tenure_flagged += "tenure" in result["differs"]  # every tenure responds alike
    assert caught == 200
    assert tenure_flagged <= binom.ppf(0.999, 200, 0.05), tenure_flagged


def test_the_chi_square_statistic_is_the_textbook_one():
    invitations = [({"size": "small"}, "sent")] * 50 + [({"size": "large"}, "sent")] * 50
    cells = {"customer|size=small|tenure=": {"n": 30}, "customer|size=large|tenure=": {"n": 10}}
    result = run(invitations, cells)
    size = next(a for a in result["attributes"] if a["attribute"] == "size")
    # expected 20 and 20: (30-20)^2/20 + (10-20)^2/20 = 10, one degree of freedom; 40 of the
    # 100 invited answered, so divided by the finite population correction 1 - 0.4: 16.667
    assert size["test"]["statistic"] == 16.667 and size["test"]["df"] == 1
    assert abs(size["test"]["p"] - 4.456e-05) < 1e-6  # p is given to 6 places


def test_respondents_of_a_kind_never_invited_make_the_mix_differ():
    invitations = [({"size": "small"}, "completed")] * 20
    cells = {"customer|size=small|tenure=": {"n": 20}, "customer|size=large|tenure=": {"n": 6}}
    size = next(a for a in run(invitations, cells)["attributes"] if a["attribute"] == "size")
    assert size["test"]["differs"] and size["test"]["outside"] == ["large"]


def test_an_uploaded_population_is_the_reference_when_given():
    invitations, cells = sample(3, {"small": 0.3, "midsize": 0.3, "large": 0.3})
    even = run(invitations, cells)
    assert not even["differs"]
    skewed = run(invitations, cells, population={"size": {"small": 100, "midsize": 100,
                                                           "large": 800}})
    size = next(a for a in skewed["attributes"] if a["attribute"] == "size")
    assert size["reference"] == "population" and size["test"]["differs"]


def test_hidden_segments_keep_their_counts_hidden():
    invitations, cells = sample(4, {"small": 0.3, "midsize": 0.3, "large": 0.3})
    result = run(invitations, cells, hidden={"size=large"})
    large = next(v for a in result["attributes"] for v in a["values"] if v["key"] == "size=large")
    assert large["completed"] is None and large["response_rate"] is None
    assert large["respondent_share"] is None and large["invited"] == 300


REPLICATES = 400
ALLOWED = int(binom.ppf(0.999, REPLICATES, 0.05))


def test_equal_response_rates_warn_at_most_at_the_nominal_rate():
    warned = sum(bool(run(*sample(100 + r, {"small": 0.3, "midsize": 0.3, "large": 0.3},
                                  per_cell=30))["differs"]) for r in range(REPLICATES))
    assert warned <= ALLOWED, (warned, ALLOWED)
    # and not far below it either (without the finite population correction: 3 of 400)
    assert warned >= binom.ppf(0.001, REPLICATES, 0.05), warned


def test_nothing_to_compare_with_gives_no_block():
    assert run([], {"customer|size=small|tenure=new": {"n": 5}}) is None
