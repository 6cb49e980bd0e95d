"""What text the services accept at their boundary, and how stored text is made safe to send.

Every string that arrives (JSON keys and values, query parameters, CSV cells) must be Unicode
scalar values (no lone surrogates: what a client sends when it cuts an emoji in half) without
control characters; free text may keep CR, LF and TAB. Single-line fields (names, ids) refuse
those too, and the bidirectional-override characters that make an id display as another.
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma

# C0 and C1 controls and DEL but TAB, LF, CR; and the surrogate code points.
_BAD_FREE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# orjson, which parses and writes every document, nests at most this deep when writing.
MAX_JSON_DEPTH = 254
_INF = float("inf")


def text_problem(value: str, single_line: bool = False) -> str | None:
    """Why this text is refused, or None."""
    found = (_BAD_LINE if single_line else _BAD_FREE).search(value)
    if found is None:
        return None
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return "Contains a lone surrogate (U+%04X): not valid Unicode text." % ord(char)
    if char in "\r\n\t":
        return "Must be a single line (no line breaks or tabs)."
    if "\u202a" <= char <= "\u2069":
        return "Contains a bidirectional control character (U+%04X)." % ord(char)
    return "Contains a control character (U+%04X)." % ord(char)


def data_problems(data: Any, *, max_depth: int = MAX_JSON_DEPTH) -> list[dict]:
    """Every bad string (keys too), non-finite or over-64-bit number, and nesting beyond
    max_depth in a parsed JSON document, as [{"field": "a.0.b", "reason": ...}].
    Iterative, so a deep document cannot exhaust the stack."""
    problems: list[dict] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack and len(problems) < 50:
        value, path, depth = stack.pop()
        kind = type(value)
        if kind is str:
            reason = text_problem(value)
            if reason:
                problems.append({"field": path or None, "reason": reason})
        elif kind is dict or kind is list:
            if depth > max_depth:
                problems.append({"field": path or None,
                                 "reason": f"Nested deeper than {max_depth} levels."})
                continue
            pairs = value.items() if kind is dict else enumerate(value)
            for key, item in pairs:
                child = f"{path}.{key}" if path else str(key)
                if kind is dict:
                    reason = text_problem(key)
                    if reason:
                        problems.append({"field": child, "reason": "Key: " + reason})
                        continue
                stack.append((item, child, depth + 1))
        elif kind is float and (value != value or value in (_INF, -_INF)):
            problems.append({"field": path or None, "reason": "Numbers must be finite."})
        elif kind is int and not -2**63 <= value < 2**64:
            problems.append({"field": path or None, "reason": "The number is too large."})
    problems.reverse()  # the stack visits the document back to front
    return problems


def scrub(text: str) -> str:
    """Stored text made encodable: lone surrogates (left by older versions) become U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def scrub_data(data: Any) -> Any:
    if isinstance(data, str):
        return scrub(data)
    if isinstance(data, dict):
        return {scrub_data(k): scrub_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [scrub_data(v) for v in data]
    return data


def encode_utf8(text: str) -> bytes:
    """UTF-8 bytes of text that may hold lone surrogates from an old row: never raises."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return scrub(text).encode()


_EMAIL = ma.validate.Email()


def email_problem(address: str) -> str | None:
    """Why an e-mail address is refused, or None. Only ASCII addresses: a mail server without
    SMTPUTF8 refuses the others at send time; an international domain works in its xn-- form."""
    reason = text_problem(address, single_line=True)
    if reason:
        return reason
    if not address.isascii():
        return "Use the ASCII form of the address (an international domain as xn--...)."
    if len(address) > 254:
        return "Longer than 254 characters."
    try:
        _EMAIL(address)
    except ma.ValidationError:
        return "Not a valid e-mail address."
    return None


class EmailAddress(ma.fields.String):
    """An e-mail address that mail servers take (see email_problem)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metadata.setdefault("format", "email")

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        reason = email_problem(text)
        if reason:
            raise ma.ValidationError(reason)
        return text


class SingleLine(ma.fields.String):
    """A name or id: one line of printable text (see text_problem)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        reason = text_problem(text, single_line=True)
        if reason:
            raise ma.ValidationError(reason)
        return text


class FreeText(ma.fields.String):
    """Text that may span lines (CR, LF and TAB allowed), nothing else invisible."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        reason = text_problem(text)
        if reason:
            raise ma.ValidationError(reason)
        return text
