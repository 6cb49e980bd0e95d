"""The demo organization, key and survey that `make run` loads, so there is something to see."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from shared import ids
from shared.storage import Store, Survey

from .accounts.domain import create_key, create_organization
from .instruments import install_builtin

DEMO_ORG = "Demo Vendor"
DEMO_SURVEY = "How our customers buy (demo)"


@dataclass
class Demo:
    org_id: str
    survey_id: str
    api_key: str
    created: bool


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
    survey = surveys[0] if surveys else store.surveys.add(Survey(
        id=ids.new_id(), org_id=org.id, name=DEMO_SURVEY, status="open",
        customer_instrument={"id": "how-you-buy", "version": 1},
        vendor_instrument={"id": "how-we-sell", "version": 1},
        segments={"tenure": ["new", "established", "long_standing"],
                  "size": ["small", "midsize", "large"]},
        branding={"vendor_name": DEMO_ORG, "accent_color": "#1f6feb"},
    ))
    return Demo(org.id, survey.id, plaintext, True)
