"""marshmallow schemas for invitations."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shared.instrument_languages import LANGUAGE
from shared.text import EmailAddress, SingleLine

from ..schemas_common import PageQuerySchema, page_schema
from .domain import MAX_PER_REQUEST


class InvitationInputSchema(ma.Schema):
    email = EmailAddress(metadata={"description": "For your records; we send nothing"})
    attributes = ma.fields.Dict(keys=SingleLine(), values=SingleLine(),
                                metadata={"example": {"tenure": "long_standing",
                                                      "size": "large"}})
    expires_at = ma.fields.AwareDateTime(default_timezone=None)
    sent = ma.fields.Boolean(metadata={"description": "True if you have already sent the link"})
    language = ma.fields.String(validate=validate.Regexp(
        LANGUAGE, error="Use a language code such as en, de or pt-BR."), metadata={
        "description": "The respondent's language (e.g. from the CRM): the form opens in it when "
                       "the instrument offers it", "example": "de"})


class InvitationBatchSchema(ma.Schema):
    invitations = ma.fields.List(ma.fields.Nested(InvitationInputSchema), required=True,
                                 validate=validate.Length(min=1, max=MAX_PER_REQUEST))


class InvitationSchema(ma.Schema):
    id = ma.fields.String()
    survey_id = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    attributes = ma.fields.Dict()
    status = ma.fields.String(metadata={
        "description": "created, sent, started, completed, revoked or expired"})
    expires_at = ma.fields.String()
    response_id = ma.fields.String(allow_none=True)
    language = ma.fields.String(allow_none=True)
    created_at = ma.fields.String()
    updated_at = ma.fields.String()


class CreatedInvitationSchema(InvitationSchema):
    token = ma.fields.String(metadata={"description": "Shown once; the link is single-use"})
    url = ma.fields.String(metadata={"description": "The respondent's survey link"})


class CreatedInvitationsSchema(ma.Schema):
    created = ma.fields.Integer()
    invitations = ma.fields.List(ma.fields.Nested(CreatedInvitationSchema))


class InvitationQuerySchema(PageQuerySchema):
    status = ma.fields.String(validate=validate.OneOf(
        ("created", "sent", "started", "completed", "revoked")))


InvitationPageSchema = page_schema(InvitationSchema, "InvitationPage")
