"""What an instrument definition may contain, and the answer validators compiled from one.

The definition is checked once (marshmallow, when an organization posts an instrument); answers
are checked on every response by plain closures compiled once per instrument version, because
running marshmallow per answer costs about 15x more on the ingest path.

Display conditions (`show_if` on a question or a section) show it only when earlier answers say
so. A condition is one of

    {"question": "<earlier question id>", "in": [values]}      the answer is one of them (for a
                                                               multiple choice: any chosen is)
    {"question": "...", "not_in": [values]}                    answered, and none of them
    {"question": "...", "min": 4, "max": 10}                   a number within the bounds (for
                                                               a choice list: how many chosen)
    {"question": "...", "answered": true | false}
    {"all": [conditions]}, {"any": [conditions]}

A question that is unanswered, or itself hidden, meets no condition but {"answered": false}.
Conditions are compiled into the validator, so the web form, the API, imports and scoring all
agree on what was asked: a hidden question is never required, and an answer to one is refused.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, NamedTuple

import marshmallow as ma
from marshmallow import ValidationError, validate, validates_schema

from .bounded_cache import BoundedCache
from .cells import ANSWERED, counter_name
from .instrument_languages import (LANGUAGE, default_language, offered_languages,
                                   translation_errors)

from .cells import NOT_SURE  # the answer of a number question that offers "Not sure"

log = logging.getLogger(__name__)
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
MAX_DEFINITION_BYTES = 256 * 1024  # the whole definition as compact JSON, translations aside
MAX_LANGUAGES = 8  # each translation is about as large as the texts it translates


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
    show_if = ma.fields.Raw(metadata={"description": "Display condition on earlier answers "
                                                     "(see the instruments guide)"})
    options_from = ma.fields.String(validate=validate.Regexp(ID), metadata={
        "description": "A ranking offers only the options chosen in this earlier multiple "
                       "choice question"})
    not_sure = ma.fields.Boolean(metadata={
        "description": "A number question also takes the answer \"not_sure\""})

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
        if data.get("not_sure") and kind not in NUMBER_RANGES:
            raise ValidationError("Only number questions (likert_5, scale_0_10, percent) take "
                                  "not_sure.", "not_sure")
        if "options_from" in data and kind != "ranking":
            raise ValidationError("Only ranking questions take options_from.", "options_from")


class SectionSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    id = ma.fields.String(required=True, validate=validate.Regexp(ID))
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    intro = ma.fields.String(validate=validate.Length(max=2000))
    questions = ma.fields.List(ma.fields.Nested(QuestionSchema), required=True,
                               validate=validate.Length(min=1, max=MAX_QUESTIONS_PER_SECTION))
    show_if = ma.fields.Raw(metadata={"description": "Display condition for the whole section"})


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
    default_language = ma.fields.String(validate=validate.Regexp(
        LANGUAGE, error="Use a language code such as en, de or pt-BR."), metadata={
        "description": "The language of the definition's own texts (en unless given)"})
    languages = ma.fields.List(ma.fields.String(validate=validate.Regexp(
        LANGUAGE, error="Use a language code such as en, de or pt-BR.")),
        validate=validate.Length(min=1, max=MAX_LANGUAGES), metadata={
        "description": "Every language respondents may answer in, the default one included",
        "example": ["en", "de", "fr"]})
    translations = ma.fields.Dict(
        keys=ma.fields.String(validate=validate.Regexp(LANGUAGE)),
        values=ma.fields.Dict(keys=ma.fields.String(validate=validate.Length(max=200)),
                              values=ma.fields.String(validate=validate.Length(max=2000))),
        metadata={"description": "Language -> {text key: text}; see the instruments guide "
                                 "in POST /v1/instruments for the keys",
                  "example": {"de": {"title": "Wie Sie einkaufen"}}})

    @validates_schema
    def check_translations(self, data, **kwargs):
        if data.get("sections") is None:
            return
        errors = translation_errors(data)
        if errors:
            raise ValidationError(errors)

    @validates_schema
    def check_size(self, data, **kwargs):
        questions = sum(len(s.get("questions", [])) for s in data.get("sections") or [])
        if questions > MAX_QUESTIONS:
            raise ValidationError(f"{questions} questions; an instrument has at most "
                                  f"{MAX_QUESTIONS}.", "sections")
        untranslated = {k: v for k, v in data.items() if k != "translations"}
        size = len(json.dumps(untranslated, separators=(",", ":"), ensure_ascii=False).encode())
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

    @validates_schema
    def check_conditions(self, data, **kwargs):
        """Conditions and options_from may name only questions asked earlier, and only values
        those questions can take (a condition on a later answer could never be shown right)."""
        earlier: dict[str, dict] = {}
        errors: dict = {}
        for position, section in enumerate(data.get("sections") or []):
            if "show_if" in section:
                for path, reason in condition_errors(section["show_if"], earlier):
                    errors.setdefault(str(position), {})[_join("show_if", path)] = [reason]
            for qpos, question in enumerate(section.get("questions", [])):
                where = errors.setdefault(str(position), {})
                found: dict = {}
                if "show_if" in question:
                    for path, reason in condition_errors(question["show_if"], earlier):
                        found[_join("show_if", path)] = [reason]
                source = question.get("options_from")
                if source is not None:
                    reason = _options_from_error(question, earlier.get(source), source)
                    if reason:
                        found["options_from"] = [reason]
                if found:
                    where.setdefault("questions", {})[str(qpos)] = found
                earlier[question["id"]] = question
            if not errors.get(str(position)):
                errors.pop(str(position), None)
        if errors:
            raise ValidationError({"sections": errors})


def _join(*parts) -> str:
    return ".".join(str(p) for p in parts if p != "")


def _options_from_error(question: dict, source: dict | None, source_id: str) -> str | None:
    if source is None:
        return f"{source_id!r} is not a question asked before this one."
    if source["type"] != "multiple_choice":
        return f"{source_id!r} is a {source['type']} question; options_from needs a multiple " \
               "choice one."
    mine = {o["value"] for o in question.get("options") or []}
    theirs = {o["value"] for o in source.get("options") or []}
    if mine - theirs:
        return f"Options not offered by {source_id!r}: {', '.join(sorted(mine - theirs))}."
    return None


CONDITION_KEYS = ("in", "not_in", "min", "max", "answered")


MAX_CONDITION_DEPTH = 5


def condition_errors(condition, earlier: dict[str, dict], path: str = "",
                     depth: int = 0) -> list[tuple]:
    """(path, reason) for everything wrong with a condition; earlier holds the questions
    asked before the one it guards."""
    if depth > MAX_CONDITION_DEPTH:
        return [(path, f"Nest all / any at most {MAX_CONDITION_DEPTH} deep.")]
    if not isinstance(condition, dict) or not condition:
        return [(path, "A condition is an object such as {\"question\": \"q\", \"in\": [1]}.")]
    for joiner in ("all", "any"):
        if joiner in condition:
            parts = condition[joiner]
            if len(condition) != 1 or not isinstance(parts, list) or not parts:
                return [(path, f"{joiner!r} takes a non-empty list of conditions, alone.")]
            found = []
            for i, part in enumerate(parts):
                found += condition_errors(part, earlier, _join(path, joiner, i), depth + 1)
            return found
    qid = condition.get("question")
    unknown = sorted(set(condition) - {"question", *CONDITION_KEYS})
    if unknown:
        return [(_join(path, unknown[0]), f"Unknown key; use question with one of "
                                          f"{', '.join(CONDITION_KEYS)}, or all / any.")]
    if not isinstance(qid, str):
        return [(_join(path, "question"), "Name the earlier question the condition reads.")]
    question = earlier.get(qid)
    if question is None:
        return [(_join(path, "question"),
                 f"{qid!r} is not a question asked before this one.")]
    tests = [k for k in CONDITION_KEYS if k in condition]
    if not tests or (len(tests) > 1 and set(tests) != {"min", "max"}):
        return [(path, "Give one of in, not_in or answered, or min and/or max.")]
    kind = question["type"]
    if tests[0] == "answered":
        if not isinstance(condition["answered"], bool):
            return [(_join(path, "answered"), "Must be true or false.")]
        return []
    if kind == "text":
        return [(_join(path, tests[0]), "A text answer can only be tested with answered.")]
    if tests[0] in ("in", "not_in"):
        values = condition[tests[0]]
        if not isinstance(values, list) or not values:
            return [(_join(path, tests[0]), "Must be a non-empty list of values.")]
        allowed = _possible_values(question)
        bad = [v for v in values if not any(v == a and type(v) is type(a) for a in allowed)]
        if bad:
            return [(_join(path, tests[0]), f"Not a possible answer to {qid!r}: "
                                            f"{', '.join(map(str, bad[:5]))}.")]
        return []
    if kind == "single_choice":
        return [(_join(path, tests[0]), "A single choice is tested with in or not_in.")]
    low, high = _count_range(question)
    found = []
    for key in ("min", "max"):
        if key in condition:
            value = condition[key]
            if type(value) is not int or not low <= value <= high:
                found.append((_join(path, key), f"Must be a whole number from {low} to {high}."))
    if not found and condition.get("min", low) > condition.get("max", high):
        found.append((_join(path, "min"), "min is more than max."))
    return found


def _possible_values(question: dict) -> list:
    if question["type"] in NUMBER_RANGES:
        low, high = NUMBER_RANGES[question["type"]]
        return list(range(low, high + 1)) + ([NOT_SURE] if question.get("not_sure") else [])
    return [o["value"] for o in question.get("options") or []]


def _count_range(question: dict) -> tuple[int, int]:
    """What min and max compare: the number itself, or how many options were chosen."""
    if question["type"] in NUMBER_RANGES:
        return NUMBER_RANGES[question["type"]]
    return 0, len(question.get("options") or [])


Condition = Callable[[dict], bool]


def compile_condition(condition: dict) -> Condition:
    """A predicate over the answers given so far (already validated: a condition is checked on
    creation, and answers are checked by the same validator)."""
    if "all" in condition:
        parts = [compile_condition(c) for c in condition["all"]]
        return lambda answers: all(p(answers) for p in parts)
    if "any" in condition:
        parts = [compile_condition(c) for c in condition["any"]]
        return lambda answers: any(p(answers) for p in parts)
    qid = condition["question"]
    if "answered" in condition:
        wanted = condition["answered"]
        return lambda answers: (answers.get(qid) not in (None, "", [])) == wanted

    def given(answers):
        value = answers.get(qid)
        return None if value in (None, "", []) else value

    if "in" in condition or "not_in" in condition:
        values = condition.get("in", condition.get("not_in"))
        keys = {(type(v), v) for v in values}
        inside = "in" in condition

        def member(value) -> bool:
            if isinstance(value, list):
                return any((type(v), v) in keys for v in value if isinstance(v, (str, int)))
            return isinstance(value, (str, int)) and (type(value), value) in keys

        def test(answers):
            value = given(answers)
            return value is not None and member(value) == inside
        return test
    low, high = condition.get("min"), condition.get("max")

    def within(answers):
        value = given(answers)
        if isinstance(value, list):
            value = len(value)
        if type(value) is not int:
            return False
        return (low is None or value >= low) and (high is None or value <= high)
    return within


def describe_condition(condition: dict) -> str:
    """The condition in words, for the reason an answer to a hidden question is refused."""
    if "all" in condition:
        return " and ".join(describe_condition(c) for c in condition["all"])
    if "any" in condition:
        return "(" + " or ".join(describe_condition(c) for c in condition["any"]) + ")"
    qid = condition["question"]
    if "answered" in condition:
        return f"{qid} is {'answered' if condition['answered'] else 'not answered'}"
    if "in" in condition:
        return f"{qid} is one of {', '.join(map(str, condition['in']))}"
    if "not_in" in condition:
        values = condition["not_in"]
        return f"{qid} is not {values[0]}" if len(values) == 1 else \
            f"{qid} is none of {', '.join(map(str, values))}"
    bounds = []
    if "min" in condition:
        bounds.append(f"at least {condition['min']}")
    if "max" in condition:
        bounds.append(f"at most {condition['max']}")
    return f"{qid} is {' and '.join(bounds)}"


def conditions_of(definition: dict) -> dict[str, dict]:
    """Question id -> its effective condition (its section's and its own, both must hold), for
    the questions that have one, in the instrument's order."""
    out: dict[str, dict] = {}
    for section in definition["sections"]:
        for q in section["questions"]:
            parts = [c for c in (section.get("show_if"), q.get("show_if")) if c]
            if parts:
                out[q["id"]] = parts[0] if len(parts) == 1 else {"all": parts}
    return out


def questions_of(definition: dict) -> dict[str, dict]:
    return {q["id"]: q for s in definition["sections"] for q in s["questions"]}


# -- compiled answer validation ------------------------------------------------------------

Check = Callable[[object], tuple[object, tuple[str, ...]]]
# A compiled question check returns the clean value and the counters of shared/cells.py that the
# answer adds one to, or raises ValueError(reason). Validating and counting in one pass over
# precomputed tables is what lets ingestion keep up with 10,000 responses a second.

NOT_SURE_COUNTER = "#not_sure"
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
    table = {v: (v, (qid + ANSWERED, counter_name(qid, v))) for v in values}
    if q.get("not_sure"):
        # Not a number, so not #answered: the scores read the numbers given.
        table[NOT_SURE] = (NOT_SURE, (qid + NOT_SURE_COUNTER,))
    return table


def _shown_options(q: dict) -> str:
    allowed = [o["value"] for o in q["options"]]
    return ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")


def _compile_question(q: dict) -> Check:
    qid, kind = q["id"], q["type"]
    if kind in NUMBER_RANGES or kind == "single_choice":
        # Allowed values never get here: check() takes them from the value table. What does
        # get here is refused, with the reason a respondent can act on.
        if kind in NUMBER_RANGES:
            reason = "Must be a whole number from {} to {}".format(*NUMBER_RANGES[kind]) + (
                f', or "{NOT_SURE}".' if q.get("not_sure") else ".")
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
    unanswered: tuple[str, ...] = ()  # required questions left unanswered (each has an error)


@dataclass(frozen=True)
class AnswerValidator:
    questions: dict[str, dict]
    checks: dict[str, Check]
    tables: dict[str, dict]  # see value_table: the fast path of check()
    required: tuple[str, ...]  # in the instrument's order, for the order of the errors
    conditions: dict[str, tuple[Condition, str]] = None  # qid -> (predicate, in words)
    ranked_from: dict[str, str] = None  # ranking qid -> the multiple choice it ranks from

    def hidden(self, answers: dict) -> frozenset[str]:
        """The questions these answers leave unasked, in one pass in the instrument's order
        (a question hidden earlier counts as unanswered for the conditions after it)."""
        if not self.conditions:
            return frozenset()
        hidden: set[str] = set()
        seen = answers
        for qid, (shown, _) in self.conditions.items():
            if not shown(seen):
                hidden.add(qid)
                if qid in seen:
                    seen = {k: v for k, v in seen.items() if k not in hidden}
        return frozenset(hidden)

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
        hidden = self.hidden(answers) if self.conditions else frozenset()
        if hidden:
            asked = {}
            for qid, value in answers.items():
                if qid not in hidden or value in (None, "", []):
                    asked[qid] = value
                else:
                    errors.append({"field": f"answers.{qid}", "reason": (
                        "Not asked with these answers: shown only when "
                        f"{self.conditions[qid][1]}.")})
            answers = asked
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
        if self.ranked_from:
            for qid, source in self.ranked_from.items():
                ranked = clean.get(qid)
                if ranked:
                    outside = [v for v in ranked if v not in (clean.get(source) or ())]
                    if outside:
                        errors.append({"field": f"answers.{qid}", "reason": (
                            f"Only options chosen in {source} can be ranked; not chosen: "
                            f"{', '.join(outside)}.")})
        unanswered = []
        if complete and not self.required_set.issubset(clean.keys()):
            for qid in self.required:
                if qid not in clean and qid not in skip_required and qid not in hidden and not any(
                        e["field"] == f"answers.{qid}" for e in errors):
                    errors.append({"field": f"answers.{qid}", "reason": "An answer is required."})
                    unanswered.append(qid)
        return Checked(clean, tuple(counters), errors, tuple(unanswered))

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
        conditions={qid: (compile_condition(c), describe_condition(c))
                    for qid, c in conditions_of(definition).items()},
        ranked_from={qid: q["options_from"] for qid, q in questions.items()
                     if q.get("options_from")},
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


def segment_options(customer: dict, vendor: dict) -> dict[str, list[str]]:
    """Segment name -> its allowed values, for the segments a profile question asks (the
    question's options; the customer instrument's question where both ask one)."""
    asked = {**segment_questions(vendor), **segment_questions(customer)}
    return {name: [o["value"] for o in q["options"]] for name, q in asked.items()}


def segment_names(customer: dict, vendor: dict, defined: list[str]) -> dict[str, list[str]]:
    """Which of a survey's segment attributes key the cells of each kind of response: vendor
    staff by what the vendor instrument asks (role); customers by everything else."""
    vendor_asked = set(segment_questions(vendor))
    vendor_only = vendor_asked - set(segment_questions(customer))
    return {"customer": sorted(set(defined) - vendor_only), "vendor": sorted(vendor_asked)}


# -- the instruments that ship with the product --------------------------------------------

BUILTIN_DATA = Path(__file__).parent / "instrument_data"


def builtin_definition(path: Path) -> dict:
    """A shipped definition with its translations, which live beside it in
    translations/<id>.v<version>.<language>.json (one flat file of keys per language keeps
    both the questionnaire and each translation readable)."""
    definition = json.loads(path.read_text(encoding="utf-8"))
    found = sorted((path.parent / "translations").glob(f"{path.stem}.*.json"))
    if found:
        translations = {p.stem.rsplit(".", 1)[1]: json.loads(p.read_text(encoding="utf-8"))
                        for p in found}
        definition["languages"] = [default_language(definition), *translations]
        definition["translations"] = translations
    return definition


def builtin_instruments():
    from .storage import Instrument

    out = []
    for path in sorted(BUILTIN_DATA.glob("*.json")):
        definition = builtin_definition(path)
        out.append(Instrument(id=definition["id"], version=definition["version"],
                              kind=definition["kind"], title=definition["title"],
                              definition=definition, org_id=None))
    return out


def install_builtin(store) -> list:
    """Store every shipped instrument version not stored yet (idempotent; any service may run
    it on start, since the data is the same everywhere). Returns those added.

    A built-in version stored before it shipped translations gets them added when everything
    else is the same as shipped (translations change no answer code, so no score); one that
    differs otherwise, and every organization's own instrument, is left as it is."""
    from .storage import AlreadyExists

    added = []
    for instrument in builtin_instruments():
        try:
            added.append(store.instruments.add(instrument))
        except AlreadyExists:
            _add_shipped_translations(store, instrument)
    return added


def _without_translations(definition: dict) -> dict:
    return {k: v for k, v in definition.items() if k not in ("languages", "translations")}


def _add_shipped_translations(store, shipped) -> bool:
    stored = store.instruments.get(None, shipped.id, shipped.version)
    if stored is None or stored.org_id is not None or stored.definition == shipped.definition:
        return False
    if _without_translations(stored.definition) != _without_translations(shipped.definition):
        log.warning("built-in instrument differs from the shipped one; translations not added",
                    extra={"instrument": shipped.id, "version": shipped.version})
        return False
    replaced = store.instruments.replace_builtin_definition(shipped.id, shipped.version,
                                                            shipped.definition)
    if replaced:
        log.info("translations added to a stored built-in instrument",
                 extra={"instrument": shipped.id, "version": shipped.version,
                        "languages": offered_languages(shipped.definition)})
    return replaced
