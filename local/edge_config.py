"""The edge configuration the local gateway bundles with the edge handlers (as `make synth` would).

As in AWS it names only what exists before the stack runs: the API's session issuer (its key pinned,
and the JWKS as a path on the gateway) and a `remote` section, so the edge learns the dev IdP from the
API's `/.well-known/saas-edge-config.json` through the gateway at its first viewer request
(`edge.remote_config`; the gateway is the distribution, `127.0.0.1:<port>`). It keeps the edge
package's default public paths (`/_local/*` never reaches the edge: the gateway serves it itself) and
evaluates the local flags payload `flags.json`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from local.keys import load_or_create_key, public_jwk
from local.state import StackState

EDGE_CONFIG_ENV = "EDGE_CONFIG_PATH"
FLAGS_FILE = Path(__file__).with_name("flags.json")
SESSION_AUDIENCE = "saas-api"
REMOTE_CONFIG_PATH = "/.well-known/saas-edge-config.json"
SESSION_JWKS_PATH = "/.well-known/jwks.json"


def build_edge_config(state: StackState) -> dict[str, Any]:
    session_jwk = public_jwk(load_or_create_key(Path(state.session_key_path)))
    return {
        "environment": "local",
        "issuers": [
            {
                "issuer": state.session_issuer,
                "audiences": [SESSION_AUDIENCE],
                "jwks_url": SESSION_JWKS_PATH,
                "keys": [session_jwk],
            },
        ],
        "flags": {"payload": json.loads(FLAGS_FILE.read_text())},
        "remote": {"path": REMOTE_CONFIG_PATH},
    }


def write_edge_config(state: StackState) -> Path:
    path = Path(state.edge_config_path)
    path.write_text(json.dumps(build_edge_config(state), indent=2))
    os.environ[EDGE_CONFIG_ENV] = str(path)
    return path
