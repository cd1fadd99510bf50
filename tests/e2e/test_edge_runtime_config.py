"""The synthesized edge config learns its issuers from the local stack at run time, as it would from CloudFront.

The stack's own edge runs the same mechanism (its bundled config names no dev IdP; the edge fetches the
API's document through the gateway at its first viewer request). This test also takes the config `cdk synth` bundles for dev, points it at the stack's gateway as the distribution, and
drives the edge handler with it in-process: the dev IdP issuer it trusts comes from the stack's API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from edge import handler
from infra.components.edge import REMOTE_CONFIG_PATH, edge_config
from infra.config import EnvironmentConfig
from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import idp_token

pytestmark = pytest.mark.e2e


def _viewer_request(domain: str, uri: str, token: str | None) -> dict[str, Any]:
    headers = {"host": [{"key": "Host", "value": domain}]}
    if token:
        headers["authorization"] = [{"key": "Authorization", "value": f"Bearer {token}"}]
    cf = {
        "config": {
            "distributionDomainName": domain,
            "distributionId": "ELOCAL",
            "eventType": "viewer-request",
            "requestId": "e2e-remote-config",
        },
        "request": {
            "clientIp": "127.0.0.1",
            "headers": headers,
            "method": "GET",
            "querystring": "",
            "uri": uri,
        },
    }
    return {"Records": [{"cf": cf}]}


@pytest.fixture
def synthesized_edge(stack: RunningStack) -> Iterator[str]:
    bundled = edge_config(EnvironmentConfig(name="dev", session_issuer=stack.state.session_issuer))
    assert "_local/idp" not in str(bundled), "the bundle must not know the IdP: the stack's API tells it"
    handler.configure(bundled)
    yield str(urlsplit(stack.url).netloc)
    handler.configure(None)


def test_stack_serves_the_edge_document_through_its_edge(stack: RunningStack) -> None:
    document = stack.client().get(REMOTE_CONFIG_PATH)
    assert document.status_code == 200
    issuers = {entry["issuer"] for entry in document.json()["issuers"]}
    assert issuers == {stack.state.session_issuer, stack.state.idp_issuer}


def test_synthesized_edge_config_trusts_the_dev_idp_it_learns_from_the_stack(
    stack: RunningStack, synthesized_edge: str
) -> None:
    token = idp_token(stack, "remote-config@example.com", "remote-config")
    accepted = handler.viewer_request(_viewer_request(synthesized_edge, "/api/v1/me", token))
    assert "status" not in accepted, accepted
    assert accepted["headers"]["x-auth-user"][0]["value"]
    forged = handler.viewer_request(_viewer_request(synthesized_edge, "/api/v1/me", token[:-4] + "AAAA"))
    assert forged["status"] == "401"


def test_local_stack_edge_loads_the_document_through_the_gateway(stack: RunningStack) -> None:
    bundled = (stack.root / "edge-config.json").read_text()
    assert stack.state.idp_issuer not in bundled
    assert REMOTE_CONFIG_PATH in bundled
    assert stack.client().get("/api/v1/health").status_code == 200  # a viewer request: the edge fetches
    log = stack.log.read_text(errors="replace")
    assert "remote edge config loaded" in log
    assert "remote edge config unavailable" not in log
