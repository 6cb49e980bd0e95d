"""Schema pieces several survey_api features share."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

CURSOR_DESCRIPTION = "Pass a page's next_cursor to get the page after it."


class PageQuerySchema(ma.Schema):
    cursor = ma.fields.String(validate=validate.Length(max=64),
                              metadata={"description": CURSOR_DESCRIPTION})
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(1, 500))


def page_schema(item_schema, name: str):
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "next_cursor": ma.fields.String(allow_none=True, required=True,
                                        metadata={"description": CURSOR_DESCRIPTION}),
    }, name=name)
