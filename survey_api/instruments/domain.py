"""Instrument rules: built-in ids are reserved, versions only go up, nothing is ever edited."""

from __future__ import annotations

from shared.storage import AlreadyExists, Instrument, Store

from shared.errors import Conflict, NotFound
from . import builtin_instruments
from shared.instruments import questions_of


def summary(instrument: Instrument) -> dict:
    return {"id": instrument.id, "version": instrument.version, "kind": instrument.kind,
            "title": instrument.title, "questions": len(questions_of(instrument.definition)),
            "builtin": instrument.org_id is None}


def add_instrument(store: Store, org_id: str, definition: dict) -> Instrument:
    iid, version = definition["id"], definition["version"]
    if iid in {i.id for i in builtin_instruments()}:
        raise Conflict(f"'{iid}' is a built-in instrument id; choose another id.")
    latest = store.instruments.get(org_id, iid)
    if latest is not None and latest.version >= version:
        raise Conflict(f"Instrument '{iid}' is at version {latest.version}; versions are "
                       f"immutable, so post version {latest.version + 1} or higher.")
    instrument = Instrument(id=iid, version=version, kind=definition["kind"],
                            title=definition["title"], definition=definition, org_id=org_id)
    try:
        return store.instruments.add(instrument)
    except AlreadyExists:  # a concurrent post of the same version won
        raise Conflict(f"Instrument '{iid}' version {version} exists.") from None


def get_instrument(store: Store, org_id: str, instrument_id: str,
                   version: int | None = None) -> Instrument:
    instrument = store.instruments.get(org_id, instrument_id, version)
    if instrument is None:
        which = f" version {version}" if version else ""
        raise NotFound(f"No instrument '{instrument_id}'{which}.")
    return instrument
