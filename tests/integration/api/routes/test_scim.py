"""SCIM 2.0 through the real app: tokens, Users and Groups in the forms Entra ID and Okta send, deprovisioning
ending sessions at once, the group → role mapping, the SCIM error format, and tenant isolation."""

from __future__ import annotations

import uuid

import pytest

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class Scim:
    def __init__(self, api, owner):
        self.api, self.owner = api, owner
        created = api.client.post("/api/v1/scim-tokens", json={"name": "idp"}, headers=owner.headers)
        assert created.status_code == 201, created.text
        self.token_row = created.json()
        self.headers = {"Authorization": f"Bearer {self.token_row['token']}", "content-type": SCIM}

    def call(self, method, path, body=None, **headers):
        return self.api.client.request(
            method, f"/scim/v2{path}", json=body, headers={**self.headers, **headers}
        )

    def user(self, user_name, **extra):
        body = {
            "schemas": [USER],
            "userName": user_name,
            "emails": [{"value": user_name, "primary": True}],
            **extra,
        }
        response = self.call("POST", "/Users", body)
        assert response.status_code == 201, response.text
        return response.json()

    def patch(self, path, *operations):
        return self.call("PATCH", path, {"schemas": [PATCH], "Operations": list(operations)})


@pytest.fixture
def scim(api):
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, "pro")
    return Scim(api, owner)


