"""The SCIM server checked by an independent tool: scim2-tester (python-scim) runs its RFC 7643/7644 checks
against the real app in-process (Starlette's TestClient, no network), through a scim2-client engine.

The expected results are listed (and explained) in docs/scim.md; a check changing state fails this test.
"""

from __future__ import annotations

from typing import Any

from scim2_client import BaseSyncSCIMClient
from scim2_client.engines.inprocess import _prepare_request
from scim2_tester import Status, check_server
from starlette.testclient import TestClient


class TestClientSCIM(BaseSyncSCIMClient):
    """A scim2-client engine over Starlette's TestClient (the ASGI app in-process)."""

    __test__ = False

    def __init__(self, client: TestClient, token: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client
        self.base_url = "http://testserver/scim/v2"
        self.token = token

    def _stays_under_base_url(self, endpoint: str) -> bool:
        return endpoint.startswith("/") or endpoint.startswith(self.base_url)

    def _parse_json(self, response: Any) -> Any:
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        prepared = _prepare_request(
            self.base_url, [("Authorization", f"Bearer {self.token}")], method, url, **kwargs
        )
        target = prepared.url
        path = target.path + (f"?{target.query}" if target.query else "")
        return self.client.request(
            prepared.method, path, headers=dict(prepared.headers), content=prepared.body
        )


# Every check scim2-tester 0.5.2 runs here, by (resource type, check) -> (status, how many times it ran).
EXPECTED = {
    ("-", "service_provider_config_endpoint"): ("SUCCESS", 1),
    ("-", "service_provider_config_endpoint_methods"): ("SUCCESS", 4),
    ("-", "query_all_resource_types"): ("SUCCESS", 1),
    ("-", "query_resource_type_by_id"): ("SUCCESS", 2),
    ("-", "resource_types_schema_validation"): ("SUCCESS", 2),
    ("-", "access_invalid_resource_type"): ("SUCCESS", 1),
    ("-", "resource_types_endpoint_methods"): ("SUCCESS", 4),
    ("-", "query_all_schemas"): ("SUCCESS", 1),
    ("-", "access_schema_by_id"): ("SUCCESS", 3),
    ("-", "access_invalid_schema"): ("SUCCESS", 1),
    ("-", "schemas_endpoint_methods"): ("SUCCESS", 4),
    ("-", "random_url"): ("SUCCESS", 1),
    ("User", "object_creation"): ("SUCCESS", 1),
    ("User", "object_query"): ("SUCCESS", 1),
    ("User", "object_query_without_id"): ("SUCCESS", 1),
    ("User", "object_query_with_attributes"): ("SUCCESS", 2),
    ("User", "object_list_with_attributes"): ("SUCCESS", 2),
    ("User", "search_with_attributes"): ("SKIPPED", 1),
    ("User", "object_replacement"): ("SUCCESS", 1),
    ("User", "object_deletion"): ("SUCCESS", 1),
    ("User", "check_add_attribute"): ("SUCCESS", 21),
    ("User", "check_remove_attribute"): ("SUCCESS", 21),
    ("User", "check_replace_attribute"): ("SUCCESS", 22),
    ("Group", "object_creation"): ("SUCCESS", 1),
    ("Group", "object_query"): ("SUCCESS", 1),
    ("Group", "object_query_without_id"): ("SUCCESS", 1),
    ("Group", "object_query_with_attributes"): ("SUCCESS", 2),
    ("Group", "object_list_with_attributes"): ("SUCCESS", 2),
    ("Group", "search_with_attributes"): ("SKIPPED", 1),
    ("Group", "object_replacement"): ("SUCCESS", 1),
    ("Group", "object_deletion"): ("SUCCESS", 1),
    ("Group", "check_add_attribute"): ("SUCCESS", 2),
    ("Group", "check_remove_attribute"): ("SUCCESS", 2),
    ("Group", "check_replace_attribute"): ("SUCCESS", 3),
}


def test_scim2_tester_results(api):
    owner = api.sign_up()
    token = api.client.post("/api/v1/scim-tokens", json={"name": "tester"}, headers=owner.headers).json()[
        "token"
    ]
    results = check_server(TestClientSCIM(api.client, token))
    found: dict[tuple[str, str], tuple[str, int]] = {}
    failures = []
    for result in results:
        key = (result.resource_type or "-", str(result.title))
        status, count = found.get(key, (result.status.name, 0))
        if result.status.name != status:
            status = "MIXED"
        found[key] = (status, count + 1)
        if result.status not in (Status.SUCCESS, Status.SKIPPED):
            failures.append(f"{key}: {result.reason}")
    assert not failures, "scim2-tester checks failing:\n" + "\n".join(failures)
    assert found == EXPECTED
