"""marshmallow schemas of survey_api's JSON."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shared.keys import SCOPES
from shared.text import SingleLine


class OrganizationSchema(ma.Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class KeySchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    name = SingleLine(required=True, validate=validate.Length(min=1, max=100),
                            metadata={"example": "CRM integration"})
    scopes = ma.fields.List(ma.fields.String(validate=validate.OneOf(SCOPES)), required=True,
                            validate=validate.Length(min=1, max=len(SCOPES)),
                            metadata={"example": ["ingest"]})
    prefix = ma.fields.String(dump_only=True,
                              metadata={"description": "The key's first characters, to tell "
                                                       "keys apart"})
    created_at = ma.fields.String(dump_only=True)
    revoked_at = ma.fields.String(dump_only=True, allow_none=True)


class NewKeySchema(KeySchema):
    key = ma.fields.String(dump_only=True,
                           metadata={"description": "The key itself. Shown once, never again."})


class WhoAmISchema(ma.Schema):
    organization = ma.fields.Nested(OrganizationSchema, required=True)
    key = ma.fields.Nested(KeySchema, required=True)


class AuditEventSchema(ma.Schema):
    id = ma.fields.String()
    action = ma.fields.String()
    actor = ma.fields.String(metadata={"description": "The API key id, or cli"})
    target = ma.fields.Dict()
    created_at = ma.fields.String()


class AuditQuerySchema(ma.Schema):
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(1, 1000))
