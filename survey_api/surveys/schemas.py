"""marshmallow schemas for surveys."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shared.instrument_languages import LANGUAGE
from shared.text import EmailAddress, SingleLine

from ..schemas_common import page_schema

SEGMENT_NAME = r"^[a-z][a-z0-9_]{0,31}$"
SEGMENT_VALUE = r"^[A-Za-z0-9_+\-]{1,64}$"


class InstrumentRefSchema(ma.Schema):
    id = SingleLine(required=True, validate=validate.Length(min=1, max=64))
    version = ma.fields.Integer(strict=True, validate=validate.Range(1, 10_000),
                                metadata={"description": "Omit for the latest version"})


# Said to a marketing lead beside the field, so in their words rather than marshmallow's.
TITLE_LENGTH = "A title is 1 to {max} characters long."


class BrandingSchema(ma.Schema):
    vendor_name = SingleLine(validate=validate.Length(min=1, max=100),
                                   metadata={"example": "Acme Analytics"})
    accent_color = ma.fields.String(validate=validate.Regexp(
        r"^#[0-9a-fA-F]{6}$", error="Use a #rrggbb colour."), metadata={"example": "#1f6feb"})
    # What respondents see instead of the internal survey name, and who they can turn to.
    public_title = SingleLine(validate=validate.Length(min=1, max=120, error=TITLE_LENGTH),
                                    metadata={"example": "How you buy software, 2026"})
    public_title_translations = ma.fields.Dict(
        keys=ma.fields.String(validate=validate.Regexp(
            LANGUAGE, error="Use a language code such as de, fr or pt-BR.")),
        values=SingleLine(validate=validate.Length(min=1, max=120, error=TITLE_LENGTH)),
        validate=validate.Length(max=50),
        metadata={"description": "public_title in other languages the customer instrument "
                                 "offers; the form and the e-mails use the respondent's, else "
                                 "public_title", "example": {"de": "Wie Sie Software kaufen, "
                                                                   "2026"}})
    logo_url = ma.fields.Url(schemes={"https"}, validate=validate.Length(max=500),
                             metadata={"example": "https://acme.example/logo.png"})
    website_url = ma.fields.Url(schemes={"https", "http"}, validate=validate.Length(max=500),
                                metadata={"example": "https://acme.example"})
    contact_email = EmailAddress(metadata={"example": "research@acme.example"})
    privacy_url = ma.fields.Url(schemes={"https", "http"}, validate=validate.Length(max=500),
                                metadata={"example": "https://acme.example/privacy"})


class SurveySettingsSchema(ma.Schema):
    anonymous_link = ma.fields.Boolean(load_default=False,
                                       metadata={"description": "Allow an anonymous web link"})
    invitation_ttl_days = ma.fields.Integer(strict=True, load_default=30, validate=validate.Range(1, 365))
    staff_link_days = ma.fields.Integer(
        strict=True, load_default=30, validate=validate.Range(1, 365),
        metadata={"description": "How long a staff link works; rotating it starts anew"})
    staff_response_cap = ma.fields.Integer(
        strict=True, load_default=200, validate=validate.Range(1, 1000),
        metadata={"description": "The most staff self-assessments the staff link takes"})
    repeats = ma.fields.String(
        allow_none=True, validate=validate.Length(min=1, max=64),
        metadata={"description": "The id of the earlier survey (wave) this one repeats: same "
                                 "organization, same instruments. The report then shows what "
                                 "changed since; null removes the link"})
    population = ma.fields.Dict(
        keys=SingleLine(validate=validate.Regexp(SEGMENT_NAME)),
        values=ma.fields.Dict(keys=SingleLine(validate=validate.Regexp(SEGMENT_VALUE)),
                              values=ma.fields.Integer(strict=True,
                                                       validate=validate.Range(0, 10**9))),
        allow_none=True, validate=validate.Length(max=10),
        metadata={"description": "The customer population as counts per segment value, to "
                                 "compare respondents with and weight back to (instead of the "
                                 "invited customers)",
                  "example": {"size": {"small": 500, "midsize": 200, "large": 50}}})


class SurveyInputSchema(ma.Schema):
    name = SingleLine(required=True, validate=validate.Length(min=1, max=200),
                            metadata={"example": "How our customers buy, 2026"})
    customer_instrument = ma.fields.Nested(InstrumentRefSchema)
    vendor_instrument = ma.fields.Nested(InstrumentRefSchema)
    segments = ma.fields.Dict(
        # SingleLine: a Regexp's $ also matches before a final line break.
        keys=SingleLine(validate=validate.Regexp(SEGMENT_NAME)),
        values=ma.fields.List(SingleLine(validate=validate.Regexp(SEGMENT_VALUE)),
                              validate=validate.Length(min=1, max=50)),
        validate=validate.Length(max=10),
        metadata={"description": "Segment attribute -> allowed values. tenure, size and role "
                                 "come from the instruments; add custom ones such as region.",
                  "example": {"region": ["emea", "americas", "apac"]}})
    branding = ma.fields.Nested(BrandingSchema)
    settings = ma.fields.Nested(SurveySettingsSchema)


class SurveyPatchSchema(SurveyInputSchema):
    name = SingleLine(validate=validate.Length(min=1, max=200))


class SurveySchema(SurveyInputSchema):
    id = ma.fields.String(dump_only=True)
    status = ma.fields.String(dump_only=True, metadata={"description": "draft, open or closed"})
    created_at = ma.fields.String(dump_only=True)
    updated_at = ma.fields.String(dump_only=True)


SurveyPageSchema = page_schema(SurveySchema, "SurveyPage")


class SurveyLinksSchema(ma.Schema):
    staff = ma.fields.String(metadata={"description": "For the vendor's own staff; "
                                                     "POST .../staff-link/rotate replaces it"})
    staff_expires_at = ma.fields.String(metadata={"description": "When the staff link stops "
                                                                 "working"})
    anonymous = ma.fields.String(allow_none=True,
                                 metadata={"description": "Null unless settings.anonymous_link"})
