"""segment_by and segment keys in any form a user would try, and bounded work per request:
crosses over many custom segment values answer 422 naming the field, in the report, explain,
stateless scoring and briefs (issue 13, item 2)."""

from __future__ import annotations

import random

import pytest

from tests.support.populations import healthy_customer, healthy_vendor
from tests.pdf_service.test_pdf_api import inbox, pdf_client, scoring_url  # noqa: F401 (fixtures)
from tests.scoring_service.test_scoring_api import filled_survey  # noqa: F401 (fixture)

V1 = {"id": "how-you-buy", "version": 1}  # the answers these tests generate

MANY = {name: [f"v{i:02d}" for i in range(50)] for name in ("aa", "bb", "cc", "dd")}


@pytest.fixture
def wide_survey(client, tenant):
    """Four custom segments of 50 values each, 40 customers spread over them."""
    survey = client.post("/v1/surveys", json={"name": "wide", "segments": MANY,
                                              "customer_instrument": V1},
                         headers=tenant.headers()).get_json()
    client.post(f"/v1/surveys/{survey['id']}/open", headers=tenant.headers())
    rng = random.Random(8)
    items = [{"submission_id": f"c{i}", "answers": healthy_customer(
        rng, rng.choice(["new", "long_standing"]), rng.choice(["small", "large"])),
        "attributes": {name: rng.choice(values) for name, values in MANY.items()}}
        for i in range(40)]
    items += [{"submission_id": f"v{i}", "instrument": "vendor",
               "answers": healthy_vendor(rng, "sales")} for i in range(3)]
    posted = client.post(f"/v1/surveys/{survey['id']}/responses:batch",
                         json={"responses": items}, headers=tenant.headers())
    assert posted.get_json()["created"] == 43
    return survey


def keys_of(response):
    assert response.status_code == 200, response.get_json()
    return {s["key"] for s in response.get_json()["segments"]}


def test_segment_by_in_every_form_a_user_would_try(scoring, tenant, filled_survey):
    url = f"/v1/surveys/{filled_survey['id']}/report"
    headers = tenant.headers("read")
    cross = "size=large|tenure=new"
    plain = keys_of(scoring.get(url, headers=headers))
    assert cross not in plain
    assert keys_of(scoring.get(f"{url}?segment_by=size", headers=headers)) == plain
    for form in ("size,tenure", "tenure,size", "size+tenure", "Size + Tenure", " size , tenure ",
                 "size x tenure", "size|tenure", "SIZE;TENURE", "company_size,tenure",
                 "size and tenure"):
        assert cross in keys_of(scoring.get(url, query_string={"segment_by": form},
                                            headers=headers)), form
    repeated = scoring.get(f"{url}?segment_by=size&segment_by=tenure", headers=headers)
    assert cross in keys_of(repeated)
    unknown = scoring.get(url, query_string={"segment_by": "size,shoe"}, headers=headers)
    assert unknown.status_code == 422
    error = unknown.get_json()["errors"][0]
    assert error["field"] == "segment_by.0" and "'shoe'" in error["reason"]


def test_explain_takes_segment_keys_in_any_order_and_case(scoring, tenant, filled_survey):
    url = f"/v1/surveys/{filled_survey['id']}/report/explain"
    answers = [scoring.get(url, query_string={"dimension": "A1", "segment": key},
                           headers=tenant.headers()) for key in
               ("size=large|tenure=new", "tenure=new|size=large", "Tenure=New, Size=Large")]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.get_json()["segment"] for a in answers} == {"size=large|tenure=new"}
    assert answers[0].get_json()["inputs"] == answers[2].get_json()["inputs"]
    malformed = scoring.get(url, query_string={"dimension": "A1", "segment": "size"},
                            headers=tenant.headers())
    assert malformed.status_code == 422
    assert malformed.get_json()["errors"][0]["field"] == "segment"


def test_crosses_over_many_segment_values_are_refused_not_computed(scoring, tenant,
                                                                   wide_survey):
    url = f"/v1/surveys/{wide_survey['id']}/report"
    headers = tenant.headers("read")
    plain = scoring.get(url, headers=headers)
    assert plain.status_code == 200  # the default report stays within its own limits
    # Its 40 customers fall in too many pairs of values for two-way crosses to fit the limit
    # on segments examined, so crosses are not available at all here.
    for form, words in (("aa,bb", "at most 1"), ("aa,bb,cc,dd", "at most 1")):
        refused = scoring.get(url, query_string={"segment_by": form}, headers=headers)
        assert refused.status_code == 422, form
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        error = refused.get_json()["errors"][0]
        assert error["field"] == "segment_by.0" and words in error["reason"]
    explain = scoring.get(f"{url}/explain", query_string={
        "dimension": "A1", "segment": "aa=v01|bb=v01|cc=v01|dd=v01"}, headers=headers)
    assert explain.status_code == 422
    assert explain.get_json()["errors"][0]["field"] == "segment"


def test_stateless_scoring_caps_segments_and_crosses(scoring, tenant):
    rng = random.Random(3)
    responses = [{"answers": healthy_customer(rng, "new", "small"),
                  "attributes": {"aa": rng.choice(MANY["aa"]), "bb": rng.choice(MANY["bb"])}}
                 for _ in range(12)]
    body = {"segments": MANY, "segment_by": ["aa,bb"], "responses": responses, "instrument": V1,
            "vendor_responses": [{"answers": healthy_vendor(rng, "sales")}]}
    refused = scoring.post("/v1/score", json=body, headers=tenant.headers("read"))
    assert refused.status_code == 422
    error = refused.get_json()["errors"][0]
    assert error["field"] == "segment_by.0" and "2500 combinations" in error["reason"]
    too_many = {f"s{i}": ["x", "y"] for i in range(11)}
    schema = scoring.post("/v1/score", json={**body, "segments": too_many, "segment_by": []},
                          headers=tenant.headers("read"))
    assert schema.status_code == 422
    assert any(e["field"].startswith("segments") for e in schema.get_json()["errors"])
    fine = scoring.post("/v1/score", json={**body, "segment_by": []},
                        headers=tenant.headers("read"))
    assert fine.status_code == 200
    scored = fine.get_json()  # the stateless report carries the same findings contract
    assert isinstance(scored["headline"], str) and isinstance(scored["findings"], list)
    assert all("confidence" in r for r in scored["recommendations"])


def test_a_brief_over_a_huge_cross_is_refused(pdf_client, tenant, wide_survey):
    answer = pdf_client.post("/v1/briefs", json={
        "survey_id": wide_survey["id"], "segments": ["aa=v01|bb=v02"]},
        headers=tenant.headers())
    assert answer.status_code == 422
    assert "Crosses of 2 segments are not available" in answer.get_json()["detail"]
