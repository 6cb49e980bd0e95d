"""scoring_service over HTTP (Flask test client), reading what survey_api stored."""

from __future__ import annotations

import random

import pytest

from tests.support.factories import builtin, complete_answers
from tests.support.populations import healthy_customer, healthy_vendor

CUSTOMER, VENDOR = builtin("how-you-buy"), builtin("how-we-sell")


@pytest.fixture
def filled_survey(client, tenant, open_survey):
    rng = random.Random(21)
    items = []
    for i in range(60):
        answers = healthy_customer(rng, rng.choice(["new", "long_standing"]),
                                   rng.choice(["small", "large"]))
        items.append({"submission_id": f"c{i}", "answers": answers,
                      "attributes": {"region": "emea" if i % 3 else "americas"}})
    items += [{"submission_id": f"v{i}", "instrument": "vendor",
               "answers": healthy_vendor(rng, role)} for i, role in
              enumerate(["sales", "marketing", "leadership"])]
    result = client.post(f"/v1/surveys/{open_survey['id']}/responses:batch",
                         json={"responses": items}, headers=tenant.headers())
    assert result.get_json()["created"] == 63
    return open_survey


def test_report_has_every_segment_with_n_scores_and_the_model_version(scoring, tenant,
                                                                     filled_survey):
    response = scoring.get(f"/v1/surveys/{filled_survey['id']}/report?segment_by=size,tenure",
                           headers=tenant.headers("read"))
    assert response.status_code == 200
    report = response.get_json()
    assert report["model"] == {"id": "buyer-alignment", "version": "2026.1"}
    assert report["responses"] == {"customer": 60, "vendor": 3}
    keys = [s["key"] for s in report["segments"]]
    assert keys[0] == "overall"
    assert {"tenure=new", "size=large", "region=emea", "region=americas",
            "size=large|tenure=new"} <= set(keys)
    overall = report["overall"]
    assert overall["n"] == 60 and set(overall["alignment"]["dimensions"]) == {
        "A1", "A2", "A3", "A4", "A5", "A6", "A7"}
    assert set(overall["readiness"]["pillars"]) == {f"R{i}" for i in range(1, 9)}
    assert overall["readiness"]["vendor_respondents"] == 3
    region_sizes = {s["key"]: s["n"] for s in report["segments"] if s["key"].startswith("region")}
    assert region_sizes == {"region=emea": 40, "region=americas": 20}
    lo, hi = overall["alignment"]["interval"]
    assert lo <= overall["alignment"]["score"] <= hi


def test_explain_shows_the_inputs_behind_a_number(scoring, tenant, filled_survey):
    base = f"/v1/surveys/{filled_survey['id']}/report"
    report = scoring.get(base, headers=tenant.headers()).get_json()
    explained = scoring.get(f"{base}/explain?dimension=A1&segment=region=emea",
                            headers=tenant.headers()).get_json()
    emea = next(s for s in report["segments"] if s["key"] == "region=emea")
    assert explained["result"]["score"] == emea["alignment"]["dimensions"]["A1"]["score"]
    assert explained["inputs"]["vendor_point"] == 10
    assert sum(explained["inputs"]["customer_histogram"].values()) == 40
    assert "median" in explained["formula"]
    cross = scoring.get(f"{base}/explain?dimension=R2&segment=size=large|tenure=new",
                        headers=tenant.headers())
    assert cross.status_code == 200 and cross.get_json()["inputs"]["self_assessed"] == 75.0
    missing = scoring.get(f"{base}/explain?dimension=A1&segment=size=huge",
                          headers=tenant.headers())
    assert missing.status_code == 404
    bad = scoring.get(f"{base}/explain?dimension=Z9", headers=tenant.headers())
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "dimension"


def test_segment_by_must_name_known_segments(scoring, tenant, filled_survey):
    response = scoring.get(f"/v1/surveys/{filled_survey['id']}/report?segment_by=size,shoe",
                           headers=tenant.headers())
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "segment_by.0"


def test_reports_are_tenant_scoped_and_need_a_key(scoring, tenant, other_tenant,
                                                  filled_survey):
    url = f"/v1/surveys/{filled_survey['id']}/report"
    assert scoring.get(url).status_code == 401
    assert scoring.get(url, headers=other_tenant.headers()).status_code == 404
    assert scoring.get(url + "/explain?dimension=A1",
                       headers=other_tenant.headers()).status_code == 404


