"""What every benchmark starts from: an embedded store with the demo organization and an
empty open survey."""

from __future__ import annotations

from pathlib import Path

from shared.storage import Store, Survey, open_store
from survey_api.demo import Demo, seed_demo
from survey_api.surveys.domain import create_survey, transition


def open_survey(folder: Path, name: str) -> tuple[Store, Demo, Survey, Path]:
    db = Path(folder) / f"{name.replace(' ', '-')}.db"
    store = open_store(f"sqlite:///{db}")
    demo = seed_demo(store, Path(folder) / "key")
    survey = create_survey(store, demo.org_id, {"name": name})
    return store, demo, transition(store, demo.org_id, survey.id, "open"), db
