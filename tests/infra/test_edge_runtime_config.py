"""One pass: the bundled edge config names nothing a deploy creates; the API's environment does, from the
same deploy, and the edge reads it at run time (`edge.remote_config`)."""

from __future__ import annotations

import json
from typing import Any

from api.schemas.edge_config import EdgeConfigDocument, EdgeIssuer
from edge.remote_config import merge_document
from infra.components.edge import REMOTE_CONFIG_PATH, edge_config
from infra.config import EnvironmentConfig
from tests.infra.conftest import Assembly

API_HANDLER = "api.main.handler"


def _api_environment(assembly: Assembly) -> dict[str, Any]:
    (function,) = [
        f["Properties"]
        for f in assembly.resources("service", "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == API_HANDLER
    ]
    variables: dict[str, Any] = function["Environment"]["Variables"]
    return variables


def _bundled_edge_config(assembly: Assembly) -> dict[str, Any]:
    (code,) = {
        r["Properties"]["Code"]["S3Key"]
        for r in assembly.template("edge")["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and str(r["Properties"].get("Handler", "")).startswith("edge.")
    }
    path = assembly.outdir / f"asset.{code.removesuffix('.zip')}" / "edge" / "config.json"
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def _references(value: Any) -> set[str]:
    text = json.dumps(value)
    return {part.split('"')[0] for part in text.split('{"Ref": "')[1:]}


def test_bundled_config_names_no_deploy_time_value() -> None:
    document = edge_config(EnvironmentConfig(name="dev"))
    text = json.dumps(document)
    assert "cognito" not in text
    assert "cloudfront.net" not in text
    assert document["remote"] == {"path": REMOTE_CONFIG_PATH}
    assert [issuer["jwks_url"] for issuer in document["issuers"]] == ["/.well-known/jwks.json"]


def test_api_environment_carries_the_cognito_values_of_the_same_deploy(assembly: Assembly) -> None:
    variables = _api_environment(assembly)
    pools = {ref for ref in _references(variables["IDP_ISSUER"]) if "UserPool" in ref}
    assert pools, "IDP_ISSUER must reference the user pool created in this deploy"
    assert any("WebClient" in ref for ref in _references(variables["IDP_AUDIENCES"]))
    assert variables["IDP_TOKEN_USE"] == "id"
    bundled = _bundled_edge_config(assembly)
    assert variables["SESSION_ISSUER"] == bundled["issuers"][0]["issuer"]
    assert bundled["remote"]["path"] == REMOTE_CONFIG_PATH


def test_synthesized_bundle_merged_with_the_api_document_trusts_cognito() -> None:
    config = EnvironmentConfig(name="dev", session_issuer="https://dev.saas.example.com")
    pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"
    document = EdgeConfigDocument(
        issuers=[
            EdgeIssuer(
                issuer=config.session_issuer,
                audiences=[config.session_audience],
                jwks_url="/.well-known/jwks.json",
            ),
            EdgeIssuer(
                issuer=pool, audiences=["client"], token_use="id", jwks_url=f"{pool}/.well-known/jwks.json"
            ),
        ]
    ).model_dump(exclude_none=True)
    merged = merge_document(edge_config(config), document, "https://d1.cloudfront.net")
    issuers = {issuer.issuer: issuer for issuer in merged.issuers}
    assert issuers[pool].token_use == "id"
    assert issuers[config.session_issuer].jwks_url == "https://d1.cloudfront.net/.well-known/jwks.json"
