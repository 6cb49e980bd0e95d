"""Planted-signal populations: the report must find what was planted, in the right segment,
rank it first and fire the matching recommendation; a healthy population fires none of them."""

from __future__ import annotations

import re

from scoring_service.scoring.engine import build_report
from scoring_service.scoring.model import load_model

from tests.support.populations import CUSTOMER, MOSTLY_GATED, SEGMENTS, population, small_accounts_hate_forms

PLANTED_RULES = {"contact-later", "contact-earlier", "ungate", "multi-thread"}


def report_for(cells):
    return build_report(cells, model=load_model(), customer_definition=CUSTOMER,
                        segments=SEGMENTS, customer_names=["size", "tenure"],
                        crosses=[["size", "tenure"]])


def segment(report, key):
    return next(s for s in report["segments"] if s["key"] == key)


def test_a_healthy_population_fires_none_of_the_planted_findings():
    report = report_for(population(seed=1))
    fired = {r["id"] for r in report["recommendations"]}
    assert not fired & PLANTED_RULES, fired
    assert report["overall"]["alignment"]["band"] in ("aligned", "leading")
    significant = [(s["key"], c["metric"]) for s in report["segments"]
                   for c in s["comparisons"] if c["significant"]]
    assert significant == []


def test_large_long_standing_customers_wanting_late_contact_is_found_and_ranked_first():
    def plant(answers, rng):
        if answers["company_size"] == "large" and answers["tenure"] == "long_standing":
            answers["first_contact_percent"] = min(100, max(0, int(rng.gauss(75, 6))))

    report = report_for(population(seed=2, plant=plant))
    target = "size=large|tenure=long_standing"
    a1 = segment(report, target)["alignment"]["dimensions"]["A1"]
    assert a1["score"] < 20 and a1["band"] == "misaligned"
    comparison = next(c for c in segment(report, target)["comparisons"] if c["metric"] == "A1")
    assert comparison["significant"] and comparison["difference"] < -50
    # Only the planted cell (and the segments containing it) differ.
    flagged = {s["key"] for s in report["segments"] for c in s["comparisons"]
               if c["metric"] == "A1" and c["significant"]}
    assert target in flagged and flagged <= {target, "size=large", "tenure=long_standing"}
    top = report["recommendations"][0]
    assert (top["id"], top["segment"]) == ("contact-later", target)
    wanted, engaged = re.search(r"first contact at (\d+)%.*engages at (\d+)%",
                                top["evidence"]).groups()
    assert 65 <= int(wanted) <= 85 and int(engaged) == 10  # the planted numbers are cited
    other_cells = [s for s in report["segments"] if "|" in s["key"] and s["key"] != target]
    assert all("contact-later" not in {r["id"] for r in s["recommendations"]}
               for s in other_cells)


def test_small_customers_who_hate_forms_meeting_gated_content_fire_ungate_there_only():
    report = report_for(population(seed=3, plant=small_accounts_hate_forms, gated=MOSTLY_GATED))
    fired = {(r["id"], r["segment"]) for r in report["recommendations"] if r["id"] == "ungate"}
    assert ("ungate", "size=small") in fired
    assert all("size=small" in seg for _, seg in fired), fired
    assert report["recommendations"][0]["id"] == "ungate"
    small = segment(report, "size=small")
    a3 = next(c for c in small["comparisons"] if c["metric"] == "A3")
    assert a3["significant"] and a3["difference"] < 0
    # The same gating with tolerant customers is not a finding.
    tolerant = report_for(population(seed=3, gated=MOSTLY_GATED))
    assert "ungate" not in {r["id"] for r in tolerant["recommendations"]}


def test_large_accounts_with_big_buying_teams_fire_multi_threading():
    def plant(answers, rng):
        if answers["company_size"] == "large":
            answers["buying_team_size"] = "11+"

    cells = population(seed=4, plant=plant)
    # The vendor engages 2-3 people, which covers the others' 4-10 person teams less well too,
    # but only large accounts carry the rule.
    for key, counters in cells.items():
        if key.startswith("vendor|"):
            counters.pop("contacts_engaged=7-10", None)
            counters["contacts_engaged=2-3"] = counters["n"]
    report = report_for(cells)
    fired = {r["segment"] for r in report["recommendations"] if r["id"] == "multi-thread"}
    assert "size=large" in fired and all("size=large" in s for s in fired)


def test_small_segments_are_suppressed_or_flagged():
    cells = population(seed=5, per_cell=3)  # 3 per cell: 9 per size, 27 overall
    report = report_for(cells)
    by_key = {s["key"]: s for s in report["segments"]}
    assert by_key["size=large|tenure=new"]["status"] == "suppressed"
    assert by_key["size=large|tenure=new"]["n"] is None
    assert "alignment" not in by_key["size=large|tenure=new"]
    assert by_key["size=large"]["status"] == "insufficient" and by_key["size=large"]["n"] == 9
    assert by_key["overall"]["status"] == "low_confidence"
    insufficient_recs = {r["id"] for r in by_key["size=large"]["recommendations"]}
    assert insufficient_recs <= {"collect-more"}


def test_vendor_wide_findings_are_reported_once():
    cells = population(seed=6)
    for key, counters in cells.items():
        if key.startswith("vendor|"):
            counters.pop("r4_stage_conversion=4")
            counters.pop("r4_source_to_revenue=4")
            counters["r4_stage_conversion=1"] = counters["n"]
            counters["r4_source_to_revenue=1"] = counters["n"]
    report = report_for(cells)
    funnel = [r for r in report["recommendations"] if r["id"] == "measure-funnel"]
    assert [r["segment"] for r in funnel] == ["overall"]
    assert report["recommendations"][0]["id"] == "measure-funnel"  # before anything else
    assert report["overall"]["readiness"]["pillars"]["R4"]["score"] == 0