def test_an_empty_survey_reports_suppression_not_an_error(scoring, client, tenant):
    survey = client.post("/v1/surveys", json={"name": "empty"}, headers=tenant.headers()).get_json()
    report = scoring.get(f"/v1/surveys/{survey['id']}/report", headers=tenant.headers())
    assert report.status_code == 200
    body = report.get_json()
    assert body["overall"]["status"] == "suppressed" and body["responses"]["customer"] == 0
    assert body["recommendations"] == []


def test_stateless_scoring_matches_the_stored_report(scoring, client, tenant, filled_survey):
    stored = client.get(f"/v1/surveys/{filled_survey['id']}/responses?limit=1000",
                        headers=tenant.headers()).get_json()["items"]
    body = {"segments": {"region": ["emea", "americas"]},
            "instrument": {"id": "how-you-buy", "version": 1},  # the survey's pinned version
            "responses": [{"answers": r["answers"], "attributes": {"region": r["attributes"]["region"]}}
                          for r in stored if r["instrument"] == "customer"],
            "vendor_responses": [{"answers": r["answers"]} for r in stored
                                 if r["instrument"] == "vendor"]}
    posted = scoring.post("/v1/score", json=body, headers=tenant.headers("read"))
    assert posted.status_code == 200
    from_store = scoring.get(f"/v1/surveys/{filled_survey['id']}/report",
                             headers=tenant.headers()).get_json()
    assert posted.get_json()["overall"]["alignment"] == from_store["overall"]["alignment"]
    assert posted.get_json()["overall"]["readiness"] == from_store["overall"]["readiness"]


def test_stateless_scoring_places_unanswered_segments_as_ingestion_does(scoring, client, tenant,
                                                                         open_survey):
    """Segments left unanswered: region (a custom segment no question asks) given for a
    quarter only; size given as an attribute, its profile question unanswered, for another
    quarter. Every segment of the posted report equals the stored one."""
    rng = random.Random(34)
    items = []
    for i in range(64):
        answers = healthy_customer(rng, rng.choice(["new", "long_standing"]),
                                   rng.choice(["small", "large"]))
        attributes = {}
        if i % 4 == 0:
            attributes["region"] = "emea"
        elif i % 4 == 1:
            attributes["size"] = answers.pop("company_size")
        items.append({"submission_id": f"c{i}", "answers": answers, "attributes": attributes})
    vendors = [{"submission_id": f"v{i}", "instrument": "vendor",
                "answers": healthy_vendor(rng, role)}
               for i, role in enumerate(["sales", "marketing", "leadership"])]
    stored = client.post(f"/v1/surveys/{open_survey['id']}/responses:batch",
                         json={"responses": items + vendors}, headers=tenant.headers())
    assert stored.get_json()["created"] == 67
    body = {"segments": {"region": ["emea", "americas"]},
            "instrument": {"id": "how-you-buy", "version": 1}, "segment_by": ["size,region"],
            "responses": [{"answers": i["answers"], "attributes": i["attributes"]}
                          for i in items],
            "vendor_responses": [{"answers": v["answers"]} for v in vendors]}
    posted = scoring.post("/v1/score", json=body, headers=tenant.headers("read"))
    assert posted.status_code == 200, posted.get_json()
    from_store = scoring.get(f"/v1/surveys/{open_survey['id']}/report?segment_by=size,region",
                             headers=tenant.headers()).get_json()
    sizes = {s["key"]: s["n"] for s in from_store["segments"]}
    assert sizes["region=emea"] == 16 and sizes["region=americas"] is None  # none: suppressed
    assert sum(n or 0 for key, n in sizes.items() if key.startswith("size=") and "|" not in key) == 64
    assert posted.get_json()["segments"] == from_store["segments"]
    assert posted.get_json()["overall"] == from_store["overall"]
    assert posted.get_json()["recommendations"] == from_store["recommendations"]


def test_stateless_scoring_validates_like_ingestion(scoring, tenant):
    answers = complete_answers(CUSTOMER, random.Random(1), nps=11)
    response = scoring.post("/v1/score", json={
        "responses": [{"answers": complete_answers(CUSTOMER, random.Random(2))},
                      {"answers": answers, "attributes": {"size": "gigantic"}}],
        "vendor_responses": [{"answers": {"role": "pilot"}}]}, headers=tenant.headers())
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"responses.1.answers.nps", "responses.1.attributes.size",
            "vendor_responses.0.answers.role"} <= fields
    unknown = scoring.post("/v1/score", json={"instrument": {"id": "nope"}, "responses": [],
                                              "vendor_responses": []}, headers=tenant.headers())
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["field"] == "instrument.id"
