"""marshmallow schemas for responses. The answers themselves are checked by the instrument's
compiled validator (see instruments/definition.py), not here."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shared.compiled_schema import CompiledLoading
from shared.instrument_languages import LANGUAGE
from shared.text import SingleLine

from ..schemas_common import PageQuerySchema, page_schema
from .domain import MAX_BATCH

EXAMPLE_ANSWERS = {"tenure": "long_standing", "company_size": "large", "role": "manager",
                   "first_contact_percent": 60, "exp_clear_reason": 4, "nps": 9,
                   "content_useful": ["case_studies", "reviews"]}


class ResponseInputSchema(CompiledLoading, ma.Schema):
    # Compiled (shared/compiled_schema.py): loaded 1,000 times per batch and on every post.
    submission_id = SingleLine(
        required=True, validate=validate.Length(min=1, max=128),
        metadata={"description": "Your id for this submission. Posting it again with the same "
                                 "content returns the stored response; with other content, 409.",
                  "example": "crm-7f3a9c"})
    instrument = ma.fields.String(load_default="customer",
                                  validate=validate.OneOf(("customer", "vendor")))
    # Only "an object" here: each question id and answer is checked by the survey's compiled
    # instrument validator, which names unknown ids; checking the keys here as well cost more
    # than everything else in a batch of 1,000.
    answers = ma.fields.Dict(required=True, metadata={"example": EXAMPLE_ANSWERS})
    attributes = ma.fields.Dict(keys=SingleLine(validate=validate.Length(max=32)),
                                values=SingleLine(validate=validate.Length(max=64)),
                                metadata={"description": "Segment attributes you already know",
                                          "example": {"region": "emea"}})
    invitation_id = SingleLine(validate=validate.Length(max=64),
                               metadata={"description": "Its attributes are used, and it "
                                                              "is marked completed"})
    language = ma.fields.String(validate=validate.Regexp(
        LANGUAGE, error="Use a language code such as en, de or pt-BR."), metadata={
        "description": "The language the respondent answered in (recorded, never scored)"})
    complete = ma.fields.Boolean(load_default=True,
                                 metadata={"description": "False for a partial response: "
                                                          "stored, not scored"})


class ResponseSchema(ma.Schema):
    id = ma.fields.String()
    survey_id = ma.fields.String()
    submission_id = ma.fields.String()
    instrument = ma.fields.String()
    answers = ma.fields.Dict()
    attributes = ma.fields.Dict()
    source = ma.fields.String()
    complete = ma.fields.Boolean()
    invitation_id = ma.fields.String(allow_none=True)
    language = ma.fields.String(allow_none=True)
    created_at = ma.fields.String()


class _ItemsAsSent(ma.fields.List):
    """A list of any items, loaded as it is: the same as List(Raw()), without calling the item
    field 1,000 times for nothing (but for a null item, which List(Raw()) refuses)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is list and None not in value:
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class BatchInputSchema(ma.Schema):
    # Items are checked one by one afterwards, so one bad item cannot sink the others.
    responses = _ItemsAsSent(ma.fields.Raw(), required=True,
                               validate=validate.Length(min=1, max=MAX_BATCH),
                               metadata={"description": f"Up to {MAX_BATCH} responses, each "
                                                        "shaped as for a single post"})


class BatchItemResultSchema(ma.Schema):
    index = ma.fields.Integer()
    submission_id = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": "created, updated, duplicate, conflict "
                                                       "or rejected"})
    id = ma.fields.String(metadata={"description": "The stored response's id"})
    errors = ma.fields.List(ma.fields.Dict())


class BatchResultSchema(ma.Schema):
    created = ma.fields.Integer()
    updated = ma.fields.Integer(metadata={"description": "Partial responses replaced"})
    duplicate = ma.fields.Integer()
    conflict = ma.fields.Integer()
    rejected = ma.fields.Integer()
    results = ma.fields.List(ma.fields.Nested(BatchItemResultSchema))


class ResponseQuerySchema(PageQuerySchema):
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    instrument = ma.fields.String(validate=validate.OneOf(("customer", "vendor")))
    source = ma.fields.String(validate=validate.OneOf(("web", "api", "import")))
    complete = ma.fields.Boolean()
    created_from = ma.fields.AwareDateTime(default_timezone=None,
                                           metadata={"description": "Inclusive"})
    created_to = ma.fields.AwareDateTime(default_timezone=None,
                                         metadata={"description": "Exclusive"})
    segment = ma.fields.List(
        ma.fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,31}:[A-Za-z0-9_+\-]{1,64}$",
                                                  error="Use name:value, e.g. size:large.")),
        metadata={"description": "Repeat for several, e.g. segment=size:large&segment=tenure:new"})


class ExportQuerySchema(ma.Schema):
    format = ma.fields.String(load_default="csv", validate=validate.OneOf(("csv", "ndjson")))
    instrument = ma.fields.String(load_default="customer",
                                  validate=validate.OneOf(("customer", "vendor")))
    labels = ma.fields.String(validate=validate.Regexp(
        LANGUAGE, error="Use a language code such as en, de or pt-BR."), metadata={
        "description": "Show options as their labels in this language (one the instrument "
                       "offers, e.g. de) instead of answer codes; leave out for codes. A "
                       "labelled CSV is for reading: the import reads codes."})


ResponsePageSchema = page_schema(ResponseSchema, "ResponsePage")


class ErasureInputSchema(ma.Schema):
    submission_id = SingleLine(validate=validate.Length(min=1, max=128))
    invitation_id = SingleLine(validate=validate.Length(min=1, max=64))


class ErasureSchema(ma.Schema):
    erased = ma.fields.Boolean()
    response_id = ma.fields.String()
    submission_id = ma.fields.String()
