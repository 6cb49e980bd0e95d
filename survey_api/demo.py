"""The demo organization, key and survey that `make run` loads, so there is something to see."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import random

from shared import ids
from shared.instruments import questions_of
from shared.storage import Store, Survey

from .accounts.domain import create_key, create_organization
from .instruments import install_builtin

DEMO_ORG = "Demo Vendor"
DEMO_SURVEY = "How our customers buy (demo)"


DEMO_CONSOLE_EMAIL = "owner@demo-vendor.example"


@dataclass
class Demo:
    org_id: str
    survey_id: str
    api_key: str
    created: bool
    console_email: str = DEMO_CONSOLE_EMAIL
    console_password: str = ""


def seed_console_user(store: Store, org_id: str, login_file: Path) -> str:
    """The demo organization's console admin; its password is generated once and kept in
    login_file (mode 600), like the demo key, so every `make run` can print it."""
    from .console.users import create_user, generate_password

    if store.console_users.find_by_email(DEMO_CONSOLE_EMAIL) is not None and login_file.exists():
        return login_file.read_text().split()[-1]
    password = generate_password()
    user = store.console_users.find_by_email(DEMO_CONSOLE_EMAIL)
    if user is None:
        create_user(store, org_id, DEMO_CONSOLE_EMAIL, "Demo survey owner", "admin", password)
    else:
        from .console.users import set_password
        set_password(store, user, password)
    login_file.parent.mkdir(parents=True, exist_ok=True)
    login_file.write_text(f"{DEMO_CONSOLE_EMAIL} {password}\n")
    os.chmod(login_file, 0o600)
    return password


def seed_demo(store: Store, key_file: Path) -> Demo:
    """Create the demo data once; later runs find it and read the key back from key_file.

    The demo key is the one exception to "keys are shown once": it is written to a file under
    var/ (mode 600) so that every `make run` can print it. Real keys are never written anywhere.
    """
    install_builtin(store)
    org = store.organizations.find_by_name(DEMO_ORG)
    if org is not None and key_file.exists():
        survey = store.surveys.list(org.id, limit=1).items
        return Demo(org.id, survey[0].id if survey else "", key_file.read_text().strip(), False)
    if org is None:
        org = create_organization(store, DEMO_ORG)
    _, plaintext = create_key(store, org.id, "demo admin key", ["admin"])
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(plaintext + "\n")
    os.chmod(key_file, 0o600)
    surveys = store.surveys.list(org.id, limit=1).items
    if surveys:
        survey = surveys[0]
    else:
        survey = store.surveys.add(Survey(
            id=ids.new_id(), org_id=org.id, name=DEMO_SURVEY, status="open",
            customer_instrument={"id": "how-you-buy", "version": 1},
            vendor_instrument={"id": "how-we-sell", "version": 1},
            segments={"tenure": ["new", "established", "long_standing"],
                      "size": ["small", "midsize", "large"],
                      "role": ["sales", "marketing", "leadership", "other"]},
            branding={"vendor_name": DEMO_ORG, "accent_color": "#1f6feb"},
        ))
        load_demo_responses(store, survey)
    return Demo(org.id, survey.id, plaintext, True)


def load_demo_responses(store: Store, survey: Survey, customers: int = 240, seed: int = 2026):
    """A made-up but plausible population, so the report and brief have something to say:
    large long-standing accounts want sales much later than it arrives, small companies walk
    away from forms while much content is gated, and staff disagree about the message."""
    from .responses.domain import ingest_batch

    instruments = {"customer": store.instruments.get(None, "how-you-buy", 1),
                   "vendor": store.instruments.get(None, "how-we-sell", 1)}
    items = demo_items(instruments, customers, seed)
    for start in range(0, len(items), 500):
        ingest_batch(store, survey, items[start:start + 500], {}, source="import")


def demo_items(instruments: dict, customers: int, seed: int, prefix: str = "demo") -> list[dict]:
    """Batch items (submission_id, instrument, answers) of the demo population: `customers`
    customers and nine vendor staff. Also what docs/examples/responses.json holds."""
    rng = random.Random(seed)
    items = [{"submission_id": f"{prefix}-c{i}", "answers": _demo_customer(rng, instruments)}
             for i in range(customers)]
    items += [{"submission_id": f"{prefix}-v{i}", "instrument": "vendor",
               "answers": _demo_vendor(rng, instruments, role)}
              for i, role in enumerate(["sales"] * 4 + ["marketing"] * 3 + ["leadership"] * 2)]
    return items


def _any(question: dict, rng: random.Random):
    kind, options = question["type"], [o["value"] for o in question.get("options", [])]
    if kind == "single_choice":
        return rng.choice(options)
    if kind == "multiple_choice":
        return rng.sample(options, rng.randint(1, min(4, len(options))))
    if kind == "ranking":
        return rng.sample(options, min(3, len(options)))
    if kind == "likert_5":
        return rng.choice([2, 3, 3, 4, 4, 4, 5])
    if kind == "scale_0_10":
        return rng.choice([5, 6, 7, 8, 8, 9, 9, 10])
    if kind == "percent":
        return rng.randint(20, 60)
    return None


def _demo_customer(rng, instruments) -> dict:
    answers = {q["id"]: _any(q, rng) for q in questions_of(instruments["customer"].definition)
               .values() if q["type"] != "text"}
    size, tenure = answers["company_size"], answers["tenure"]
    answers["first_contact_percent"] = max(0, min(100, int(rng.gauss(
        72 if (size == "large" and tenure == "long_standing") else 40, 10))))
    if size == "small":
        answers["gate_tolerance"] = rng.choice(["never", "rarely", "rarely", "valuable_only"])
    if size == "large":
        answers["buying_team_size"] = rng.choice(["7-10", "11+", "11+"])
    if rng.random() < 0.3:
        answers["suggestion"] = rng.choice([
            "Publish pricing so we can shortlist without a call.",
            "Fewer forms in front of the useful material, please.",
            "Bring someone technical to the second meeting."])
    return answers


def _demo_vendor(rng, instruments, role: str) -> dict:
    answers = {q["id"]: _any(q, rng) for q in questions_of(instruments["vendor"].definition)
               .values() if q["type"] != "text"}
    answers.update(role=role, first_touch_percent=rng.choice([10, 15, 20]),
                   content_gated=["guides", "case_studies", "analyst_reports", "calculators"],
                   contacts_engaged=rng.choice(["2-3", "2-3", "4-6"]))
    answers["r2_same_story"] = 5 if role == "marketing" else 2  # two stories inside the company
    return answers
