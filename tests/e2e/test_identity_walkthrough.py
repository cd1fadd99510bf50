"""The identity walk-through (docs/identity.md, the issue's "done when"), run verbatim against the local stack:
only the base URL points at the test stack."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest

from local.aws import client as aws_client
from tests.conftest import REPO_ROOT
from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e

DOC = REPO_ROOT / "docs" / "identity.md"
BLOCK = re.compile(
    r"<!-- identity-walkthrough:start -->\s*```sh\n(?P<script>.*?)```\s*<!-- identity-walkthrough:end -->",
    re.S,
)


def test_the_identity_walkthrough_runs_verbatim(stack: RunningStack) -> None:
    if shutil.which("jq") is None or shutil.which("curl") is None:
        pytest.fail("the walk-through needs curl and jq on PATH (apt-get install -y curl jq)")
    match = BLOCK.search(DOC.read_text())
    assert match is not None, f"{DOC} has no identity walk-through block"
    script = match["script"]
    assert "http://127.0.0.1:8000" in script
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.replace("http://127.0.0.1:8000", stack.url)],
        cwd=REPO_ROOT,
        env={**os.environ, "SAAS_LOCAL_ROOT": str(stack.root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    lines = result.stdout.splitlines()
    assert '{"domain":"vandelay.example","verified_at":null}' not in lines
    assert any(line.startswith('{"domain":"vandelay.example","verified_at":"') for line in lines)
    signed_in = json.loads(next(line for line in lines if line.startswith('{"tenant_id"')))
    assert signed_in["role"] == "member"  # the "engineering" group's mapping
    assert '{"active":false}' in lines
    assert re.search(r"^after deactivation: HTTP 40[13]$", result.stdout, re.M)
    assert '{"projects":[]}' in lines
    # The connection is a provider in moto's Cognito, enabled on the app client.
    state = stack.state
    client = aws_client("cognito-idp", state.moto_url).describe_user_pool_client(
        UserPoolId=state.sso_user_pool_id, ClientId=state.sso_app_client_id
    )["UserPoolClient"]
    assert any(name.startswith("sso-") for name in client["SupportedIdentityProviders"])


def test_the_dev_idps_authorization_code_flow_through_the_gateway(stack: RunningStack) -> None:
    state = stack.state
    callback = "https://pool.auth.example/oauth2/idpresponse"
    with stack.client() as client:
        discovery = client.get("/_local/idp/.well-known/openid-configuration").json()
        assert discovery["authorization_endpoint"] == f"{state.idp_issuer}/authorize"
        redirect = client.get(
            "/_local/idp/authorize",
            params={
                "response_type": "code",
                "client_id": state.idp_client_id,
                "redirect_uri": callback,
                "state": "xyz",
                "login_hint": "jane@acme.example",
            },
        )
        assert redirect.status_code == 302, redirect.text
        code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
        tokens = client.post(
            "/_local/idp/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": callback},
            auth=(state.idp_client_id, "any"),
        )
        assert tokens.status_code == 200, tokens.text
        assert tokens.json()["token_type"] == "Bearer"
        assert client.post(
            "/_local/idp/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": callback},
            auth=(state.idp_client_id, "any"),
        ).json() == {"error": "invalid_grant"}
        assert client.post("/_local/idp/authorize").status_code == 405
