from __future__ import annotations

import uuid

from saascore.billing.plans import PLANS


def create(api, session, name="P", **extra):
    response = api.client.post("/api/v1/projects", json={"name": name, **extra}, headers=session.headers)
    assert response.status_code == 201, response.text
    return response


def test_create_get_update_delete_restore_with_audit(api):
    owner = api.sign_up()
    created = create(api, owner, "Alpha", description="first")
    project = created.json()
    assert created.headers["etag"] == '"v1"'
    assert created.headers["location"] == f"/api/v1/projects/{project['id']}"
    assert project["created_by"] == str(owner.user_id)

    got = api.client.get(f"/api/v1/projects/{project['id']}", headers=owner.headers)
    assert got.status_code == 200
    assert got.headers["etag"] == '"v1"'

    patched = api.client.patch(
        f"/api/v1/projects/{project['id']}",
        json={"name": "Beta"},
        headers={**owner.headers, "If-Match": '"v1"'},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Beta"
    assert patched.headers["etag"] == '"v2"'

    deleted = api.client.delete(f"/api/v1/projects/{project['id']}", headers=owner.headers)
    assert deleted.status_code == 204
    listed = api.client.get("/api/v1/projects", headers=owner.headers).json()
    assert listed["items"] == []
    trash = api.client.get("/api/v1/projects?deleted=true", headers=owner.headers).json()
    assert [item["id"] for item in trash["items"]] == [project["id"]]
    assert (
        api.client.patch(
            f"/api/v1/projects/{project['id']}",
            json={"name": "X"},
            headers={**owner.headers, "If-Match": "*"},
        ).status_code
        == 404
    )

    restored = api.client.post(f"/api/v1/projects/{project['id']}/restore", headers=owner.headers)
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None

    audit = api.client.get(
        f"/api/v1/audit-logs?resource_type=project&resource_id={project['id']}", headers=owner.headers
    ).json()
    actions = [entry["action"] for entry in audit["items"]]
    assert actions == ["project.restored", "project.deleted", "project.updated", "project.created"]
    update = audit["items"][2]
    assert update["before"] == {"name": "Alpha", "updated_at": update["before"]["updated_at"], "version": 1}
    assert update["after"]["name"] == "Beta"
    assert update["actor_user_id"] == str(owner.user_id)
    assert update["request_id"]
    assert update["ip"] == "127.0.0.1" or update["ip"] is None


def test_patch_requires_if_match_and_detects_conflicts(api):
    owner = api.sign_up()
    project = create(api, owner).json()
    url = f"/api/v1/projects/{project['id']}"
    missing = api.client.patch(url, json={"name": "N"}, headers=owner.headers)
    assert missing.status_code == 428
    first = api.client.patch(url, json={"name": "N1"}, headers={**owner.headers, "If-Match": '"v1"'})
    assert first.status_code == 200
    stale = api.client.patch(url, json={"name": "N2"}, headers={**owner.headers, "If-Match": '"v1"'})
    assert stale.status_code == 412
    assert stale.json()["current_etag"] == '"v2"'
    assert api.client.get(url, headers=owner.headers).json()["name"] == "N1"


def test_unknown_fields_nulls_and_bad_input_are_problems(api):
    owner = api.sign_up()
    unknown = api.client.post("/api/v1/projects", json={"name": "x", "owner": "me"}, headers=owner.headers)
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    assert {"detail": unknown.json()["errors"][0]["detail"], "pointer": "#/owner"} == unknown.json()[
        "errors"
    ][0]
    empty = api.client.post("/api/v1/projects", json={"name": ""}, headers=owner.headers)
    assert empty.json()["errors"][0]["pointer"] == "#/name"
    malformed = api.client.post(
        "/api/v1/projects", content=b"{nope", headers={**owner.headers, "content-type": "application/json"}
    )
    assert malformed.status_code == 400
    bad_id = api.client.get("/api/v1/projects/not-a-uuid", headers=owner.headers)
    assert bad_id.status_code == 422
    assert bad_id.json()["errors"][0]["path"] == "project_id"
    bad_limit = api.client.get("/api/v1/projects?limit=1000", headers=owner.headers)
    assert bad_limit.status_code == 422
    assert bad_limit.json()["errors"][0]["query"] == "limit"
    project = create(api, owner).json()
    null_name = api.client.patch(
        f"/api/v1/projects/{project['id']}", json={"name": None}, headers={**owner.headers, "If-Match": "*"}
    )
    assert null_name.status_code == 422
    missing = api.client.get(f"/api/v1/projects/{uuid.uuid4()}", headers=owner.headers)
    assert missing.status_code == 404


def test_body_size_limit(api):
    owner = api.sign_up()
    huge = {"name": "x", "description": "y" * 300_000}
    response = api.client.post("/api/v1/projects", json=huge, headers=owner.headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_free_plan_project_limit_is_402(api):
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, "free")
    limit = PLANS["free"].entitlements.max_projects
    assert limit is not None
    ids = [create(api, owner, f"p{i}").json()["id"] for i in range(limit)]
    refused = api.client.post("/api/v1/projects", json={"name": "one too many"}, headers=owner.headers)
    assert refused.status_code == 402
    assert refused.json()["type"].endswith("/plan-limit-reached")
    assert refused.json()["limit"] == limit
    # Soft-deleted projects do not count, but restoring past the limit is refused too.
    api.client.delete(f"/api/v1/projects/{ids[0]}", headers=owner.headers)
    create(api, owner, "replacement")
    assert api.client.post(f"/api/v1/projects/{ids[0]}/restore", headers=owner.headers).status_code == 402


def test_lapsed_trial_counts_as_free(api):
    owner = api.sign_up()
    api.owner_sql(
        owner.tenant_id,
        "UPDATE tenants SET trial_ends_at = now() - interval '1 day' WHERE id = %s",
        (owner.tenant_id,),
    )
    me = api.client.get("/api/v1/me", headers=owner.headers).json()
    assert me["plan"] == "free"


def test_list_filters_sort_and_cursor(api):
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, "pro")
    for name in ("delta", "alpha", "charlie", "bravo", "echo"):
        create(api, owner, name, status="archived" if name in ("alpha", "echo") else "active")

    def names(query):
        collected, cursor = [], None
        while True:
            url = f"/api/v1/projects?limit=2&{query}" + (f"&cursor={cursor}" if cursor else "")
            page = api.client.get(url, headers=owner.headers)
            assert page.status_code == 200, page.text
            body = page.json()
            collected += [item["name"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                return collected

    assert names("sort=name") == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert names("sort=-name") == ["echo", "delta", "charlie", "bravo", "alpha"]
    assert names("sort=created_at") == ["delta", "alpha", "charlie", "bravo", "echo"]
    assert names("") == ["echo", "bravo", "charlie", "alpha", "delta"]
    assert names("status=archived&sort=name") == ["alpha", "echo"]
    assert names("q=HAR") == ["charlie"]
    assert names("q=%25") == []
    # A cursor is bound to its query: reusing it with another sort is a 400, a forged one too.
    cursor = api.client.get("/api/v1/projects?limit=2&sort=name", headers=owner.headers).json()["next_cursor"]
    assert (
        api.client.get(f"/api/v1/projects?sort=-name&cursor={cursor}", headers=owner.headers).status_code
        == 400
    )
    assert api.client.get("/api/v1/projects?cursor=Zm9v", headers=owner.headers).status_code == 400


def test_pagination_is_stable_under_concurrent_inserts(api):
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, "pro")
    original = {create(api, owner, f"orig-{i:02d}").json()["id"] for i in range(23)}
    for sort in ("-created_at", "created_at", "name"):
        seen: list[str] = []
        cursor = None
        while True:
            url = f"/api/v1/projects?limit=5&sort={sort}" + (f"&cursor={cursor}" if cursor else "")
            body = api.client.get(url, headers=owner.headers).json()
            seen += [item["id"] for item in body["items"]]
            # Another writer inserts between every page fetch; some sort before, some after the cursor.
            create(api, owner, f"new-{len(seen):03d}")
            create(api, owner, f"aaa-{len(seen):03d}")
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)), f"duplicates with sort={sort}"
        assert original <= set(seen), f"rows skipped with sort={sort}"
