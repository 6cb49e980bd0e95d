"""What every benchmark starts from: a store with the demo organization and an empty open
survey, on each backend there is: embedded SQLite always, and MongoDB too when MONGODB_URI
names a server (item 6 of the benchmark issue: the same suite against MongoDB)."""

from __future__ import annotations

import atexit
import os
import tempfile
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

from shared.storage import Store, Survey, open_store
from survey_api.demo import Demo, seed_demo
from survey_api.surveys.domain import create_survey, transition


@dataclass
class BenchSurvey:
    backend: str  # "SQLite" or "MongoDB"
    url: str  # what STORE_URL is set to for a server started on this store
    store: Store
    demo: Demo
    survey: Survey
    folder: Path  # scratch space for files (scripts, keys)


_kept = ExitStack()
atexit.register(_kept.close)
_shared: dict[tuple[str, str], BenchSurvey] = {}


def shared_survey(name: str, backend: str = "SQLite") -> BenchSurvey:
    """A bench_survey kept until the process ends, so that a later benchmark of the same run
    can read what an earlier one wrote (the memory bench's 1,000,000 responses are the report
    bench's largest dataset): made on the first call, the same one on later calls."""
    if (name, backend) not in _shared:
        _shared[name, backend] = _kept.enter_context(bench_survey(name, backend))
    return _shared[name, backend]


def ready_survey(name: str, backend: str = "SQLite") -> BenchSurvey | None:
    """The shared_survey of that name if an earlier benchmark of this run has made it."""
    return _shared.get((name, backend))


def million_name(n: int) -> str:
    """The name the memory bench shares its dataset under (the report bench looks for it)."""
    return f"{n:,} ingested responses"


def backends() -> list[str]:
    return ["SQLite"] + (["MongoDB"] if os.environ.get("MONGODB_URI") else [])


def _mongo_url(database: str) -> str:
    parts = urlsplit(os.environ["MONGODB_URI"])
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextmanager
def bench_survey(name: str, backend: str = "SQLite") -> Iterator[BenchSurvey]:
    """A fresh store and survey, removed afterwards (the temporary folder, or the database)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if backend == "SQLite":
            url = f"sqlite:///{folder / (name.replace(' ', '-') + '.db')}"
        else:
            url = _mongo_url(f"bench_{uuid.uuid4().hex[:10]}")
        store = open_store(url)
        store.initialize()  # what init-db does: the services only check for it
        try:
            demo = seed_demo(store, folder / "key")
            # v1: the benchmarks post v1's full answer sets (figures stay comparable)
            survey = create_survey(store, demo.org_id, {"name": name, "customer_instrument": {
                "id": "how-you-buy", "version": 1}})
            survey = transition(store, demo.org_id, survey.id, "open")
            yield BenchSurvey(backend, url, store, demo, survey, folder)
        finally:
            if backend == "MongoDB":
                store.client.drop_database(store.db_name)
            store.close()
