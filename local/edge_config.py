"""The edge configuration the local gateway bundles with the edge handlers (as `make synth` would).

It trusts the API's session key and the dev IdP, both pinned (a JWKS fetch from the edge would call
back into the gateway it runs in), keeps the edge package's default public paths (`/_local/*` never
reaches the edge: the gateway serves it itself) and evaluates the local flags payload `flags.json`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from local.idp import DevIdp
from local.keys import load_or_create_key, public_jwk
from local.state import StackState

EDGE_CONFIG_ENV = "EDGE_CONFIG_PATH"
FLAGS_FILE = Path(__file__).with_name("flags.json")
SESSION_AUDIENCE = "saas-api"


def build_edge_config(state: StackState) -> dict[str, Any]:
    idp = DevIdp(state.idp_issuer, Path(state.idp_key_path), state.idp_client_id)
    session_jwk = public_jwk(load_or_create_key(Path(state.session_key_path)))
    return {
        "issuers": [
            {"issuer": state.session_issuer, "audiences": [SESSION_AUDIENCE], "keys": [session_jwk]},
            {
                "issuer": idp.issuer,
                "audiences": [idp.client_id],
                "token_use": "id",
                "keys": [idp.jwk],
            },
        ],
        "flags": {"payload": json.loads(FLAGS_FILE.read_text())},
    }


def write_edge_config(state: StackState) -> Path:
    path = Path(state.edge_config_path)
    path.write_text(json.dumps(build_edge_config(state), indent=2))
    os.environ[EDGE_CONFIG_ENV] = str(path)
    return path