def assert_scim_error(response, status, scim_type=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == SCIM
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type
    return body


def _members(api, owner):
    return api.client.get("/api/v1/members?limit=100", headers=owner.headers).json()["items"]


def test_token_is_shown_once_hashed_rotatable_and_revocable(api, scim):
    token = scim.token_row["token"]
    assert token.startswith(scim.token_row["prefix"] + "_")
    listed = api.client.get("/api/v1/scim-tokens", headers=scim.owner.headers).json()["items"]
    assert "token" not in listed[0]
    stored = api.owner_sql(scim.owner.tenant_id, "SELECT secret_hash FROM scim_tokens")[0][0]
    assert token.split("_")[-1].encode() not in bytes(stored)
    assert scim.call("GET", "/Users").status_code == 200
    rotated = api.client.post(
        f"/api/v1/scim-tokens/{scim.token_row['id']}/rotate", headers=scim.owner.headers
    )
    assert rotated.status_code == 201
    assert_scim_error(scim.call("GET", "/Users"), 401)
    new_headers = {"Authorization": f"Bearer {rotated.json()['token']}"}
    assert scim.call("GET", "/Users", **new_headers).status_code == 200
    revoked = api.client.delete(f"/api/v1/scim-tokens/{rotated.json()['id']}", headers=scim.owner.headers)
    assert revoked.status_code == 204
    body = assert_scim_error(scim.call("GET", "/Users", **new_headers), 401)
    assert body["detail"] == "the SCIM token was revoked"
    actions = [
        row[0]
        for row in api.owner_sql(
            scim.owner.tenant_id,
            "SELECT action FROM audit_logs WHERE resource_type = 'scim_token' ORDER BY created_at",
        )
    ]
    assert actions == ["scim_token.created", "scim_token.rotated", "scim_token.revoked"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer nope", "Basic abc", f"Bearer scim_{'0' * 16}_{'0' * 64}"],
)
def test_requests_without_a_valid_token_are_scim_401s(api, scim, authorization):
    headers = {"Authorization": authorization} if authorization else {"Authorization": ""}
    response = api.client.get("/scim/v2/Users", headers=headers)
    assert_scim_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_session_token_is_not_a_scim_token(api, scim):
    assert_scim_error(api.client.get("/scim/v2/Users", headers=scim.owner.headers), 401)


def test_provisioning_invites_and_sign_in_joins(api, scim):
    created = scim.user("bo@acme.example", name={"givenName": "Bo"}, externalId="ext-1")
    assert created["meta"]["location"] == f"/scim/v2/Users/{created['id']}"
    invited = [m for m in _members(api, scim.owner) if m["invited_email"] == "bo@acme.example"]
    assert invited
    assert invited[0]["status"] == "invited"
    assert invited[0]["role"] == "member"
    bo = api.sign_in(scim.owner.tenant_id, email="bo@acme.example")
    assert bo.role == "member"
    assert api.client.get("/api/v1/projects", headers=bo.headers).status_code == 200


def test_filters_and_pagination(scim):
    for n in range(3):
        scim.user(f"u{n}@acme.example", externalId=f"e{n}", displayName=f"User {n}")
    by_name = scim.call("GET", '/Users?filter=userName eq "U1@ACME.example"').json()
    assert [r["userName"] for r in by_name["Resources"]] == ["u1@acme.example"]
    assert scim.call("GET", '/Users?filter=externalId eq "e2"').json()["totalResults"] == 1
    assert scim.call("GET", '/Users?filter=externalId eq "E2"').json()["totalResults"] == 0  # caseExact
    assert scim.call("GET", '/Users?filter=displayName eq "user 0"').json()["totalResults"] == 1
    page = scim.call("GET", "/Users?startIndex=2&count=1").json()
    assert page["totalResults"] == 3
    assert page["startIndex"] == 2
    assert page["itemsPerPage"] == 1
    assert page["Resources"][0]["userName"] == "u1@acme.example"
    assert scim.call("GET", "/Users?count=0").json()["Resources"] == []
    for bad in ('userName co "u"', 'userName eq "a" or userName eq "b"', 'title eq "x"', "userName eq"):
        assert_scim_error(scim.call("GET", f"/Users?filter={bad}"), 400, "invalidFilter")


def test_duplicate_user_name_is_a_uniqueness_conflict(scim):
    scim.user("dup@acme.example")
    response = scim.call("POST", "/Users", {"schemas": [USER], "userName": "DUP@acme.example"})
    assert_scim_error(response, 409, "uniqueness")


def test_entra_deactivation_ends_the_sessions_at_once(api, scim):
    created = scim.user("carol@acme.example")
    carol = api.sign_in(scim.owner.tenant_id, email="carol@acme.example")
    second = api.sign_in(scim.owner.tenant_id, email="carol@acme.example")
    assert api.client.get("/api/v1/projects", headers=carol.headers).status_code == 200
    response = scim.patch(f"/Users/{created['id']}", {"op": "Replace", "path": "active", "value": "False"})
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    for session in (carol, second):
        assert api.client.get("/api/v1/projects", headers=session.headers).status_code == 401
    assert not [m for m in _members(api, scim.owner) if m["email"] == "carol@acme.example"]
    # Okta reactivates with a no-path replace; the person is a member again (they signed in before).
    back = scim.patch(f"/Users/{created['id']}", {"op": "replace", "value": {"active": True}})
    assert back.status_code == 200
    assert back.json()["active"] is True
    assert [m["status"] for m in _members(api, scim.owner) if m["email"] == "carol@acme.example"] == [
        "active"
    ]
    reasons = api.owner_sql(
        scim.owner.tenant_id,
        "SELECT action FROM audit_logs WHERE action IN ('member.provisioned', 'member.deprovisioned') ORDER BY created_at",
    )
    assert [r[0] for r in reasons] == ["member.provisioned", "member.deprovisioned", "member.provisioned"]


def test_delete_ends_the_sessions_and_the_membership(api, scim):
    created = scim.user("dan@acme.example")
    dan = api.sign_in(scim.owner.tenant_id, email="dan@acme.example")
    assert scim.call("DELETE", f"/Users/{created['id']}").status_code == 204
    assert api.client.get("/api/v1/me", headers=dan.headers).status_code == 401
    assert_scim_error(scim.call("GET", f"/Users/{created['id']}"), 404)


def test_the_last_owner_cannot_be_deprovisioned(api, scim):
    created = scim.user(scim.owner.email)
    response = scim.patch(f"/Users/{created['id']}", {"op": "replace", "path": "active", "value": False})
    assert_scim_error(response, 409)
    assert api.client.get("/api/v1/me", headers=scim.owner.headers).status_code == 200
    assert scim.call("GET", f"/Users/{created['id']}").json().get("active") is not False


def test_entra_and_okta_patch_forms(scim):
    created = scim.user(
        "eve@acme.example", emails=[{"value": "eve@acme.example", "type": "work", "primary": True}]
    )
    response = scim.patch(
        f"/Users/{created['id']}",
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "eve@corp.example"},
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "mgr-1"},
        {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "R&D"},
        {"op": "Replace", "path": "name.familyName", "value": "Smith"},
        {"op": "add", "value": {"displayName": "Eve S", "title": "Engineer"}},
        {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 555 0100"},
    )
    assert response.status_code == 200, response.text
    user = response.json()
    assert user["emails"] == [{"value": "eve@corp.example", "type": "work", "primary": True}]
    assert user[ENTERPRISE] == {"manager": {"value": "mgr-1"}, "department": "R&D"}
    assert user["name"] == {"familyName": "Smith"}
    assert (user["displayName"], user["title"]) == ("Eve S", "Engineer")
    assert user["phoneNumbers"] == [{"type": "mobile", "value": "+1 555 0100"}]
    assert ENTERPRISE in user["schemas"]
    removed = scim.patch(f"/Users/{created['id']}", {"op": "Remove", "path": f"{ENTERPRISE}:manager"})
    assert removed.json()[ENTERPRISE] == {"department": "R&D"}


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "replace", "path": "favouriteColour", "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": "name.nickname", "value": "x"}, "invalidPath"),
        ({"op": "remove", "path": 'emails[type eq "work"'}, "invalidPath"),
        ({"op": "replace", "path": "id", "value": "x"}, "mutability"),
        ({"op": "remove"}, "noTarget"),
        ({"op": "replace", "path": "active", "value": "maybe"}, "invalidValue"),
        ({"op": "remove", "path": "userName"}, "invalidValue"),
        ({"op": "move", "path": "title", "value": "x"}, "invalidSyntax"),
    ],
)
def test_bad_patches_are_refused_and_change_nothing(scim, operation, scim_type):
    created = scim.user("frank@acme.example", title="Before")
    response = scim.patch(
        f"/Users/{created['id']}", {"op": "replace", "path": "title", "value": "After"}, operation
    )
    assert_scim_error(response, 400, scim_type)
    after = scim.call("GET", f"/Users/{created['id']}").json()
    assert after["title"] == "Before"
    assert after["meta"]["version"] == created["meta"]["version"]


