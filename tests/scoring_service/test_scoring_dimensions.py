"""Each dimension on data small enough to compute by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import pytest

from scoring_service.scoring import dimensions as dims
from scoring_service.scoring.counts import Counts
from scoring_service.scoring.model import load_model

MODEL = load_model()
A = MODEL["alignment"]
R = MODEL["readiness"]


def counts(n: int, **questions) -> Counts:
    """Counts from {question: {value: count}}; every question answered by its total."""
    counters = {"n": n}
    for question, histogram in questions.items():
        counters[f"{question}#answered"] = sum(histogram.values()) if question not in (
            "content_useful", "content_published", "content_gated", "info_sources",
            "channels_used") else n
        for value, c in histogram.items():
            counters[f"{question}={value}"] = c
    return Counts(counters)


def test_a1_timing():
    customers = counts(5, first_contact_percent={60: 3, 80: 2})  # median 60
    vendor = counts(2, first_touch_percent={20: 1, 30: 1})  # median 25
    d = dims.timing(customers, vendor, A["A1"], 0.95)
    assert d.score == pytest.approx(100 - 2 * 35)  # 30
    # n = 5: the median's interval is the whole range [60, 80], widened by half a point for
    # whole-number answers: [59.5, 80.5] -> scores 31 and 0.
    assert (d.low, d.high) == (0, 31)
    assert d.metrics["timing.gap"] == 35 and d.metrics["timing.within_share_pct"] == 0


def test_a1_when_everyone_agrees_with_the_vendor():
    customers = counts(12, first_contact_percent={25: 12})
    vendor = counts(1, first_touch_percent={25: 1})
    d = dims.timing(customers, vendor, A["A1"], 0.95)
    # Twelve identical answers pin the median to 25 +- half a point, not to a single value.
    assert (d.score, d.low, d.high) == (100, 99, 100)
    assert d.metrics["timing.within_share_pct"] == 100


def test_a2_mode_fit_weights_jobs_by_importance():
    customers = counts(
        4, job_problem_importance={5: 4}, job_problem_mode={"self_serve": 3, "in_person": 1},
        job_explore_importance={1: 2, 3: 2}, job_explore_mode={"remote_person": 2, "none": 2})
    vendor = counts(2, job_problem_modes={"self_serve": 2},
                    job_explore_modes={"remote_person": 1})
    # problem: self_serve offered (2/2), 3 of 4 match. explore: remote offered (1/2 = 0.5),
    # "none" matches only where self-serve is offered: 2 of 4. Weights: mean importance 5, 2.
    d = dims.mode_fit(customers, vendor, A["A2"], 0.95, {})
    assert d.score == pytest.approx(100 * (5 * 0.75 + 2 * 0.5) / 7)
    assert d.inputs["jobs"]["problem"]["offered"] == ["self_serve"]


def test_a3_content_fit_with_gating_penalty():
    customers = counts(4, content_useful={"articles": 4, "guides": 2},
                       gate_tolerance={"never": 2, "always": 2})
    vendor = counts(2, content_published={"articles": 2, "guides": 1},
                    content_gated={"guides": 2})
    # useful shares 1.0, 0.5; published 1.0, 0.5 -> coverage (1 + .25) / 1.5 = 5/6.
    # gated share of useful: (1 x 0 + .5 x 1) / 1.5 = 1/3; aversion 2/4 = .5.
    d = dims.content_fit(customers, vendor, A["A3"], 0.95)
    assert d.score == pytest.approx(100 * (5 / 6 - 0.5 / 3))
    assert d.metrics["content.gate_aversion_pct"] == pytest.approx(50)
    assert d.metrics["content.gated_useful_pct"] == pytest.approx(100 / 3)


def test_a4_channel_fit():
    customers = counts(10, info_sources={"search": 10, "peers": 5})
    vendor = counts(2, channels_used={"search": 2})
    # (1.0 x 1.0 + 0.5 x 0) / 1.5
    d = dims.channel_fit(customers, vendor, A["A4"], 0.95, {"peers": "Colleagues and peers"})
    assert d.score == pytest.approx(100 / 1.5)
    assert d.metrics["channels.missing"] == "colleagues and peers"


def test_a5_team_coverage():
    customers = counts(4, buying_team_size={"4-6": 2, "11+": 2})  # mean (5+5+13+13)/4 = 9
    vendor = counts(2, contacts_engaged={"2-3": 1, "4-6": 1}, consensus_material={5: 2})
    # 0.8 x 100 x 3.75 / 9 + 0.2 x 100
    d = dims.team_coverage(customers, vendor, A["A5"], 0.95)
    assert d.score == pytest.approx(80 * 3.75 / 9 + 20)
    assert d.metrics["team.customer_mean"] == 9 and d.metrics["team.vendor_contacts"] == 3.75


def test_a6_experience_skips_unanswered_items():
    customers = counts(2, exp_website_helped={5: 2}, exp_clear_reason={1: 1, 3: 1},
                       nps={10: 1, 6: 1})
    d = dims.experience(customers, A["A6"], 0.95)
    assert d.score == pytest.approx((100 + 25) / 2)
    assert d.metrics["nps"] == pytest.approx(0)  # one promoter, one detractor


def test_a7_perception_gap():
    customers = counts(5, first_contact_percent={60: 3, 80: 2}, nps={10: 1, 6: 1})
    vendor = counts(2, pred_first_contact_percent={40: 2}, pred_nps={8: 2})
    # first contact: predicted 40, actual mean 68 -> 28; NPS item: 80 vs 80 -> 0.
    kinds = {"first_contact_percent": "percent", "nps": "scale_0_10",
             "exp_website_helped": "likert_5", "exp_clear_reason": "likert_5",
             "exp_taught": "likert_5", "exp_meetings_advanced": "likert_5"}
    d = dims.perception(customers, vendor, A["A7"], 0.95, kinds)
    assert d.score == pytest.approx(100 - 14)


def test_readiness_pillar_is_capped_by_customer_evidence():
    customers = counts(4, exp_website_helped={2: 4})  # customers: 25 of 100
    vendor = counts(2, r1_self_education={5: 2}, r1_proof_online={4: 2})  # self: 87.5
    d = dims.pillar(customers, vendor, R["pillars"]["R1"], R, 0.95)
    assert d.inputs["self_assessed"] == 87.5
    assert d.score == 25 + R["evidence_margin"] and d.inputs["capped"]


def test_inconsistent_staff_lower_the_message_pillar():
    vendor = counts(2, r2_one_sentence={1: 1, 5: 1}, r2_same_story={3: 2})
    # sd of (1, 5) = sqrt(8) = 2.83 > 1.0 -> penalty min(20, 1.83 x 20) = 20; self = 50.
    d = dims.pillar(counts(0), vendor, R["pillars"]["R2"], R, 0.95)
    assert d.inputs["consistency_penalty"] == 20 and d.score == 30
    same = dims.pillar(counts(0), counts(2, r4_stage_conversion={1: 1, 5: 1},
                                         r4_source_to_revenue={3: 2}),
                       R["pillars"]["R4"], R, 0.95)
    assert same.score == 50  # R4 is not a consistency pillar


def test_missing_inputs_give_no_score_and_say_why():
    d = dims.timing(counts(0), counts(0), A["A1"], 0.95)
    assert d.score is None and "first contact" in d.missing
