"""What an instrument definition may contain, and the answer validators compiled from one.

The definition is checked once (marshmallow, when an organization posts an instrument); answers
are checked on every response by plain closures compiled once per instrument version, because
running marshmallow per answer costs about 15x more on the ingest path.
"""

from __future__ import annotations

import json
from pathlib import Path
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, NamedTuple

import marshmallow as ma
from marshmallow import ValidationError, validate, validates_schema

from .bounded_cache import BoundedCache
from .cells import ANSWERED, counter_name

QUESTION_TYPES = ("single_choice", "multiple_choice", "likert_5", "scale_0_10", "percent",
                  "ranking", "text")
CHOICE_TYPES = ("single_choice", "multiple_choice", "ranking")
ID = r"^[a-z][a-z0-9_]{0,63}$"
OPTION_VALUE = r"^[A-Za-z0-9_+\-]{1,64}$"
DEFAULT_TEXT_LENGTH = 1000
MAX_TEXT_LENGTH = 5000
# Size limits of a posted instrument. Every worker compiles and keeps the instruments it serves,
# so these bound a tenant's share of every process. The built-in instruments use at most 7
# sections, 43 questions, 16 questions in a section, 10 options and ~23 KB.
MAX_SECTIONS = 30
MAX_QUESTIONS_PER_SECTION = 100
MAX_QUESTIONS = 200
MAX_OPTIONS = 50
MAX_SCALE_LABELS = 11
MAX_DEFINITION_BYTES = 256 * 1024  # the whole definition as compact JSON


class OptionSchema(ma.Schema):
    value = ma.fields.String(required=True, validate=validate.Regexp(
        OPTION_VALUE, error="Use 1-64 letters, digits, '_', '+' or '-'."))
    label = ma.fields.String(required=True, validate=validate.Length(min=1, max=300))


class QuestionSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE  # room for presentation hints (help, job, predicts, ...)

    id = ma.fields.String(required=True, validate=validate.Regexp(
        ID, error="Use a lower-case letter, then up to 63 lower-case letters, digits or '_'."))
    type = ma.fields.String(required=True, validate=validate.OneOf(QUESTION_TYPES))
    text = ma.fields.String(required=True, validate=validate.Length(min=1, max=1000))
    required = ma.fields.Boolean(load_default=False)
    options = ma.fields.List(ma.fields.Nested(OptionSchema),
                             validate=validate.Length(max=MAX_OPTIONS))
    scale_labels = ma.fields.List(ma.fields.String(validate=validate.Length(max=100)),
                                  validate=validate.Length(max=MAX_SCALE_LABELS))
    max_length = ma.fields.Integer(strict=True, validate=validate.Range(1, MAX_TEXT_LENGTH))
    min_choices = ma.fields.Integer(strict=True, validate=validate.Range(0, 100))
    max_choices = ma.fields.Integer(strict=True, validate=validate.Range(1, 100))
    dimension = ma.fields.String(validate=validate.Length(max=20))
    segment = ma.fields.String(validate=validate.Regexp(ID))

    @validates_schema
    def check_options(self, data, **kwargs):
        kind = data.get("type")
        options = data.get("options")
        if kind in CHOICE_TYPES:
            if not options:
                raise ValidationError(f"A {kind} question needs at least one option.", "options")
            values = [o["value"] for o in options]
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValidationError(f"Option values repeat: {', '.join(repeated)}.", "options")
        elif options:
            raise ValidationError(f"A {kind} question takes no options.", "options")
        if kind != "text" and "max_length" in data:
            raise ValidationError("Only text questions take max_length.", "max_length")
        low, high = data.get("min_choices"), data.get("max_choices")
        if low is not None and high is not None and low > high:
            raise ValidationError("min_choices is more than max_choices.", "min_choices")
        if options and high is not None and high > len(options):
            raise ValidationError("max_choices is more than the number of options.",
                                  "max_choices")


class SectionSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    id = ma.fields.String(required=True, validate=validate.Regexp(ID))
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    intro = ma.fields.String(validate=validate.Length(max=2000))
    questions = ma.fields.List(ma.fields.Nested(QuestionSchema), required=True,
                               validate=validate.Length(min=1, max=MAX_QUESTIONS_PER_SECTION))


class InstrumentDefinitionSchema(ma.Schema):
    id = ma.fields.String(required=True, validate=validate.Regexp(
        r"^[a-z][a-z0-9-]{1,63}$", error="Use 2-64 lower-case letters, digits or '-'."),
        metadata={"example": "pulse-check"})
    version = ma.fields.Integer(strict=True, required=True, validate=validate.Range(1, 10_000))
    kind = ma.fields.String(required=True, validate=validate.OneOf(("customer", "vendor")))
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    intro = ma.fields.String(validate=validate.Length(max=2000))
    sections = ma.fields.List(ma.fields.Nested(SectionSchema), required=True,
                              validate=validate.Length(min=1, max=MAX_SECTIONS))

    @validates_schema
    def check_size(self, data, **kwargs):
        questions = sum(len(s.get("questions", [])) for s in data.get("sections") or [])
        if questions > MAX_QUESTIONS:
            raise ValidationError(f"{questions} questions; an instrument has at most "
                                  f"{MAX_QUESTIONS}.", "sections")
        size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_DEFINITION_BYTES:
            raise ValidationError(f"The definition is {size:,} bytes as JSON; the limit is "
                                  f"{MAX_DEFINITION_BYTES:,}.", "sections")

    @validates_schema
    def check_unique_ids(self, data, **kwargs):
        sections = data.get("sections") or []
        seen: set[str] = set()
        errors: dict = {}
        section_ids = [s["id"] for s in sections]
        for position, section in enumerate(sections):
            if section_ids.count(section["id"]) > 1:
                errors.setdefault(str(position), {})["id"] = [
                    f"Section id {section['id']!r} is used more than once."]
            for qpos, question in enumerate(section.get("questions", [])):
                if question["id"] in seen:
                    errors.setdefault(str(position), {}).setdefault("questions", {})[str(qpos)] = {
                        "id": [f"Question id {question['id']!r} is used more than once."]}
                seen.add(question["id"])
        if errors:
            raise ValidationError({"sections": errors})


def questions_of(definition: dict) -> dict[str, dict]:
    return {q["id"]: q for s in definition["sections"] for q in s["questions"]}


# -- compiled answer validation ------------------------------------------------------------

Check = Callable[[object], tuple[object, tuple[str, ...]]]
# A compiled question check returns the clean value and the counters of shared/cells.py that the
# answer adds one to, or raises ValueError(reason). Validating and counting in one pass over
# precomputed tables is what lets ingestion keep up with 10,000 responses a second.

MAX_REMEMBERED_CHOICES = 4096  # per question: every subset of 12 options
NUMBER_RANGES = {"likert_5": (1, 5), "scale_0_10": (0, 10), "percent": (0, 100)}


def value_table(q: dict) -> dict | None:
    """For a question answered by one value from a fixed set (a scale, a percent, a single
    choice): each allowed value -> (the value, the counters it adds one to). None otherwise."""
    qid, kind = q["id"], q["type"]
    if kind in NUMBER_RANGES:
        low, high = NUMBER_RANGES[kind]
        values = range(low, high + 1)
    elif kind == "single_choice":
        values = [o["value"] for o in q["options"]]
    else:
        return None
    return {v: (v, (qid + ANSWERED, counter_name(qid, v))) for v in values}


def _shown_options(q: dict) -> str:
    allowed = [o["value"] for o in q["options"]]
    return ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")