def test_malformed_and_unknown_bodies(scim):
    bad_json = scim.api.client.post("/scim/v2/Users", content=b"{nope", headers=scim.headers)
    assert_scim_error(bad_json, 400, "invalidSyntax")
    unknown = scim.call("POST", "/Users", {"schemas": [USER], "userName": "g@acme.example", "shoeSize": 9})
    assert_scim_error(unknown, 400, "invalidSyntax")
    no_schema = scim.call("POST", "/Users", {"userName": "g@acme.example"})
    assert_scim_error(no_schema, 400, "invalidSyntax")
    assert_scim_error(scim.call("GET", "/Users?startIndex=abc"), 400, "invalidValue")
    assert_scim_error(scim.call("GET", "/Nothing"), 404)
    assert scim.call("GET", '/Users?filter=userName eq "g@acme.example"').json()["totalResults"] == 0


def test_an_oversized_body_is_a_413_scim_error(scim):
    limit = scim.call("GET", "/ServiceProviderConfig").json()["bulk"]["maxPayloadSize"]
    body = {"schemas": [USER], "userName": "big@acme.example", "title": "x" * limit}
    response = scim.call("POST", "/Users", body)
    assert_scim_error(response, 413)
    assert scim.call("GET", '/Users?filter=userName eq "big@acme.example"').json()["totalResults"] == 0


def test_groups_members_and_role_mapping(api, scim):
    user = scim.user("gina@acme.example")
    gina = api.sign_in(scim.owner.tenant_id, email="gina@acme.example")
    group = scim.call(
        "POST", "/Groups", {"schemas": [GROUP], "displayName": "Admins", "externalId": "g-1"}
    ).json()
    mapped = api.client.put(
        f"/api/v1/scim-groups/{group['id']}/role", json={"role": "admin"}, headers=scim.owner.headers
    )
    assert mapped.status_code == 200, mapped.text
    added = scim.patch(
        f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": user["id"]}]}
    )
    assert added.status_code == 200, added.text
    assert [m["value"] for m in added.json()["members"]] == [user["id"]]
    me = api.client.get("/api/v1/me", headers=gina.headers).json()
    assert me["role"] == "admin"
    listed = scim.call("GET", f"/Users/{user['id']}").json()
    assert listed["groups"][0]["value"] == group["id"]
    assert listed["groups"][0]["display"] == "Admins"
    assert scim.call("GET", '/Groups?filter=displayName eq "admins"').json()["totalResults"] == 1
    removed = scim.patch(
        f"/Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{user["id"]}"]'}
    )
    assert removed.status_code == 200
    assert "members" not in removed.json()
    assert api.client.get("/api/v1/me", headers=gina.headers).json()["role"] == "member"
    okta = scim.patch(
        f"/Groups/{group['id']}",
        {"op": "replace", "value": {"id": group["id"], "displayName": "Administrators"}},
    )
    assert okta.json()["displayName"] == "Administrators"
    groups = api.client.get("/api/v1/scim-groups", headers=scim.owner.headers).json()["items"]
    assert groups == [
        {
            "id": group["id"],
            "display_name": "Administrators",
            "external_id": "g-1",
            "role": "admin",
            "member_count": 0,
        }
    ]


