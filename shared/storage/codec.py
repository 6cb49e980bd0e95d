"""Records to and from plain documents (dicts of JSON types), shared by both backends."""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from typing import TypeVar

import orjson

from ..text import scrub_data

T = TypeVar("T")


@lru_cache(maxsize=64)  # one entry per record class
def _field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def to_doc(record) -> dict:
    """A shallow dict of the record: the values are JSON data already, and dataclasses.asdict
    would deep-copy every nested answer, the largest cost of ingesting a batch."""
    doc = {name: getattr(record, name) for name in _field_names(type(record))}
    for key, value in doc.items():
        if isinstance(value, tuple):
            doc[key] = list(value)
    return doc


@lru_cache(maxsize=64)  # one entry per record class
def _fields_of(cls) -> tuple[frozenset[str], tuple[str, ...]]:
    """The record's field names, and those declared as tuples (stored as JSON lists)."""
    fields = dataclasses.fields(cls)
    return (frozenset(f.name for f in fields),
            tuple(f.name for f in fields if "tuple" in str(f.type)))


def from_doc(cls: type[T], doc: dict) -> T:
    names, tuples = _fields_of(cls)
    values = {k: v for k, v in doc.items() if k in names}
    for name in tuples:
        if isinstance(values.get(name), list):
            values[name] = tuple(values[name])
    return cls(**values)


# orjson rather than the json module: encoding and decoding response documents is a large share
# of the ingest path's time, and orjson does both several times faster with the same compact text.
# What orjson refuses to write (integers beyond 64 bits) the json module still writes. Lone
# surrogates are refused at the boundary (shared/text.py); one that gets this far anyway is
# written as U+FFFD, never as an escape no strict reader can read back.
# A record (a dataclass) is written by orjson directly, without building the dict first.
def dumps(doc) -> str:
    try:
        return orjson.dumps(doc).decode()
    except TypeError:
        if dataclasses.is_dataclass(doc):
            doc = to_doc(doc)
        return json.dumps(scrub_data(doc), separators=(",", ":"))


def canonical_bytes(doc: dict) -> bytes:
    """The same content always gives the same bytes (keys sorted, compact): for hashing."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def attributes_key(attributes: dict | None) -> str:
    """An invitation's attributes as one text that is equal exactly when they are: the key
    of the invitation tally in every backend."""
    return canonical_bytes(attributes or {}).decode()


def loads(text: str | bytes):
    """A stored document. Rows written by older versions may hold escaped lone surrogates,
    which orjson refuses: those are read by the json module with U+FFFD in their place, so
    one such row can still be read, listed, exported and erased."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return scrub_data(json.loads(text))