def _compile_question(q: dict) -> Check:
    qid, kind = q["id"], q["type"]
    if kind in NUMBER_RANGES or kind == "single_choice":
        # Allowed values never get here: check() takes them from the value table. What does
        # get here is refused, with the reason a respondent can act on.
        if kind in NUMBER_RANGES:
            reason = "Must be a whole number from {} to {}.".format(*NUMBER_RANGES[kind])
        else:
            reason = f"Must be one of: {_shown_options(q)}."

        def refuse(value):
            raise ValueError(reason)
        return refuse

    if kind == "text":
        limit = q.get("max_length", DEFAULT_TEXT_LENGTH)

        def check_text(value):
            if not isinstance(value, str):
                raise ValueError("Must be text.")
            value = value.strip()
            if len(value) > limit:
                raise ValueError(f"Must be at most {limit} characters (got {len(value)}).")
            return value or None, ()  # free text is never counted
        return check_text

    allowed = [o["value"] for o in q["options"]]
    shown = _shown_options(q)
    answered = qid + ANSWERED
    low = q.get("min_choices", 0)
    high = q.get("max_choices", len(allowed))
    order = {o: position for position, o in enumerate(allowed)}
    options = order.keys()
    if kind == "multiple_choice":
        option_counters = {o: counter_name(qid, o) for o in allowed}
    else:
        # Ranks stop at max_choices: a top 3 of 50 options names 150 counters, not 2,500.
        rank_counters = {(o, rank): counter_name(qid, o, rank)
                         for o in allowed for rank in range(1, high + 1)}

    # The same few choices recur across thousands of responses: remember the valid ones.
    seen: BoundedCache[tuple[tuple, tuple[str, ...]]] = BoundedCache(MAX_REMEMBERED_CHOICES)

    def check_many(value):
        if type(value) is list:
            if not value:
                return None, ()  # an empty list: no answer
            try:
                known = seen.get(tuple(value))
            except TypeError:  # an unhashable element: invalid, explained below
                known = None
            if known is not None:
                return list(known[0]), known[1]
        try:  # a valid choice takes a few set operations
            valid = (type(value) is list and low <= len(value) <= high
                     and len(chosen := set(value)) == len(value) and chosen <= options)
        except TypeError:
            valid = False
        if not valid:
            _explain_many(value)  # raises the reason
        given = tuple(value)
        if kind == "multiple_choice":
            value = sorted(value, key=order.__getitem__)  # one canonical order: one hash
            counted = (answered, *map(option_counters.__getitem__, value))
        else:
            counted = (answered, *[rank_counters[v, rank]
                                   for rank, v in enumerate(value, start=1)])
        seen.put(given, (tuple(value), counted))
        return value, counted

    def _explain_many(value):
        if not isinstance(value, list) or not all(type(v) is str for v in value):
            raise ValueError("Must be a list of option values.")
        unknown = [v for v in value if v not in order]
        if unknown:
            raise ValueError(f"Not an option here: {', '.join(unknown[:5])}. Options: {shown}.")
        if len(set(value)) != len(value):
            raise ValueError("An option is listed more than once.")
        if value and len(value) < low:
            raise ValueError(f"Choose at least {low}.")
        if len(value) > high:
            raise ValueError(f"Choose at most {high}.")
        raise ValueError(f"Must be a list of option values. Options: {shown}.")
    return check_many


class Checked(NamedTuple):
    answers: dict  # the clean answers (text stripped, choices in canonical order, blanks out)
    counters: tuple[str, ...]  # what a complete response adds one to in its cell
    errors: list[dict]  # {field, reason}; empty when valid


