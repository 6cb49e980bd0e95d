"""Surveys: defaults, segment definitions, the draft/open/closed cycle, pagination."""

from __future__ import annotations


def test_a_new_survey_pins_the_latest_builtin_instruments_and_their_segments(client, tenant):
    created = client.post("/v1/surveys", json={"name": "Q1"}, headers=tenant.headers())
    assert created.status_code == 201
    survey = created.get_json()
    assert survey["status"] == "draft"
    assert survey["customer_instrument"] == {"id": "how-you-buy", "version": 2}  # the latest
    assert survey["vendor_instrument"] == {"id": "how-we-sell", "version": 1}
    assert survey["segments"] == {"tenure": ["new", "established", "long_standing"],
                                  "size": ["small", "midsize", "large"],
                                  "role": ["sales", "marketing", "leadership", "other"]}


def test_invalid_surveys_are_422_naming_each_field(client, tenant):
    response = client.post("/v1/surveys", json={
        "name": "", "branding": {"accent_color": "red"},
        "segments": {"Region!": ["x"]}, "customer_instrument": {"id": "x"},
    }, headers=tenant.headers())
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"name", "branding.accent_color", "segments.Region!.key"} <= fields


def test_instrument_and_segment_mistakes_are_named(client, tenant):
    h = tenant.headers()
    missing = client.post("/v1/surveys", json={"name": "x", "customer_instrument": {"id": "nope"}},
                          headers=h)
    assert missing.status_code == 422
    assert missing.get_json()["errors"][0]["field"] == "customer_instrument.id"
    wrong_kind = client.post("/v1/surveys", json={
        "name": "x", "customer_instrument": {"id": "how-we-sell"}}, headers=h)
    assert wrong_kind.status_code == 422 and "vendor" in wrong_kind.get_json()["errors"][0]["reason"]
    clash = client.post("/v1/surveys", json={"name": "x", "segments": {"size": ["smb", "ent"]}},
                        headers=h)
    assert clash.status_code == 422
    assert clash.get_json()["errors"][0]["field"] == "segments.size"


def test_drafts_change_open_surveys_do_not_and_status_moves_one_way(client, tenant):
    h = tenant.headers()
    survey = client.post("/v1/surveys", json={"name": "Draft"}, headers=h).get_json()
    url = f"/v1/surveys/{survey['id']}"
    patched = client.patch(url, json={"name": "Renamed", "segments": {"region": ["emea"]}},
                           headers=h)
    assert patched.status_code == 200
    assert patched.get_json()["name"] == "Renamed"
    assert patched.get_json()["segments"]["region"] == ["emea"]
    assert client.post(f"{url}/close", headers=h).status_code == 409  # draft cannot close
    assert client.post(f"{url}/open", headers=h).get_json()["status"] == "open"
    assert client.post(f"{url}/open", headers=h).status_code == 200  # a retry is harmless
    late = client.patch(url, json={"segments": {"region": ["emea", "apac"]}}, headers=h)
    assert late.status_code == 409  # what scores depend on is fixed once open
    assert client.post(f"{url}/close", headers=h).get_json()["status"] == "closed"
    assert client.post(f"{url}/open", headers=h).status_code == 409
    assert client.get(url, headers=h).get_json()["name"] == "Renamed"


def test_surveys_are_listed_with_a_cursor(client, tenant):
    h = tenant.headers()
    made = [client.post("/v1/surveys", json={"name": f"S{i}"}, headers=h).get_json()["id"]
            for i in range(5)]
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v1/surveys{query}", headers=h).get_json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == made
    assert client.get("/v1/surveys?limit=0", headers=h).status_code == 422


def test_read_keys_read_but_cannot_create(client, tenant):
    assert client.post("/v1/surveys", json={"name": "x"},
                       headers=tenant.headers("read")).status_code == 403
    assert client.get("/v1/surveys", headers=tenant.headers("read")).status_code == 200
