"""marshmallow schemas for webhooks."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from .domain import EVENTS


class WebhookInputSchema(ma.Schema):
    url = ma.fields.Url(required=True, require_tld=False, schemes={"http", "https"},
                        validate=validate.Length(max=2000),
                        metadata={"example": "https://crm.example.com/hooks/survey"})
    events = ma.fields.List(ma.fields.String(validate=validate.OneOf(EVENTS)),
                            load_default=list(EVENTS), validate=validate.Length(min=1))


class WebhookSchema(ma.Schema):
    id = ma.fields.String()
    url = ma.fields.String()
    events = ma.fields.List(ma.fields.String())
    active = ma.fields.Boolean()
    last_status = ma.fields.Integer(allow_none=True,
                                    metadata={"description": "HTTP status of the last attempt"})
    last_error = ma.fields.String(allow_none=True)
    last_attempt_at = ma.fields.String(allow_none=True)
    created_at = ma.fields.String()


class NewWebhookSchema(WebhookSchema):
    secret = ma.fields.String(metadata={"description": "Signs every delivery. Shown once."})


class DeliverySchema(ma.Schema):
    id = ma.fields.String()
    event = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending, delivered or failed"})
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.String()
    last_status = ma.fields.Integer(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.String()


class WebhookDetailSchema(WebhookSchema):
    deliveries = ma.fields.List(ma.fields.Nested(DeliverySchema),
                                metadata={"description": "The latest 50, newest first"})
