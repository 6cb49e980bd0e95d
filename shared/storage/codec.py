"""Records to and from plain documents (dicts of JSON types), shared by both backends."""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")


@lru_cache(maxsize=None)
def _field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def to_doc(record) -> dict:
    """A shallow dict of the record (dataclasses.asdict deep-copies every nested answer, which
    was the largest cost of ingesting a batch; the values are JSON data already)."""
    doc = {name: getattr(record, name) for name in _field_names(type(record))}
    for key, value in doc.items():
        if isinstance(value, tuple):
            doc[key] = list(value)
    return doc


def from_doc(cls: type[T], doc: dict) -> T:
    names = {f.name: f for f in dataclasses.fields(cls)}
    values = {k: v for k, v in doc.items() if k in names}
    for name, f in names.items():
        if name in values and isinstance(values[name], list) and "tuple" in str(f.type):
            values[name] = tuple(values[name])
    return cls(**values)


def dumps(doc: dict) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
