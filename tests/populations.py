"""Synthetic populations with known properties, for testing that the report finds what was
planted (and nothing that was not)."""

from __future__ import annotations

import random
from collections import Counter

from shared.cells import answer_counters, cell_key
from shared.instruments import questions_of

from .factories import builtin

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
        cells.setdefault(cell_key("customer", attrs, ["size", "tenure"]), Counter()).update(
            answer_counters(cq, answers))
    for answers in vendors:
        cells.setdefault(cell_key("vendor", {"role": answers["role"]}, ["role"]),
                         Counter()).update(answer_counters(vq, answers))
    return {k: dict(v) for k, v in cells.items()}


def population(seed: int, per_cell: int = 40, plant=None, gated: list[str] = ()):
    """per_cell customers in each of the 9 tenure x size cells; plant(answers) may change
    a customer's answers in place. Six vendor staff."""
    rng = random.Random(seed)
    customers = []
    for tenure in ("new", "established", "long_standing"):
        for size in ("small", "midsize", "large"):
            for _ in range(per_cell):
                answers = healthy_customer(rng, tenure, size)
                if plant:
                    plant(answers, rng)
                customers.append(answers)
    vendors = [healthy_vendor(rng, role, gated) for role in
               ("sales", "sales", "marketing", "marketing", "leadership", "other")]
    return to_cells(customers, vendors)


SEGMENTS = {"tenure": ["new", "established", "long_standing"],
            "size": ["small", "midsize", "large"]}
