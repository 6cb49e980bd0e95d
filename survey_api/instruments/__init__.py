"""The instruments that ship with the product, held as data (one JSON file per version)."""

from __future__ import annotations

import json
from pathlib import Path

from shared.storage import AlreadyExists, Instrument, Store

DATA = Path(__file__).parent / "data"


def builtin_instruments() -> list[Instrument]:
    out = []
    for path in sorted(DATA.glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        out.append(Instrument(id=definition["id"], version=definition["version"],
                              kind=definition["kind"], title=definition["title"],
                              definition=definition, org_id=None))
    return out


def install_builtin(store: Store) -> list[Instrument]:
    """Store every shipped instrument version that is not stored yet; returns those added."""
    added = []
    for instrument in builtin_instruments():
        try:
            added.append(store.instruments.add(instrument))
        except AlreadyExists:
            pass
    return added
