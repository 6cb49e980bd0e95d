"""Synthetic populations with known properties, for testing that the report finds what was
planted (and nothing that was not)."""

from __future__ import annotations

import random
from collections import Counter

from shared.cells import answer_counters, cell_key
from shared.instruments import questions_of

from tests.support.factories import builtin

CUSTOMER = builtin("how-you-buy")
VENDOR = builtin("how-we-sell")
JOBS = ("problem", "explore", "requirements", "selection", "validation", "consensus")
CONTENT = ["articles", "guides", "case_studies", "calculators", "analyst_reports",
           "product_docs", "pricing_info", "webinars", "reviews", "comparisons"]
SOURCES = ["search", "vendor_sites", "peers", "analysts", "review_sites", "social", "events",
           "communities", "newsletters", "salespeople"]


def healthy_customer(rng: random.Random, tenure: str, size: str) -> dict:
    """A customer whose buying the healthy vendor below serves well."""
    answers = {"tenure": tenure, "company_size": size, "role": rng.choice(["manager", "user"]),
               "buying_team_size": rng.choice(["4-6", "7-10"]),
               "first_contact_percent": min(100, max(0, int(rng.gauss(12, 4)))),
               "buying_change_amount": rng.randint(2, 4),
               "content_useful": rng.sample(CONTENT[:6], 3),
               "content_formats": ["short_text", "video"],
               "gate_tolerance": rng.choice(["always", "valuable_only"]),
               "info_sources": rng.sample(SOURCES[:5], 3),
               "top_sources": ["search", "peers", "vendor_sites"],
               "nps": rng.randint(8, 10), "suggestion": "Keep it simple."}
    for job in JOBS:
        answers[f"job_{job}_importance"] = rng.randint(3, 5)
        answers[f"job_{job}_mode"] = rng.choice(["self_serve", "remote_person"])
        answers[f"job_{job}_value"] = ["information"]
    for item in ("exp_website_helped", "exp_clear_reason", "exp_taught", "exp_meetings_advanced",
                 "exp_ease"):
        answers[item] = rng.randint(4, 5)
    return answers


def healthy_vendor(rng: random.Random, role: str, gated: list[str] = ()) -> dict:
    answers = {"role": role, "stages_covered": list(JOBS), "first_touch_percent": 10,
               "contacts_engaged": "7-10", "consensus_material": 4,
               "content_published": list(CONTENT), "formats_published": ["short_text", "video"],
               "content_gated": list(gated), "channels_used": list(SOURCES),
               "pred_first_contact_percent": 15, "pred_website_helped": 5,
               "pred_clear_reason": 5, "pred_taught": 4, "pred_meetings_advanced": 5,
               "pred_nps": 9}
    for job in JOBS:
        answers[f"job_{job}_modes"] = ["self_serve", "remote_person", "in_person"]
        answers[f"job_{job}_value"] = ["information", "pricing"]
    for q in questions_of(VENDOR).values():
        if q.get("dimension", "").startswith("R"):
            answers[q["id"]] = 4  # every staff member gives the same, good answer
    if not answers["content_gated"]:
        del answers["content_gated"]
    return answers


def to_cells(customers: list[dict], vendors: list[dict]) -> dict[str, dict[str, int]]:
    cq, vq = questions_of(CUSTOMER), questions_of(VENDOR)
    cells: dict[str, Counter] = {}
    for answers in customers:
        attrs = {"tenure": answers["tenure"], "size": answers["company_size"]}
        names = ["size", "tenure"]
        if "_region" in answers:  # a custom attribute, as a survey's own segment
            attrs["region"] = answers["_region"]
            names.append("region")
        cells.setdefault(cell_key("customer", attrs, names), Counter()).update(
            answer_counters(cq, answers))
    for answers in vendors:
        cells.setdefault(cell_key("vendor", {"role": answers["role"]}, ["role"]),
                         Counter()).update(answer_counters(vq, answers))
    return {k: dict(v) for k, v in cells.items()}


def population_answers(seed: int, per_cell=40, plant=None, gated: list[str] = (),
                       staff=None) -> tuple[list[dict], list[dict]]:
    """Raw answers: per_cell customers in each of the 9 tenure x size cells (an int, or a
    {(tenure, size): count} mapping for uneven cells); plant(answers, rng) may change a
    customer's answers in place, staff(answers, rng) a staff member's. Six vendor staff."""
    rng = random.Random(seed)
    customers = []
    for tenure in ("new", "established", "long_standing"):
        for size in ("small", "midsize", "large"):
            count = per_cell if isinstance(per_cell, int) else per_cell.get((tenure, size), 0)
            for _ in range(count):
                answers = healthy_customer(rng, tenure, size)
                if plant:
                    plant(answers, rng)
                customers.append(answers)
    vendors = [healthy_vendor(rng, role, gated) for role in
               ("sales", "sales", "marketing", "marketing", "leadership", "other")]
    if staff:
        for answers in vendors:
            staff(answers, rng)
    return customers, vendors


