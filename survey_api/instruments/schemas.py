"""marshmallow schemas for instruments."""

from __future__ import annotations

import marshmallow as ma

from shared.instruments import InstrumentDefinitionSchema

InstrumentSchema = InstrumentDefinitionSchema


class InstrumentSummarySchema(ma.Schema):
    id = ma.fields.String()
    version = ma.fields.Integer()
    kind = ma.fields.String()
    title = ma.fields.String()
    questions = ma.fields.Integer(metadata={"description": "Number of questions"})
    builtin = ma.fields.Boolean(metadata={"description": "Ships with the product"})


class InstrumentQuerySchema(ma.Schema):
    version = ma.fields.Integer(validate=ma.validate.Range(1, 10_000))
