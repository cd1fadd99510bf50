"""Through the local CloudFront (edge triggers, OAC overwriting Authorization, the API origin): an IdP
deprovisions a person by SCIM and their next request is refused; an API key calls the API."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import sign_in

pytestmark = pytest.mark.e2e

SCIM = "application/scim+json"


def test_scim_deactivation_refuses_the_next_request(stack: RunningStack) -> None:
    owner = sign_in(stack, "olga@scim.example", "scim-e2e")
    try:
        issued = owner.client.post("/api/v1/scim-tokens", json={"name": "idp"})
        assert issued.status_code == 201, issued.text
        with stack.client(issued.json()["token"]) as idp:
            discovery = idp.get("/scim/v2/ServiceProviderConfig")
            assert discovery.status_code == 200, discovery.text
            assert discovery.headers["content-type"] == SCIM
            created = idp.post(
                "/scim/v2/Users",
                json={
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": "pia@scim.example",
                },
                headers={"content-type": SCIM},
            )
            assert created.status_code == 201, created.text
            pia = sign_in(stack, "pia@scim.example", "scim-e2e")
            try:
                assert pia.client.get("/api/v1/projects").status_code == 200
                patched = idp.patch(
                    f"/scim/v2/Users/{created.json()['id']}",
                    json={
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
                    },
                    headers={"content-type": SCIM},
                )
                assert patched.status_code == 200, patched.text
                assert pia.client.get("/api/v1/projects").status_code == 401
            finally:
                pia.close()
        with stack.client("scim_" + "0" * 16 + "_" + "0" * 64) as stranger:
            refused = stranger.get("/scim/v2/Users")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == SCIM
    finally:
        owner.close()


def test_an_api_key_calls_the_api(stack: RunningStack) -> None:
    owner = sign_in(stack, "ken@keys.example", "keys-e2e")
    try:
        key = owner.client.post("/api/v1/api-keys", json={"name": "ci", "scopes": ["projects:read"]}).json()
        with stack.client() as machine:
            token = machine.post(
                "/api/v1/sessions/token",
                data={"grant_type": "client_credentials"},
                auth=(key["client_id"], key["client_secret"]),
            )
            assert token.status_code == 200, token.text
            access = token.json()["access_token"]
            listed = machine.get("/api/v1/projects", headers={"authorization": f"Bearer {access}"})
            assert listed.status_code == 200, listed.text
            assert owner.client.delete(f"/api/v1/api-keys/{key['id']}").status_code == 204
            after = machine.get("/api/v1/projects", headers={"authorization": f"Bearer {access}"})
            assert after.status_code == 401
    finally:
        owner.close()