def test_group_members_must_be_this_tenants_users(scim):
    response = scim.call(
        "POST",
        "/Groups",
        {"schemas": [GROUP], "displayName": "Ghosts", "members": [{"value": str(uuid.uuid4())}]},
    )
    assert_scim_error(response, 400, "invalidValue")
    assert scim.call("GET", "/Groups").json()["totalResults"] == 0


def test_owner_cannot_be_mapped_and_admins_cannot_map_above_themselves(api, scim):
    group = scim.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "Top"}).json()
    url = f"/api/v1/scim-groups/{group['id']}/role"
    assert api.client.put(url, json={"role": "owner"}, headers=scim.owner.headers).status_code == 422
    assert api.client.put(url, json={"role": "nope"}, headers=scim.owner.headers).status_code == 422
    api.client.post(
        "/api/v1/roles",
        json={"key": "biller", "name": "Biller", "permissions": ["billing:manage"]},
        headers=scim.owner.headers,
    )
    admin = api.join(scim.owner, "admin")
    assert api.client.put(url, json={"role": "biller"}, headers=admin.headers).status_code == 403


def test_one_tenants_token_never_reaches_another_tenant(api, scim):
    other = Scim(api, api.sign_up())
    theirs = other.user("secret@other.example")
    group = other.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "Theirs"}).json()
    for method, path, body in (
        ("GET", f"/Users/{theirs['id']}", None),
        ("PUT", f"/Users/{theirs['id']}", {"schemas": [USER], "userName": "x@acme.example"}),
        (
            "PATCH",
            f"/Users/{theirs['id']}",
            {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": False}]},
        ),
        ("DELETE", f"/Users/{theirs['id']}", None),
        ("GET", f"/Groups/{group['id']}", None),
        ("DELETE", f"/Groups/{group['id']}", None),
    ):
        assert_scim_error(scim.call(method, path, body), 404)
    for path in ("/Users", "/Groups", '/Users?filter=userName eq "secret@other.example"'):
        text = scim.call("GET", path).text
        assert "secret@other.example" not in text
        assert theirs["id"] not in text
        assert group["id"] not in text
    assert other.call("GET", f"/Users/{theirs['id']}").json().get("active") is not False


def test_scim_leaves_roles_it_did_not_grant(api, scim):
    """Linking an existing admin does not demote them; a role SCIM grants through a group it takes back."""
    admin = api.join(scim.owner, "admin", email="ivy@acme.example")
    user = scim.user("ivy@acme.example")
    assert api.client.get("/api/v1/me", headers=admin.headers).json()["role"] == "admin"
    group = scim.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "Viewers"}).json()
    api.client.put(
        f"/api/v1/scim-groups/{group['id']}/role", json={"role": "viewer"}, headers=scim.owner.headers
    )
    scim.patch(f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": user["id"]}]})
    assert api.client.get("/api/v1/me", headers=admin.headers).json()["role"] == "viewer"
    scim.patch(f"/Groups/{group['id']}", {"op": "remove", "path": "members"})
    assert api.client.get("/api/v1/me", headers=admin.headers).json()["role"] == "member"
    unmapped = scim.call(
        "POST", "/Groups", {"schemas": [GROUP], "displayName": "Plain", "members": [{"value": user["id"]}]}
    )
    assert unmapped.status_code == 201
    assert api.client.get("/api/v1/me", headers=admin.headers).json()["role"] == "member"


def test_the_plan_member_limit_applies_and_nothing_is_written(api):
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, "free")  # 3 members
    scim = Scim(api, owner)
    scim.user("m1@acme.example")
    scim.user("m2@acme.example")
    response = scim.call("POST", "/Users", {"schemas": [USER], "userName": "m3@acme.example"})
    assert_scim_error(response, 403)
    assert "3 members" in response.json()["detail"]
    assert scim.call("GET", '/Users?filter=userName eq "m3@acme.example"').json()["totalResults"] == 0
    assert len(_members(api, owner)) == 3


def test_a_user_without_an_email_grants_nothing(api):
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, "free")
    scim = Scim(api, owner)
    for n in range(3):  # at the member limit, a user who provisions no membership is still accepted
        response = scim.call("POST", "/Users", {"schemas": [USER], "userName": f"service-account-{n}"})
        assert response.status_code == 201, response.text
    assert len(_members(api, owner)) == 1
