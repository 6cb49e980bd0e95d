"""marshmallow schemas of scoring_service's JSON."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shared.text import SingleLine

MAX_STATELESS = 10_000
MAX_SEGMENTS, MAX_SEGMENT_VALUES = 10, 50  # what survey_api allows a survey


class ReportQuerySchema(ma.Schema):
    segment_by = ma.fields.List(
        ma.fields.String(validate=validate.Length(max=200)), load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "Cuts to list: size,tenure or size+tenure or size x tenure "
                                 "(any case; repeatable, one cross each; repeated single "
                                 "attributes are read as one cross)"})
    weighted = ma.fields.Boolean(load_default=False, metadata={
        "description": "Weight respondents back to the invited customers (or the survey's "
                       "settings.population): post-stratification or raking, trimmed weights, "
                       "intervals on Kish's effective sample size"})


class ExplainQuerySchema(ma.Schema):
    dimension = ma.fields.String(required=True, validate=validate.OneOf(
        [f"A{i}" for i in range(1, 8)] + [f"R{i}" for i in range(1, 9)]))
    segment = ma.fields.String(load_default="overall", validate=validate.Length(max=300),
                               metadata={"description": "A segment key from the report, e.g. "
                                                        "size=large or size=large|tenure=new"})


class InstrumentRefSchema(ma.Schema):
    id = SingleLine(required=True, validate=validate.Length(min=1, max=64))
    version = ma.fields.Integer(strict=True, validate=validate.Range(1, 10_000))


class PostedResponseSchema(ma.Schema):
    answers = ma.fields.Dict(keys=ma.fields.String(validate=validate.Length(max=64)),
                             required=True)
    attributes = ma.fields.Dict(keys=SingleLine(validate=validate.Length(max=32)),
                                values=SingleLine(validate=validate.Length(max=64)))


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


def _interval(description: str = "Two-sided interval at the model's confidence") -> ma.fields.List:
    return ma.fields.List(ma.fields.Float(allow_none=True), allow_none=True,
                          validate=validate.Length(equal=2), metadata={"description": description})


def _number(**kwargs) -> ma.fields.Float:
    return ma.fields.Float(allow_none=True, **kwargs)


class DimensionSchema(ma.Schema):
    score = _number(metadata={"description": "0-100; null when the data to score it is missing"})
    band = ma.fields.String(allow_none=True)
    interval = _interval()
    n = ma.fields.Integer(metadata={"description": "Respondents behind the figure"})
    title = ma.fields.String()
    missing = ma.fields.String(metadata={"description": "Why there is no score"})


class PillarSchema(DimensionSchema):
    self_assessed = _number()
    consistency_penalty = _number()
    cap = _number(metadata={"description": "Customer evidence + margin, where it applies"})
    capped = ma.fields.Boolean(allow_none=True)


class AlignmentSchema(DimensionSchema):
    dimensions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(DimensionSchema))


class ReadinessSchema(DimensionSchema):
    pillars = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(PillarSchema))
    vendor_respondents = ma.fields.Integer()


class NpsSchema(ma.Schema):
    value = _number()
    interval = _interval()
    n = ma.fields.Integer()
    se = _number()


class QuadrantSchema(ma.Schema):
    item = ma.fields.String()
    importance = _number()
    performance = _number()
    quadrant = ma.fields.String()


class ComparisonSchema(ma.Schema):
    metric = ma.fields.String()
    difference = ma.fields.Float()
    interval = _interval("Interval of the difference (segment - rest)")
    p_adjusted = ma.fields.Float(metadata={"description": "Holm-adjusted over every comparison "
                                                          "the report examined"})
    significant = ma.fields.Boolean()
    rest_n = ma.fields.Integer()


class RecommendationSchema(ma.Schema):
    id = ma.fields.String()
    segment = ma.fields.String()
    segment_label = ma.fields.String()
    title = ma.fields.String()
    action = ma.fields.String()
    evidence = ma.fields.String()
    rank_score = ma.fields.Float()
    confidence = ma.fields.Float(metadata={
        "description": "One-sided confidence that the rule's condition holds, after error "
                       "control over every rule the report evaluated"})


class TimingChartSchema(ma.Schema):
    bins_pct = ma.fields.List(_number())
    customer_median = _number()
    vendor_point = _number()


class ShareChartSchema(ma.Schema):
    item = ma.fields.String()
    label = ma.fields.String()
    useful_pct = _number()
    used_pct = _number()
    published_pct = _number()
    present_pct = _number()
    gated_pct = _number()


class ChartsSchema(ma.Schema):
    timing = ma.fields.Nested(TimingChartSchema)
    content = ma.fields.List(ma.fields.Nested(ShareChartSchema))
    formats = ma.fields.List(ma.fields.Nested(ShareChartSchema))
    channels = ma.fields.List(ma.fields.Nested(ShareChartSchema))


class SegmentSchema(ma.Schema):
    key = ma.fields.String(metadata={"example": "size=large|tenure=long_standing"})
    label = ma.fields.String()
    filters = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    status = ma.fields.String(validate=validate.OneOf(
        ("ok", "low_confidence", "insufficient", "suppressed")))
    n = ma.fields.Integer(allow_none=True, metadata={"description": "null when suppressed"})
    effective_n = ma.fields.Float(metadata={"description": "Kish's effective sample size, "
                                                          "in weighted reports"})
    note = ma.fields.String()
    alignment = ma.fields.Nested(AlignmentSchema)
    readiness = ma.fields.Nested(ReadinessSchema)
    nps = ma.fields.Nested(NpsSchema)
    quadrants = ma.fields.List(ma.fields.Nested(QuadrantSchema))
    charts = ma.fields.Nested(ChartsSchema)
    comparisons = ma.fields.List(ma.fields.Nested(ComparisonSchema))
    recommendations = ma.fields.List(ma.fields.Nested(RecommendationSchema))


class FindingSchema(ma.Schema):
    segment = ma.fields.String()
    segment_label = ma.fields.String(metadata={"example": "Large, long-standing customers"})
    filters = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    metric = ma.fields.String(metadata={"description": "alignment or A1-A7"})
    metric_name = ma.fields.String()
    value = ma.fields.Float()
    rest_value = ma.fields.Float()
    difference = ma.fields.Float()
    interval = _interval("Interval of the difference (segment - rest)")
    p_adjusted = ma.fields.Float()
    n = ma.fields.Integer()
    rest_n = ma.fields.Integer()
    priority = ma.fields.Float(metadata={"description": "|difference| x importance x "
                                                        "confidence (1 - p_adjusted)"})
    sentence = ma.fields.String()
    recommendation = ma.fields.String(allow_none=True)


class ExaminedSchema(ma.Schema):
    segments = ma.fields.Integer()
    comparisons = ma.fields.Integer()
    depth = ma.fields.Integer()
    error_control = ma.fields.String()
    alpha = ma.fields.Float()


class ChangeSchema(ma.Schema):
    segment = ma.fields.String(metadata={"example": "size=large"})
    segment_label = ma.fields.String()
    filters = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    metric = ma.fields.String(metadata={"description": "alignment or A1-A7"})
    metric_name = ma.fields.String()
    value = ma.fields.Float(metadata={"description": "This wave"})
    previous_value = ma.fields.Float(metadata={"description": "The wave it repeats"})
    difference = ma.fields.Float(metadata={"description": "This wave - the previous one"})
    interval = _interval("Interval of the difference")
    p = ma.fields.Float()
    p_adjusted = ma.fields.Float(metadata={"description": "Holm over every wave comparison"})
    significant = ma.fields.Boolean()
    n = ma.fields.Integer()
    previous_n = ma.fields.Integer()


class ChangesExaminedSchema(ExaminedSchema):
    family = ma.fields.String()
    min_difference = ma.fields.Float()


class ChangesSchema(ma.Schema):
    previous_survey = ma.fields.String(allow_none=True)
    examined = ma.fields.Nested(ChangesExaminedSchema)
    significant = ma.fields.Integer(metadata={"description": "How many changes are significant"})
    notable = ma.fields.List(ma.fields.Nested(ChangeSchema), metadata={
        "description": "The significant changes, largest first, without their echoes in "
                       "nested segments (what the brief shows)"})
    items = ma.fields.List(ma.fields.Nested(ChangeSchema), metadata={
        "description": "Every comparison: significant changes first (largest first)"})


class RepresentedValueSchema(ma.Schema):
    value = ma.fields.String()
    key = ma.fields.String(metadata={"example": "size=small"})
    invited = ma.fields.Integer()
    completed = ma.fields.Integer(allow_none=True, metadata={
        "description": "null when the segment is suppressed"})
    response_rate = ma.fields.Float(allow_none=True, metadata={"description": "percent"})
    interval = _interval("Wilson interval of the response rate")
    reference_share = ma.fields.Float(allow_none=True, metadata={
        "description": "percent of the invited customers (or of the uploaded population)"})
    respondent_share = ma.fields.Float(allow_none=True, metadata={
        "description": "percent of the respondents"})


class MixTestSchema(ma.Schema):
    method = ma.fields.String()
    statistic = ma.fields.Float(allow_none=True)
    df = ma.fields.Integer(allow_none=True)
    p = ma.fields.Float()
    p_adjusted = ma.fields.Float(metadata={"description": "Holm across attributes"})
    differs = ma.fields.Boolean()
    smallest_expected = ma.fields.Float()
    outside = ma.fields.List(ma.fields.String())


class RepresentedAttributeSchema(ma.Schema):
    attribute = ma.fields.String()
    reference = ma.fields.String(validate=validate.OneOf(("invited", "population")))
    values = ma.fields.List(ma.fields.Nested(RepresentedValueSchema))
    test = ma.fields.Nested(MixTestSchema, allow_none=True)


class RepresentationSchema(ma.Schema):
    invited = ma.fields.Integer()
    completed = ma.fields.Integer()
    response_rate = ma.fields.Float(allow_none=True)
    test = ma.fields.Dict()
    attributes = ma.fields.List(ma.fields.Nested(RepresentedAttributeSchema))
    differs = ma.fields.List(ma.fields.String(), metadata={
        "description": "Attributes whose respondents' mix differs from the reference"})
    warning = ma.fields.String(allow_none=True)


class WeightingSchema(ma.Schema):
    applied = ma.fields.Boolean()
    method = ma.fields.String(allow_none=True, metadata={
        "description": "post-stratification or raking"})
    reference = ma.fields.String(metadata={"description": "invited or population"})
    effective_n = ma.fields.Float(allow_none=True, metadata={
        "description": "Kish: (sum of weights)^2 / sum of squared weights"})
    n = ma.fields.Integer()
    trimmed = ma.fields.Boolean()
    cap = ma.fields.Float(metadata={"description": "No weight above cap x the mean weight"})
    note = ma.fields.String()


class ModelRefSchema(ma.Schema):
    id = ma.fields.String()
    version = ma.fields.String()


class BandSchema(ma.Schema):
    min = ma.fields.Float()
    alignment = ma.fields.String()
    readiness = ma.fields.String()


class ReportSchema(ma.Schema):
    """The score report; docs/scoring.md explains every figure."""

    survey_id = ma.fields.String(allow_none=True)
    model = ma.fields.Nested(ModelRefSchema)
    voice = ma.fields.Dict(metadata={"description": "Likelihood to recommend split, and the "
                                                    "customers' suggestions quoted by rule"})
    generated_at = ma.fields.String()
    responses = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    weights = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Float()))
    bands = ma.fields.List(ma.fields.Nested(BandSchema))
    suppression = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    headline = ma.fields.String(metadata={"description": "The top finding's sentence, or the "
                                                         "overall position"})
    findings = ma.fields.List(ma.fields.Nested(FindingSchema), metadata={
        "description": "Significant differences in any segment or cross, ranked by priority"})
    examined = ma.fields.Nested(ExaminedSchema)
    changes = ma.fields.Nested(ChangesSchema, allow_none=True, metadata={
        "description": "What changed since the survey this one repeats (settings.repeats); "
                       "null when it repeats none"})
    weighting = ma.fields.Nested(WeightingSchema, metadata={
        "description": "Whether the figures are weighted, and how"})
    representation = ma.fields.Nested(RepresentationSchema, allow_none=True, metadata={
        "description": "Invited, completed and response rate per segment value, and whether "
                       "the respondents' mix differs from the invited one (null without "
                       "invitations or a population)"})
    languages = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Dict(keys=ma.fields.String(),
                                                       values=ma.fields.Integer()),
        metadata={"description": "Complete responses per respondent kind (customer, vendor) "
                                 "and language they were answered in, most first, e.g. "
                                 "{\"customer\": {\"en\": 40, \"de\": 12}, \"vendor\": "
                                 "{\"en\": 9}}. Responses that do not say their language (API "
                                 "clients may leave it out) are not counted here; scores never "
                                 "depend on the language. Stored surveys only.",
                  "example": {"customer": {"en": 40, "de": 12}, "vendor": {"en": 9}}})
    overall = ma.fields.Nested(SegmentSchema)
    segments = ma.fields.List(ma.fields.Nested(SegmentSchema))
    recommendations = ma.fields.List(ma.fields.Nested(RecommendationSchema))
    survey = ma.fields.Dict(metadata={"description": "The survey's id, name, status, branding"})


class ExplainSchema(ma.Schema):
    survey_id = ma.fields.String()
    segment = ma.fields.String()
    dimension = ma.fields.String()
    model = ma.fields.Nested(ModelRefSchema)
    result = ma.fields.Nested(PillarSchema)
    formula = ma.fields.String()
    inputs = ma.fields.Dict(metadata={"description": "The figures behind the number"})
    metrics = ma.fields.Dict()