@dataclass(frozen=True)
class AnswerValidator:
    questions: dict[str, dict]
    checks: dict[str, Check]
    tables: dict[str, dict]  # see value_table: the fast path of check()
    required: tuple[str, ...]  # in the instrument's order, for the order of the errors

    @cached_property
    def required_set(self) -> frozenset[str]:
        return frozenset(self.required)

    def check(self, answers: dict, *, complete: bool,
              skip_required: frozenset[str] = frozenset()) -> Checked:
        """Clean, count and report every bad answer in one pass.

        Required questions are enforced only on a complete response; skip_required names the
        ones answered elsewhere (profile questions whose values came with the invitation).
        """
        clean: dict = {}
        counters = ["n"]
        errors: list[dict] = []
        checks, tables = self.checks, self.tables
        for qid, value in answers.items():
            table = tables.get(qid)
            if table is not None:  # most answers: one dict lookup validates and counts them
                try:
                    found = table.get(value)
                except TypeError:  # unhashable (a list, an object): not an allowed value
                    found = None
                # Comparing classes keeps true (== 1) and 2.0 (== 2) out of number questions,
                # as JSON's true and false are not numbers here.
                if found is not None and value.__class__ is found[0].__class__:
                    clean[qid] = value
                    counters += found[1]
                    continue
            check = checks.get(qid)
            if check is None:
                shown_id = qid if len(qid) <= 64 else qid[:64] + "..."
                errors.append({"field": f"answers.{shown_id}", "reason": "Unknown question."})
                continue
            if value is None:
                continue
            try:
                value, counted = check(value)
            except ValueError as exc:
                errors.append({"field": f"answers.{qid}", "reason": str(exc)})
                continue
            if value is not None:
                clean[qid] = value
                counters += counted
        if complete and not self.required_set.issubset(clean.keys()):
            for qid in self.required:
                if qid not in clean and qid not in skip_required and not any(
                        e["field"] == f"answers.{qid}" for e in errors):
                    errors.append({"field": f"answers.{qid}", "reason": "An answer is required."})
        return Checked(clean, tuple(counters), errors)

    def validate(self, answers: dict, *, complete: bool,
                 skip_required: frozenset[str] = frozenset()) -> tuple[dict, list[dict]]:
        """Clean answers and a list of {field, reason} errors (empty when valid)."""
        checked = self.check(answers, complete=complete, skip_required=skip_required)
        return checked.answers, checked.errors


def compile_validator(definition: dict) -> AnswerValidator:
    questions = questions_of(definition)
    return AnswerValidator(
        questions=questions,
        checks={qid: _compile_question(q) for qid, q in questions.items()},
        tables={qid: table for qid, q in questions.items() if (table := value_table(q))},
        required=tuple(qid for qid, q in questions.items() if q.get("required")),
    )


# A compiled validator of the largest instrument allowed is a few MB at most; 256 of them
# cover the instruments a worker sees in practice.
_validators: BoundedCache[AnswerValidator] = BoundedCache(256)


def validator_for(instrument) -> AnswerValidator:
    """The compiled validator of an instrument version (compiled on first use, then cached:
    versions are immutable, so the cache never goes stale)."""
    return _validators.get_or_make((instrument.org_id, instrument.id, instrument.version),
                                   lambda: compile_validator(instrument.definition))


def segment_questions(definition: dict) -> dict[str, dict]:
    """Segment name -> the profile question that asks it (e.g. size -> company_size)."""
    return {q["segment"]: q for q in questions_of(definition).values() if q.get("segment")}


def segment_names(customer: dict, vendor: dict, defined: list[str]) -> dict[str, list[str]]:
    """Which of a survey's segment attributes key the cells of each kind of response: vendor
    staff by what the vendor instrument asks (role); customers by everything else."""
    vendor_asked = set(segment_questions(vendor))
    vendor_only = vendor_asked - set(segment_questions(customer))
    return {"customer": sorted(set(defined) - vendor_only), "vendor": sorted(vendor_asked)}


# -- the instruments that ship with the product --------------------------------------------

BUILTIN_DATA = Path(__file__).parent / "instrument_data"


def builtin_instruments():
    from .storage import Instrument

    out = []
    for path in sorted(BUILTIN_DATA.glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        out.append(Instrument(id=definition["id"], version=definition["version"],
                              kind=definition["kind"], title=definition["title"],
                              definition=definition, org_id=None))
    return out


def install_builtin(store) -> list:
    """Store every shipped instrument version not stored yet (idempotent; any service may run
    it on start, since the data is the same everywhere). Returns those added."""
    from .storage import AlreadyExists

    added = []
    for instrument in builtin_instruments():
        try:
            added.append(store.instruments.add(instrument))
        except AlreadyExists:
            pass
    return added
