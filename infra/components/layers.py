"""The two origin layers: `shared` (saascore + `saascontracts`, the stdlib token verifier and edge↔origin
contracts) and `deps` (the pinned runtime wheels for x86_64/Python 3.11, Powertools included)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.components.service_function import ARCHITECTURE, RUNTIME
from infra.packaging import CONTRACTS_PACKAGE, LAMBDA_PLATFORM, REPO_ROOT, deps_layer, stage_tree

SHARED_SOURCES = {
    "python/saascore": REPO_ROOT / "layers" / "shared" / "python" / "saascore",
    "python/saascontracts": CONTRACTS_PACKAGE,
}
REQUIREMENTS = REPO_ROOT / "layers" / "deps" / "requirements.txt"


def shared_layer_dir() -> Path:
    return stage_tree("shared-layer", sources=SHARED_SOURCES)


def unbundled_deps_dir() -> Path:
    """Stand-in when `-c bundle=false`: same layer resource, only the requirements list inside."""
    return stage_tree(
        "deps-layer-unbundled", sources={}, files={"python/requirements.txt": REQUIREMENTS.read_bytes()}
    )


class Layers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, bundle: bool, retain: bool) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        runtimes = [RUNTIME]
        architectures = [ARCHITECTURE]
        self.shared = lambda_.LayerVersion(
            self,
            "Shared",
            code=lambda_.Code.from_asset(str(shared_layer_dir())),
            compatible_runtimes=runtimes,
            compatible_architectures=architectures,
            description="saascore shared domain code and the saascontracts token verifier",
            removal_policy=removal,
        )
        deps_dir = deps_layer(REQUIREMENTS, platform=LAMBDA_PLATFORM) if bundle else unbundled_deps_dir()
        self.deps = lambda_.LayerVersion(
            self,
            "Deps",
            code=lambda_.Code.from_asset(str(deps_dir)),
            compatible_runtimes=runtimes,
            compatible_architectures=architectures,
            description="Pinned runtime dependencies (Powertools, FastAPI, psycopg, stripe, boto3)",
            removal_policy=removal,
        )
        self.all: list[lambda_.ILayerVersion] = [self.deps, self.shared]
