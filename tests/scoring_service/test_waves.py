"""Waves: what changed since the survey a survey repeats. A change planted in one cross is found
there; two waves drawn from one distribution flag nothing beyond the nominal familywise rate
(over many seeded replicate pairs). Expected figures come from the raw answers."""

from __future__ import annotations

import statistics

from scipy.stats import binom

from scoring_service.scoring.engine import build_report
from scoring_service.scoring.model import load_model
from scoring_service.scoring.waves import wave_changes

from tests.support.populations import CUSTOMER, SEGMENTS, population, population_answers, to_cells

MODEL = load_model()
NAMES = ["size", "tenure"]
TARGET = "size=large|tenure=long_standing"


def changes(current, previous):
    return wave_changes(current, previous, model=MODEL, customer_definition=CUSTOMER,
                        segments=SEGMENTS, customer_names=NAMES, previous_survey="w1")


def later_in_large_long_standing(answers, rng):
    if answers["company_size"] == "large" and answers["tenure"] == "long_standing":
        answers["first_contact_percent"] = min(100, max(0, int(rng.gauss(75, 6))))


def test_a_change_planted_in_one_cross_is_found_in_that_cross():
    before = population(11)
    customers, vendors = population_answers(12, plant=later_in_large_long_standing)
    result = changes(to_cells(customers, vendors), before)
    significant = [i for i in result["items"] if i["significant"]]
    assert significant, "the planted change was not found"
    top = significant[0]
    assert (top["segment"], top["metric"]) == (TARGET, "A1")
    # Every significant change lies in a segment that contains the planted cross.
    for item in significant:
        assert all(TARGET.count(f"{k}={v}") for k, v in item["filters"].items()), item
    # The figures are the wave's own: A1 from the raw answers of that cross in each wave.
    late = [a["first_contact_percent"] for a in customers
            if a["company_size"] == "large" and a["tenure"] == "long_standing"]
    engaged = [v["first_touch_percent"] for v in vendors]
    expected_now = 100 - min(100, 2 * abs(statistics.median(late) - statistics.median(engaged)))
    assert top["value"] == round(expected_now, 1)
    low, high = top["interval"]
    assert low < top["difference"] < high < 0
    assert top["n"] == len(late) and top["previous_n"] == 40
    assert result["examined"]["comparisons"] == len(result["items"])
    # notable: the planted change once, not again for a group nested in one already shown
    assert (result["notable"][0]["segment"], result["notable"][0]["metric"]) == (TARGET, "A1")
    for a in result["notable"]:
        for b in result["notable"]:
            nested = a is not b and all(b["filters"].get(k) == v for k, v in a["filters"].items())
            assert not (nested and a["metric"] == b["metric"]), (a["segment"], b["segment"])
    assert result["examined"]["error_control"] == "holm"


def test_the_changes_cover_every_segment_and_cross_the_report_examines():
    result = changes(population(21), population(22))
    segments = {i["segment"] for i in result["items"]}
    assert "overall" in segments and TARGET in segments
    assert {"size=small", "tenure=new", "size=midsize|tenure=established"} <= segments
    assert len(segments) == 1 + 6 + 9
    # A5 has no customer-side error here (the vendor engages more contacts than any team has,
    # so coverage is capped at 100 over the whole interval): like a segment comparison, no test.
    assert {i["metric"] for i in result["items"]} == {"alignment", "A1", "A2", "A3", "A4",
                                                      "A6", "A7"}


REPLICATES = 120
ALLOWED = int(binom.ppf(0.999, REPLICATES, 0.05))


def test_two_waves_from_one_distribution_flag_nothing_beyond_the_nominal_rate():
    flagged = 0
    for replicate in range(REPLICATES):
        result = changes(population(5000 + 2 * replicate, per_cell=20),
                         population(5001 + 2 * replicate, per_cell=20))
        flagged += result["significant"] > 0
    assert flagged <= ALLOWED, (flagged, ALLOWED)


def test_a_hidden_cell_in_either_wave_is_not_compared():
    uneven = {(t, s): 20 for t in ("new", "established", "long_standing")
              for s in ("small", "midsize", "large")}
    uneven[("new", "small")] = 3  # under the suppression threshold in the previous wave
    result = changes(population(31, per_cell=20), population(32, per_cell=uneven))
    segments = {i["segment"] for i in result["items"]}
    assert "size=small|tenure=new" not in segments
    # and the report of the current wave is unaffected by the comparison
    report = build_report(population(31, per_cell=20), model=MODEL, customer_definition=CUSTOMER,
                          segments=SEGMENTS, customer_names=NAMES)
    assert "changes" not in report


def test_the_documented_schemas_carry_every_field_of_the_new_blocks():
    from scoring_service.domain import _weighting
    from scoring_service.schemas import ChangesSchema, RepresentationSchema, WeightingSchema
    from scoring_service.scoring.weighting import report_weights

    from tests.scoring_service.test_representation import run, sample

    def same_keys(schema, data):
        dumped = schema.dump(data)
        assert set(dumped) == set(data), set(data) ^ set(dumped)
        return dumped

    result = changes(population(21), population(22))
    same_keys(ChangesSchema(), result)
    assert set(ChangesSchema().dump(result)["items"][0]) == set(result["items"][0])
    invitations, cells = sample(1, {"small": 0.6, "midsize": 0.3, "large": 0.15})
    block = run(invitations, cells)
    dumped = same_keys(RepresentationSchema(), block)
    assert set(dumped["attributes"][0]["test"]) == set(block["attributes"][0]["test"])
    assert set(dumped["attributes"][0]["values"][0]) == set(block["attributes"][0]["values"][0])
    weights = report_weights(cells, NAMES,
                             invitation_tally=[(a, s, 1) for a, s in invitations])
    same_keys(WeightingSchema(), _weighting(True, weights))
    same_keys(WeightingSchema(), _weighting(False, None))
