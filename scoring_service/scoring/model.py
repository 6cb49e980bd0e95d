"""The scoring model: a versioned data file (dimensions, item mappings, weights, thresholds,
bands, suppression limits, recommendation rules), validated when loaded."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import marshmallow as ma
from marshmallow import validate

MODELS = Path(__file__).resolve().parent.parent / "models"
DEFAULT_MODEL = "buyer-alignment.v1.json"
ALIGNMENT_DIMENSIONS = ("A1", "A2", "A3", "A4", "A5", "A6", "A7")
PILLARS = ("R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8")


class ConditionSchema(ma.Schema):
    metric = ma.fields.String()
    op = ma.fields.String(validate=validate.OneOf(("<", "<=", ">", ">=")))
    value = ma.fields.Float()
    segment = ma.fields.String()
    equals = ma.fields.String()


class RuleSchema(ma.Schema):
    id = ma.fields.String(required=True)
    priority = ma.fields.Integer(required=True, validate=validate.Range(1, 10))
    when = ma.fields.List(ma.fields.Nested(ConditionSchema), required=True,
                          validate=validate.Length(min=1))
    title = ma.fields.String(required=True)
    action = ma.fields.String(required=True)
    evidence = ma.fields.String(required=True)
    scope = ma.fields.String(validate=validate.OneOf(("overall", "segments")), metadata={
        "description": "overall: vendor-wide findings, fired once; segments: never overall"})


class ModelSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    id = ma.fields.String(required=True)
    version = ma.fields.String(required=True)
    bands = ma.fields.List(ma.fields.Dict(), required=True, validate=validate.Length(min=2))
    suppression = ma.fields.Dict(required=True)
    alignment = ma.fields.Dict(required=True)
    readiness = ma.fields.Dict(required=True)
    recommendations = ma.fields.List(ma.fields.Nested(RuleSchema), required=True)

    @ma.validates_schema
    def complete(self, data, **kwargs):
        weights = data["alignment"].get("weights", {})
        if set(weights) != set(ALIGNMENT_DIMENSIONS):
            raise ma.ValidationError(f"alignment.weights must name {ALIGNMENT_DIMENSIONS}")
        missing = [d for d in ALIGNMENT_DIMENSIONS if d not in data["alignment"]]
        if missing:
            raise ma.ValidationError(f"alignment is missing {missing}")
        if set(data["readiness"].get("pillars", {})) != set(PILLARS):
            raise ma.ValidationError(f"readiness.pillars must name {PILLARS}")
        for key in ("hide_below", "insufficient_below", "low_confidence_below"):
            if key not in data["suppression"]:
                raise ma.ValidationError(f"suppression.{key} is missing")
        findings = data.get("findings")
        if not isinstance(findings, dict):
            raise ma.ValidationError("findings (depth, limits, sentences) is missing")
        for key in ("depth", "max_depth", "max_segments", "max_cells", "max_listed",
                    "max_findings", "composite_importance", "metric_families", "sentences",
                    "no_findings", "too_few"):
            if key not in findings:
                raise ma.ValidationError(f"findings.{key} is missing")
        if not 1 <= findings["depth"] <= findings["max_depth"] <= 4:
            raise ma.ValidationError("findings.depth must be 1..max_depth, and max_depth <= 4: "
                                     "every extra depth multiplies the comparisons")
        missing = [d for d in ("alignment",) + ALIGNMENT_DIMENSIONS
                   if d not in findings["sentences"]]
        if missing:
            raise ma.ValidationError(f"findings.sentences is missing {missing}")


@lru_cache(maxsize=8)
def load_model(name: str = DEFAULT_MODEL) -> dict:
    """The model file, validated (a broken model stops the service at start-up)."""
    data = json.loads((MODELS / name).read_text(encoding="utf-8"))
    ModelSchema().load(data)
    return data


def model_for(customer, name: str = DEFAULT_MODEL) -> dict:
    """The model as it reads one version of the customer instrument: the version's entry under
    instruments.customer_versions merged over the model (e.g. version 2 asks fewer items)."""
    return _model_for(name, customer.id, customer.version)


@lru_cache(maxsize=64)
def _model_for(name: str, instrument_id: str, version: int) -> dict:
    model = load_model(name)
    instruments = model.get("instruments") or {}
    if instrument_id != instruments.get("customer"):
        return model
    changes = (instruments.get("customer_versions") or {}).get(str(version)) or {}
    return _merged(model, changes) if changes else model


def _merged(base: dict, changes: dict) -> dict:
    out = dict(base)
    for key, value in changes.items():
        out[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(
            base.get(key), dict) else value
    return out


def band(model: dict, score: float | None, kind: str) -> str | None:
    if score is None:
        return None
    name = None
    for step in sorted(model["bands"], key=lambda b: b["min"]):
        if score >= step["min"]:
            name = step[kind]
    return name
