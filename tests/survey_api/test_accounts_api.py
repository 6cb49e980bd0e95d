"""API keys: scopes, revocation, one-time display, and the admin CLI."""

from __future__ import annotations

from pathlib import Path

from shared import ids


def test_me_names_the_organization_and_scopes(client, tenant):
    body = client.get("/v1/me", headers=tenant.headers("read")).get_json()
    assert body["organization"]["name"] == "Acme Analytics"
    assert body["key"]["scopes"] == ["read"]
    assert "key_hash" not in body["key"]


def test_missing_wrong_and_revoked_keys_are_401_and_missing_scope_is_403(client, tenant):
    assert client.get("/v1/keys").status_code == 401
    assert client.get("/v1/keys", headers={"Authorization": "Bearer bk_nope"}).status_code == 401
    assert client.get("/v1/keys", headers={"X-API-Key": tenant.keys["admin"]}).status_code == 200
    forbidden = client.get("/v1/keys", headers=tenant.headers("read"))
    assert forbidden.status_code == 403 and "admin" in forbidden.get_json()["detail"]

    created = client.post("/v1/keys", json={"name": "temp", "scopes": ["read"]},
                          headers=tenant.headers())
    assert created.status_code == 201
    key = created.get_json()
    assert key["key"].startswith("bk_") and key["prefix"] == key["key"][:10]
    temp = {"Authorization": f"Bearer {key['key']}"}
    assert client.get("/v1/me", headers=temp).status_code == 200
    assert client.delete(f"/v1/keys/{key['id']}", headers=tenant.headers()).status_code == 204
    assert client.get("/v1/me", headers=temp).status_code == 401
    # Shown once: the listing never contains the key itself.
    listed = client.get("/v1/keys", headers=tenant.headers()).get_json()
    assert all("key" not in k for k in listed)
    assert [k["revoked_at"] is not None for k in listed if k["id"] == key["id"]] == [True]


def test_keys_are_stored_only_as_hashes(client, tenant, settings):
    created = client.post("/v1/keys", json={"name": "x", "scopes": ["ingest"]},
                          headers=tenant.headers()).get_json()
    db_bytes = b"".join(p.read_bytes() for p in
                        Path(settings.store_url[len("sqlite:///"):]).parent.glob("test.db*"))
    assert created["key"].encode() not in db_bytes
    assert ids.hash_secret(created["key"]).encode() in db_bytes


def test_another_tenants_key_cannot_be_revoked(client, tenant, other_tenant):
    mine = client.get("/v1/keys", headers=tenant.headers()).get_json()[0]
    response = client.delete(f"/v1/keys/{mine['id']}", headers=other_tenant.headers())
    assert response.status_code == 404
    assert client.get("/v1/me", headers=tenant.headers()).status_code == 200


def test_cli_creates_orgs_issues_and_revokes_keys(runner, client):
    result = runner.invoke(args=["create-org", "Initech"])
    assert result.exit_code == 0
    org_id = result.stdout.strip()  # stderr names the store
    result = runner.invoke(args=["issue-key", org_id, "--scope", "ingest", "--scope", "read"])
    assert result.exit_code == 0, result.output
    key = result.output.split("key:")[1].split()[0]
    key_id = result.output.split("key id:")[1].split()[0]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert me["organization"]["id"] == org_id and me["key"]["scopes"] == ["ingest", "read"]
    assert runner.invoke(args=["revoke-key", org_id, key_id]).exit_code == 0
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    duplicate = runner.invoke(args=["create-org", "Initech"])
    assert duplicate.exit_code != 0 and "exists" in duplicate.output


def test_seed_demo_is_idempotent(runner, tmp_path, store):
    key_file = tmp_path / "demo-key"
    first = runner.invoke(args=["seed-demo", "--key-file", str(key_file)])
    second = runner.invoke(args=["seed-demo", "--key-file", str(key_file)])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "created" in first.output and "found" in second.output
    key = key_file.read_text().strip()
    assert key in first.output and key in second.output
    assert oct(key_file.stat().st_mode)[-3:] == "600"
    org = store.organizations.find_by_name("Demo Vendor")
    assert len(store.surveys.list(org.id).items) == 1