def population(seed: int, per_cell=40, plant=None, gated: list[str] = (), staff=None):
    """population_answers, counted into cells."""
    return to_cells(*population_answers(seed, per_cell, plant, gated, staff))


def small_accounts_hate_forms(answers, rng):
    """Small accounts mostly refuse forms in front of content [ungate: >= 50 % and gated >= 30]."""
    if answers["company_size"] == "small":
        answers["gate_tolerance"] = rng.choice(["never", "never", "rarely"])


# What a vendor that gates most of its content puts behind a form.
MOSTLY_GATED = ["articles", "guides", "case_studies", "calculators", "analyst_reports",
                "product_docs"]


# Populations where no segment differs from any other and every rule's metric sits just on
# the side where the rule must NOT fire (each rule's threshold in the model, in brackets).

def _late_contact(answers, rng):  # timing gap ~ +23 [contact-later: gap >= 25]
    answers["first_contact_percent"] = min(100, max(0, int(rng.gauss(34, 4))))


def _vendor_engages_late(answers, rng):  # gap ~ -23.5 [contact-earlier: gap <= -25]
    answers["first_touch_percent"] = 35


def _some_prefer_in_person(answers, rng):  # A2 ~ 63 [mode-fit: A2 < 60]
    for job in JOBS:
        if rng.random() < 0.37:
            answers[f"job_{job}_mode"] = "in_person"


def _vendor_offers_no_meetings(answers, rng):
    for job in JOBS:
        answers[f"job_{job}_modes"] = ["self_serve", "remote_person"]


def _vendor_present_in_three_sources(answers, rng):  # A4 ~ 63 [channel-fit: A4 < 60]
    answers["channels_used"] = SOURCES[:3] + (SOURCES[3:4] if answers["role"] == "leadership"
                                              else [])


def _teams_of_eight(answers, rng):  # A5 ~ 62 everywhere [multi-thread: A5 < 60 in large]
    answers["buying_team_size"] = "7-10"


def _vendor_engages_five(answers, rng):
    answers["contacts_engaged"] = "4-6"


def _some_hate_forms(answers, rng):  # gate aversion ~ 45 % [ungate: >= 50 % and gated >= 30]
    answers["gate_tolerance"] = (rng.choice(["never", "rarely"]) if rng.random() < 0.45
                                 else rng.choice(["always", "valuable_only"]))


def _funnel_half_measured(answers, rng):  # R4 ~ 54 [measure-funnel: R4 < 50]
    for item in ("r4_stage_conversion", "r4_source_to_revenue"):
        answers[item] = rng.choice([2, 3, 3, 3, 4, 4])


def _staff_mildly_disagree(answers, rng):  # item sd ~ 0.82 [align-story: sd > 1.0]
    for item in ("r2_one_sentence", "r2_same_story", "r6_shared_journey", "r6_exit_criteria"):
        answers[item] = rng.choice([3, 4, 5])


def _staff_misjudge_experience(answers, rng):  # A7 ~ 74 [perception-gap: A7 < 70]
    for item in ("pred_website_helped", "pred_clear_reason", "pred_taught",
                 "pred_meetings_advanced"):
        answers[item] = 3


NEAR_THRESHOLD = {
    "healthy": ({}, None),
    "late contact": ({"plant": _late_contact}, "contact-later"),
    "vendor engages late": ({"staff": _vendor_engages_late}, "contact-earlier"),
    "modes": ({"plant": _some_prefer_in_person, "staff": _vendor_offers_no_meetings},
              "mode-fit"),
    "channels": ({"staff": _vendor_present_in_three_sources}, "channel-fit"),
    "teams": ({"plant": _teams_of_eight, "staff": _vendor_engages_five}, "multi-thread"),
    "gates": ({"plant": _some_hate_forms, "gated": CONTENT[:6]}, "ungate"),
    "funnel": ({"staff": _funnel_half_measured}, "measure-funnel"),
    "story": ({"staff": _staff_mildly_disagree}, "align-story"),
    "perception": ({"staff": _staff_misjudge_experience}, "perception-gap"),
}


SEGMENTS = {"tenure": ["new", "established", "long_standing"],
            "size": ["small", "midsize", "large"]}
