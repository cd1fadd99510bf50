"""The three Lambda@Edge handlers (us-east-1, x86_64, no environment variables): one asset holding the
stdlib-only `edge` and `saascontracts` packages plus a `config.json` generated here from the environment's configuration;
deploy-time values reach the edge at run time from the origin (`edge.remote_config`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.components import checkov
from infra.config import ConfigError, EnvironmentConfig
from infra.packaging import CONTRACTS_PACKAGE, REPO_ROOT, stage_tree

EDGE_PACKAGE = REPO_ROOT / "functions" / "edge" / "edge"
EDGE_RUNTIME = lambda_.Runtime.PYTHON_3_11  # the build interpreter's: its bytecode ships (decision 0051)
CONFIG_FILE = "edge/config.json"
# Served by the API behind the distribution's `/.well-known/*` behavior (api.routes.edge_config).
REMOTE_CONFIG_PATH = "/.well-known/saas-edge-config.json"
SESSION_JWKS_PATH = "/.well-known/jwks.json"


def edge_config(config: EnvironmentConfig) -> dict[str, Any]:
    """The bundled edge configuration (schema: `edge/config.py`, `edge/remote_config.py`): public material
    only, never secrets, and nothing known only after a deploy. The session issuer's keys are a path on
    the distribution; the Cognito issuer and client id come at run time from the API's
    `REMOTE_CONFIG_PATH` document, which CDK fills from the same deploy. `identity_providers` adds issuers
    known before any deploy. Public and protected paths keep the edge's defaults (the contract's allow-list)."""
    issuers: list[dict[str, Any]] = [
        {
            "issuer": config.session_issuer,
            "audiences": [config.session_audience],
            "algorithms": ["RS256"],
            "jwks_url": SESSION_JWKS_PATH,
            "keys": list(config.session_public_keys),
        }
    ]
    for idp in config.identity_providers:
        entry: dict[str, Any] = {
            "issuer": idp.issuer,
            "audiences": list(idp.audiences),
            "algorithms": ["RS256"],
            "jwks_url": idp.jwks_url,
            "client_ids": list(idp.client_ids),
        }
        if idp.token_use:
            entry["token_use"] = idp.token_use
        issuers.append(entry)
    return {
        "environment": config.name,
        "issuers": issuers,
        "cookies": {"session": "__Host-session"},
        "flags": {"payload": config.flags},
        "remote": {"path": REMOTE_CONFIG_PATH},
    }


def edge_asset_dir(config: EnvironmentConfig) -> Path:
    """Stage the edge package with its config, validated by the edge's own loader before bundling."""
    from edge.config import ConfigError as EdgeConfigError
    from edge.remote_config import load_bundled

    document = edge_config(config)
    try:
        load_bundled(document)
    except EdgeConfigError as exc:
        raise ConfigError(f"environment {config.name!r}: invalid edge config: {exc}") from exc
    payload = json.dumps(document, indent=2, sort_keys=True).encode()
    return stage_tree(
        f"edge-{config.name}",
        sources={"edge": EDGE_PACKAGE, "saascontracts": CONTRACTS_PACKAGE},
        files={CONFIG_FILE: payload},
    )


class EdgeFunctions(Construct):
    """Exposes `viewer_request`, `origin_request`, `viewer_response` (EdgeFunction) for the distribution."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        code = lambda_.Code.from_asset(str(edge_asset_dir(config)))
        self.viewer_request = self._function(
            "ViewerRequest", code, "viewer_request", Duration.seconds(5), 128
        )
        # Origin-request triggers may run 30 s; flags and the body hash need far less, with room for 1 MB bodies.
        self.origin_request = self._function(
            "OriginRequest", code, "origin_request", Duration.seconds(10), 256
        )
        self.viewer_response = self._function(
            "ViewerResponse", code, "viewer_response", Duration.seconds(5), 128
        )
        self.by_event = {
            "viewer-request": self.viewer_request,
            "origin-request": self.origin_request,
            "viewer-response": self.viewer_response,
        }
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                reason="Lambda@Edge writes logs in every region it runs in; the managed basic policy covers them.",
            ),
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="Python 3.11 on purpose: the asset ships bytecode compiled by the 3.11 build interpreter "
                "(docs/decisions/0051-python-3-11-runtimes-with-shipped-bytecode.md).",
            ),
        )

    def _function(
        self, construct_id: str, code: lambda_.Code, entry: str, timeout: Duration, memory_mb: int
    ) -> cloudfront.experimental.EdgeFunction:
        function = cloudfront.experimental.EdgeFunction(
            self,
            construct_id,
            code=code,
            handler=f"edge.handler.{entry}",
            runtime=EDGE_RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            memory_size=memory_mb,
            timeout=timeout,
            description=f"Lambda@Edge {entry.replace('_', '-')}",
            # CloudFront may still run (and a rolled-back distribution may name) the previous version, and
            # replicas block its deletion for hours: old versions stay (decision 0050).
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.RETAIN),
        )
        for check_id, reason in EDGE_CHECKOV_REASONS.items():
            checkov.skip(function.lambda_, check_id, reason)
        return function


EDGE_CHECKOV_REASONS = {
    "CKV_AWS_115": "Lambda@Edge supports no reserved concurrency; CloudFront scales it per region.",
    "CKV_AWS_116": "Lambda@Edge supports no dead-letter queue: CloudFront invokes it synchronously.",
    "CKV_AWS_117": "Lambda@Edge cannot run in a VPC: CloudFront runs it in its regional edge caches.",
}
