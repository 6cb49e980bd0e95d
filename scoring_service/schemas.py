"""marshmallow schemas of scoring_service's JSON."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

MAX_STATELESS = 10_000
MAX_SEGMENTS, MAX_SEGMENT_VALUES = 10, 50  # what survey_api allows a survey


class ReportQuerySchema(ma.Schema):
    segment_by = ma.fields.List(
        ma.fields.String(validate=validate.Length(max=200)), load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "Cuts to list: size,tenure or size+tenure or size x tenure "
                                 "(any case; repeatable, one cross each; repeated single "
                                 "attributes are read as one cross)"})


class ExplainQuerySchema(ma.Schema):
    dimension = ma.fields.String(required=True, validate=validate.OneOf(
        [f"A{i}" for i in range(1, 8)] + [f"R{i}" for i in range(1, 9)]))
    segment = ma.fields.String(load_default="overall", validate=validate.Length(max=300),
                               metadata={"description": "A segment key from the report, e.g. "
                                                        "size=large or size=large|tenure=new"})


class InstrumentRefSchema(ma.Schema):
    id = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    version = ma.fields.Integer(strict=True, validate=validate.Range(1, 10_000))


class PostedResponseSchema(ma.Schema):
    answers = ma.fields.Dict(keys=ma.fields.String(validate=validate.Length(max=64)),
                             required=True)
    attributes = ma.fields.Dict(keys=ma.fields.String(validate=validate.Length(max=32)),
                                values=ma.fields.String(validate=validate.Length(max=64)))


class ScoreRequestSchema(ma.Schema):
    instrument = ma.fields.Nested(InstrumentRefSchema, load_default={"id": "how-you-buy"},
                                  metadata={"description": "The customer instrument"})
    vendor_instrument = ma.fields.Nested(InstrumentRefSchema, load_default={"id": "how-we-sell"})
    segments = ma.fields.Dict(
        keys=ma.fields.String(validate=validate.Length(min=1, max=32)),
        values=ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=64)),
                              validate=validate.Length(min=1, max=MAX_SEGMENT_VALUES)),
        validate=validate.Length(max=MAX_SEGMENTS),
        metadata={"description": "Custom segment attributes and values (as a survey allows: "
                                 f"at most {MAX_SEGMENTS} attributes of "
                                 f"{MAX_SEGMENT_VALUES} values)"})
    segment_by = ma.fields.List(ma.fields.String(validate=validate.Length(max=200)),
                                load_default=list, validate=validate.Length(max=20))
    vendor_responses = ma.fields.List(ma.fields.Nested(PostedResponseSchema), required=True,
                                      validate=validate.Length(max=1000),
                                      metadata={"description": "The vendor profile: staff "
                                                               "answers to the vendor instrument"})
    responses = ma.fields.List(ma.fields.Nested(PostedResponseSchema), required=True,
                               validate=validate.Length(max=MAX_STATELESS))


class ReportSchema(ma.Schema):
    """The report is documented in docs/scoring.md; its fields pass through as computed."""

    class Meta:
        unknown = ma.INCLUDE

    survey_id = ma.fields.String(allow_none=True)
    model = ma.fields.Dict()
    generated_at = ma.fields.String()
    responses = ma.fields.Dict()
    weights = ma.fields.Dict()
    bands = ma.fields.List(ma.fields.Dict())
    suppression = ma.fields.Dict()
    overall = ma.fields.Dict()
    segments = ma.fields.List(ma.fields.Dict())
    recommendations = ma.fields.List(ma.fields.Dict())
    survey = ma.fields.Dict()
