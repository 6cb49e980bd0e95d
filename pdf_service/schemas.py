"""marshmallow schemas of pdf_service's JSON."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shared.ids import ID_PATTERN

from .domain import MAX_LINK_HOURS, MAX_RECIPIENTS


def _ascii_address(address: str, position: int) -> str:
    """An address every mail server takes: an international domain in its ASCII (punycode)
    form; a non-ASCII part before the @ is refused here rather than by the server."""
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        raise ma.ValidationError(f"Address {position + 1}: the part before the @ must be ASCII.")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        raise ma.ValidationError(f"Address {position + 1}: not a valid domain.") from None


class Recipients(ma.fields.List):
    """E-mail addresses, each once whatever its case (the first spelling is kept), at most
    MAX_RECIPIENTS of them: a brief is for a few named people, not a mailing list."""

    def __init__(self, **kwargs):
        super().__init__(ma.fields.Email(validate=validate.Length(max=254)), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        distinct: dict[str, str] = {}
        for position, address in enumerate(super()._deserialize(value, attr, data, **kwargs)):
            address = _ascii_address(address, position)
            distinct.setdefault(address.casefold(), address)
        if len(distinct) > MAX_RECIPIENTS:
            raise ma.ValidationError(f"At most {MAX_RECIPIENTS} different addresses "
                                     f"(got {len(distinct)}).")
        return list(distinct.values())


class BriefRequestSchema(ma.Schema):
    survey_id = ma.fields.String(required=True, validate=validate.Regexp(
        ID_PATTERN, error="Not a survey id (32 hexadecimal digits)."))
    audience = ma.fields.String(load_default="leadership", validate=validate.Length(min=1, max=60),
                                metadata={"example": "board"})
    segments = ma.fields.List(
        ma.fields.String(validate=validate.Length(max=300)), load_default=list,
        validate=validate.Length(max=60),
        metadata={"description": "Segment keys to give a page each, e.g. size=large or "
                                 "size=large|tenure=new. Default: every single-attribute "
                                 "segment.", "example": ["size=large", "tenure=new"]})
    email_to = Recipients(load_default=list)


class EmailRequestSchema(ma.Schema):
    to = Recipients(required=True, validate=validate.Length(min=1))


class ShareRequestSchema(ma.Schema):
    hours = ma.fields.Integer(strict=True, validate=validate.Range(1, MAX_LINK_HOURS),
                              metadata={"description": "How long the link works, 1 to "
                                                       f"{MAX_LINK_HOURS} hours (default: "
                                                       "BRIEF_LINK_HOURS)", "example": 24})


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
    expires_at = ma.fields.String(metadata={"description": "When the link stops working (UTC)"})


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
