"""Waves over HTTP: settings.repeats is validated (exists, same organization, same
instruments) at creation and by PATCH, and the report of a repeating survey carries `changes`."""

from __future__ import annotations

import random

from tests.support.populations import healthy_customer, healthy_vendor


def _survey(client, tenant, **settings) -> dict:
    created = client.post("/v1/surveys", json={
        "name": "Wave", "settings": settings,
        "customer_instrument": {"id": "how-you-buy", "version": 1}},  # the answers posted
        headers=tenant.headers())
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _fill(client, tenant, survey_id, seed, late=False):
    assert client.post(f"/v1/surveys/{survey_id}/open", headers=tenant.headers()).status_code \
        == 200
    rng = random.Random(seed)
    items = []
    for i in range(120):
        answers = healthy_customer(rng, ["new", "long_standing"][i % 2],
                                   ["small", "large"][i // 2 % 2])
        if late and answers["company_size"] == "large":
            answers["first_contact_percent"] = min(100, max(0, int(rng.gauss(70, 6))))
        items.append({"submission_id": f"c{i}", "answers": answers})
    items += [{"submission_id": f"v{i}", "instrument": "vendor",
               "answers": healthy_vendor(rng, role)}
              for i, role in enumerate(["sales", "marketing", "leadership"])]
    result = client.post(f"/v1/surveys/{survey_id}/responses:batch",
                         json={"responses": items}, headers=tenant.headers())
    assert result.get_json()["created"] == 123


def _field(response):
    assert response.status_code == 422, response.get_json()
    return [e["field"] for e in response.get_json()["errors"]]


def test_repeats_must_name_an_existing_survey_of_the_same_organization(client, tenant,
                                                                       other_tenant):
    theirs = _survey(client, other_tenant)
    for wrong in ("no-such-survey", theirs["id"]):
        response = client.post("/v1/surveys", json={"name": "x", "settings": {"repeats": wrong}},
                               headers=tenant.headers())
        assert _field(response) == ["settings.repeats"]
    first = _survey(client, tenant)
    second = _survey(client, tenant, repeats=first["id"])
    assert second["settings"]["repeats"] == first["id"]
    itself = client.patch(f"/v1/surveys/{first['id']}", json={"settings": {"repeats": first["id"]}},
                          headers=tenant.headers())
    assert _field(itself) == ["settings.repeats"]
    later = client.patch(f"/v1/surveys/{first['id']}",
                         json={"settings": {"repeats": second["id"]}}, headers=tenant.headers())
    assert later.status_code == 200 and later.get_json()["settings"]["repeats"] == second["id"]


def test_repeats_must_ask_the_same_instruments(client, tenant):
    definition = client.get("/v1/instruments/how-you-buy", headers=tenant.headers()).get_json()
    copy = {k: definition[k] for k in ("kind", "title", "sections") if k in definition}
    made = client.post("/v1/instruments", json={"id": "how-you-buy-2", "version": 1, **copy},
                       headers=tenant.headers())
    assert made.status_code == 201, made.get_json()
    other = client.post("/v1/surveys", json={"name": "x",
                                             "customer_instrument": {"id": "how-you-buy-2"}},
                        headers=tenant.headers()).get_json()
    response = client.post("/v1/surveys", json={"name": "y", "settings": {"repeats": other["id"]}},
                           headers=tenant.headers())
    assert _field(response) == ["settings.repeats"]
    assert "how-you-buy-2" in response.get_json()["errors"][0]["reason"]


def test_the_report_of_a_repeating_survey_shows_what_changed(client, scoring, tenant):
    first = _survey(client, tenant)
    _fill(client, tenant, first["id"], 1)
    second = _survey(client, tenant, repeats=first["id"])
    _fill(client, tenant, second["id"], 2, late=True)
    plain = scoring.get(f"/v1/surveys/{first['id']}/report", headers=tenant.headers("read"))
    assert plain.status_code == 200 and plain.get_json()["changes"] is None
    report = scoring.get(f"/v1/surveys/{second['id']}/report", headers=tenant.headers("read"))
    assert report.status_code == 200
    changes = report.get_json()["changes"]
    assert changes["previous_survey"] == first["id"]
    top = changes["items"][0]
    assert top["significant"] and top["metric"] == "A1" and top["difference"] < 0
    assert top["filters"].get("size") == "large"


def test_the_report_counts_invited_and_completed_per_segment_value(client, scoring, tenant):
    survey = _survey(client, tenant)
    sid = survey["id"]
    assert client.post(f"/v1/surveys/{sid}/open", headers=tenant.headers()).status_code == 200
    made = client.post(f"/v1/surveys/{sid}/invitations", json={"invitations": [
        {"attributes": {"size": size}} for size in ["small"] * 40 + ["large"] * 40]},
        headers=tenant.headers())
    assert made.status_code == 201, made.get_json()
    invitations = made.get_json()["invitations"]
    rng = random.Random(5)
    answered = [i for i in invitations if i["attributes"]["size"] == "small"][:30] + \
        [i for i in invitations if i["attributes"]["size"] == "large"][:10]
    items = [{"submission_id": f"c{n}", "invitation_id": i["id"],
              "answers": healthy_customer(rng, "new", i["attributes"]["size"])}
             for n, i in enumerate(answered)]
    result = client.post(f"/v1/surveys/{sid}/responses:batch", json={"responses": items},
                         headers=tenant.headers())
    assert result.get_json()["created"] == 40, result.get_json()
    report = scoring.get(f"/v1/surveys/{sid}/report", headers=tenant.headers("read")).get_json()
    block = report["representation"]
    assert (block["invited"], block["completed"], block["response_rate"]) == (80, 40, 50.0)
    size = next(a for a in block["attributes"] if a["attribute"] == "size")
    rates = {v["value"]: (v["invited"], v["completed"], v["response_rate"]) for v in size["values"]}
    assert rates["small"] == (40, 30, 75.0) and rates["large"] == (40, 10, 25.0)
    assert size["test"]["differs"] and "size" in block["warning"]


def test_a_weighted_report_says_so_and_counts_respondents_not_weights(client, scoring, tenant):
    survey = _survey(client, tenant)
    sid = survey["id"]
    assert client.post(f"/v1/surveys/{sid}/open", headers=tenant.headers()).status_code == 200
    invitations = client.post(f"/v1/surveys/{sid}/invitations", json={"invitations": [
        {"attributes": {"size": size, "tenure": "new"}} for size in ["small"] * 40 + ["large"] * 40]},
        headers=tenant.headers()).get_json()["invitations"]
    rng = random.Random(8)
    answered = [i for i in invitations if i["attributes"]["size"] == "small"][:30] + \
        [i for i in invitations if i["attributes"]["size"] == "large"][:12]
    items = [{"submission_id": f"c{n}", "invitation_id": i["id"],
              "answers": healthy_customer(rng, "new", i["attributes"]["size"])}
             for n, i in enumerate(answered)]
    items += [{"submission_id": "v0", "instrument": "vendor",
               "answers": healthy_vendor(rng, "sales")}]
    assert client.post(f"/v1/surveys/{sid}/responses:batch", json={"responses": items},
                       headers=tenant.headers()).get_json()["created"] == 43
    base = f"/v1/surveys/{sid}/report"
    plain = scoring.get(base, headers=tenant.headers("read")).get_json()
    assert plain["weighting"]["applied"] is False and "effective_n" not in plain["overall"]
    weighted = scoring.get(base + "?weighted=true", headers=tenant.headers("read")).get_json()
    assert weighted["weighting"]["applied"] is True
    assert weighted["weighting"]["method"] == "post-stratification"
    # weights 40/80 / (30/42) = 0.7 and 40/80 / (12/42) = 1.75: n_eff = 42^2 / (30 x 0.49 +
    # 12 x 3.0625) = 34.3
    assert weighted["weighting"]["effective_n"] == 34.3
    assert weighted["overall"]["n"] == 42 and weighted["overall"]["effective_n"] == 34.3
    bad = scoring.get(base + "?weighted=perhaps", headers=tenant.headers("read"))
    assert bad.status_code == 422 and "weighted" in str(bad.get_json()["errors"])


def test_a_population_must_name_the_surveys_segments_and_values(client, scoring, tenant):
    bad = client.post("/v1/surveys", json={"name": "x", "settings": {"population": {
        "planet": {"mars": 3}, "size": {"giant": 4}}}}, headers=tenant.headers())
    assert sorted(_field(bad)) == ["settings.population.planet", "settings.population.size.giant"]
    survey = _survey(client, tenant, population={"size": {"small": 100, "midsize": 100,
                                                          "large": 800}})
    _fill(client, tenant, survey["id"], 3)  # small and large answer equally: large is short
    base = f"/v1/surveys/{survey['id']}/report"
    report = scoring.get(base, headers=tenant.headers("read")).get_json()
    size = next(a for a in report["representation"]["attributes"] if a["attribute"] == "size")
    assert size["reference"] == "population" and size["test"]["differs"]
    weighted = scoring.get(base + "?weighted=true", headers=tenant.headers("read")).get_json()
    assert weighted["weighting"]["applied"] and weighted["weighting"]["method"] == "raking"
    assert weighted["weighting"]["reference"] == "population"
    assert weighted["weighting"]["effective_n"] < weighted["overall"]["n"] == 120
