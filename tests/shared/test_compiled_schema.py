"""The compiled envelope load gives exactly what marshmallow's load gives: the same dict for
every item it accepts, the same ValidationError messages for every item it does not."""

from __future__ import annotations

import marshmallow as ma
from hypothesis import given, settings, strategies as st
from marshmallow import validate

from shared.compiled_schema import CompiledLoad
from shared.text import SingleLine
from survey_api.responses.schemas import BatchInputSchema, ResponseInputSchema

SCHEMA = ResponseInputSchema()  # compiled: its load() is CompiledLoading's


def marshmallow_load(raw):
    return ma.Schema.load(SCHEMA, raw)

# Text that is fine, too long, multi-line or holds a control/bidi character; values of the
# wrong type; the keys of the schema and some it does not know.
texts = st.one_of(st.text(max_size=8), st.sampled_from(
    ["", "x" * 64, "x" * 65, "x" * 128, "x" * 129, "a\nb", "a\tb", "a\u202eb", "a\x85b",
     "customer", "vendor", "Customer"]))
values = st.one_of(texts, st.none(), st.booleans(), st.integers(-2, 2), st.floats(),
                   st.sampled_from(["true", "false", "1", "0", "yes"]),
                   st.lists(st.integers(), max_size=2),
                   st.dictionaries(texts, st.one_of(texts, st.integers()), max_size=3))
keys = st.sampled_from(["submission_id", "instrument", "answers", "attributes", "invitation_id",
                        "complete", "other"])
envelopes = st.one_of(
    st.dictionaries(keys, values, max_size=7),
    st.fixed_dictionaries({"submission_id": texts, "answers": st.dictionaries(texts, values)},
                          optional={"instrument": st.one_of(texts, values),
                                    "attributes": values, "invitation_id": texts,
                                    "complete": values}),
    values)


def outcome(load, raw):
    try:
        return "loaded", load(raw)
    except ma.ValidationError as exc:
        return "refused", exc.messages


@settings(max_examples=600, deadline=None)
@given(envelopes)
def test_compiled_load_is_marshmallow_load(raw):
    assert outcome(SCHEMA.load, raw) == outcome(marshmallow_load, raw)


def test_the_common_item_takes_the_compiled_path_and_gets_the_defaults():
    raw = {"submission_id": "crm-1", "answers": {"nps": 9}, "attributes": {"region": "emea"}}
    def marshmallow_path(raw):
        raise AssertionError("the common item went to marshmallow")

    loaded = CompiledLoad(SCHEMA, fallback=marshmallow_path).load(raw)
    assert loaded == {**raw, "instrument": "customer", "complete": True}
    assert loaded["answers"] is not raw["answers"]  # a copy, as marshmallow's Dict gives


def test_a_schema_with_what_it_does_not_know_is_left_to_marshmallow():
    class WithHook(ma.Schema):
        name = SingleLine(required=True)

        @ma.post_load
        def shout(self, data, **kwargs):
            return {"name": data["name"].upper()}

    class WithRegexp(ma.Schema):  # a validator this module does not know (a Predicate)
        name = ma.fields.String(validate=validate.Predicate("isupper",
                                                            error="String does not match "
                                                                  "expected pattern."))

    assert CompiledLoad(WithHook())._checks is None
    assert CompiledLoad(WithHook()).load({"name": "x"}) == {"name": "X"}
    assert CompiledLoad(WithRegexp())._checks is None
    assert outcome(CompiledLoad(WithRegexp()).load, {"name": "b"}) == \
        ("refused", {"name": ["String does not match expected pattern."]})
    # A Regexp it knows: compiled, and what it refuses still gets marshmallow's own message.
    class Pattern(ma.Schema):
        name = ma.fields.String(validate=validate.Regexp("^a"))

    assert CompiledLoad(Pattern())._checks is not None
    assert CompiledLoad(Pattern()).load({"name": "abc"}) == {"name": "abc"}
    assert outcome(CompiledLoad(Pattern()).load, {"name": "b"}) == \
        ("refused", {"name": ["String does not match expected pattern."]})


@settings(deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(), st.dictionaries(texts, texts, max_size=1)),
                max_size=4) | values)
def test_batch_items_load_as_list_of_raw(raw):
    """The batch's list loads its items as they are, and refuses what List(Raw()) refuses."""
    class Reference(ma.Schema):
        responses = ma.fields.List(ma.fields.Raw(), required=True,
                                   validate=validate.Length(min=1, max=1000))

    assert outcome(BatchInputSchema().load, {"responses": raw}) == \
        outcome(Reference().load, {"responses": raw})
