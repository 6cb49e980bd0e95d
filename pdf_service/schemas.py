"""marshmallow schemas of pdf_service's JSON."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shared.text import EmailAddress


class BriefRequestSchema(ma.Schema):
    survey_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    audience = ma.fields.String(load_default="leadership", validate=validate.Length(min=1, max=60),
                                metadata={"example": "board"})
    segments = ma.fields.List(
        ma.fields.String(validate=validate.Length(max=300)), load_default=list,
        validate=validate.Length(max=60),
        metadata={"description": "Segment keys to give a page each, e.g. size=large or "
                                 "size=large|tenure=new. Default: every single-attribute "
                                 "segment.", "example": ["size=large", "tenure=new"]})
    # EmailAddress: ASCII only, so the mail server never refuses it at send time.
    email_to = ma.fields.List(EmailAddress(), load_default=list,
                              validate=validate.Length(max=50))


class EmailRequestSchema(ma.Schema):
    to = ma.fields.List(EmailAddress(), required=True, validate=validate.Length(min=1, max=50))


class ShareRequestSchema(ma.Schema):
    hours = ma.fields.Integer(strict=True, validate=validate.Range(1, 24 * 90),
                              metadata={"description": "How long the link works (default from "
                                                       "BRIEF_LINK_HOURS)"})


class BriefSchema(ma.Schema):
    id = ma.fields.String()
    survey_id = ma.fields.String()
    metadata = ma.fields.Dict()
    checksum = ma.fields.String(metadata={"description": "SHA-256 of the PDF"})
    size = ma.fields.Integer()
    created_at = ma.fields.String()
    pdf_url = ma.fields.String()


class CreatedBriefSchema(BriefSchema):
    share_url = ma.fields.String()
    email = ma.fields.Dict(metadata={"description": "Whether the e-mail went out, if asked"})


class ShareSchema(ma.Schema):
    url = ma.fields.String()
    expires_in_hours = ma.fields.Integer()


class ReportInputSchema(ma.Schema):
    """A report as GET /v1/surveys/{id}/report returns it."""

    class Meta:
        unknown = ma.INCLUDE

    model = ma.fields.Dict(required=True)
    responses = ma.fields.Dict(required=True)
    overall = ma.fields.Dict(required=True)
    segments = ma.fields.List(ma.fields.Dict(), required=True)
    recommendations = ma.fields.List(ma.fields.Dict(), required=True)
    weights = ma.fields.Dict(required=True)
    suppression = ma.fields.Dict(required=True)


class RenderQuerySchema(ma.Schema):
    audience = ma.fields.String(load_default="leadership", validate=validate.Length(min=1, max=60))
