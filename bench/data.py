"""Valid answer sets built from an instrument definition, for the benchmarks and the tests
(tests/support/factories.py re-exports them): bench/ never imports tests/."""

from __future__ import annotations

import json
import random
from pathlib import Path

from shared.instruments import compile_validator

DATA = Path(__file__).resolve().parent.parent / "shared" / "instrument_data"


def builtin(name: str, version: int = 1) -> dict:
    return json.loads((DATA / f"{name}.v{version}.json").read_text())


def random_answer(question: dict, rng: random.Random):
    kind = question["type"]
    options = [o["value"] for o in question.get("options", [])]
    if kind == "single_choice":
        return rng.choice(options)
    if kind == "likert_5":
        return rng.randint(1, 5)
    if kind == "scale_0_10":
        return rng.randint(0, 10)
    if kind == "percent":
        return rng.randint(0, 100)
    if kind == "multiple_choice":
        low = max(1, question.get("min_choices", 1))
        return rng.sample(options, rng.randint(low, min(3, len(options))))
    if kind == "ranking":
        return rng.sample(options, min(question.get("max_choices", 3), len(options)))
    return "Make pricing easier to find."


def complete_answers(definition: dict, rng: random.Random | None = None, **overrides) -> dict:
    rng = rng or random.Random(1)
    answers = {q["id"]: random_answer(q, rng)
               for s in definition["sections"] for q in s["questions"]}
    for q in (q for s in definition["sections"] for q in s["questions"]):
        if q.get("options_from"):  # rank only what was chosen in the question it ranks from
            chosen = answers.get(q["options_from"]) or []
            answers[q["id"]] = rng.sample(chosen, min(q.get("max_choices", 3), len(chosen)))
    answers.update(overrides)
    # Leave out what the answers' display conditions hide: an answer to it would be refused.
    hidden = compile_validator(definition).hidden(answers)
    return {k: v for k, v in answers.items() if k not in hidden}
