"""Cold-start cost of the edge's runtime config (`edge.remote_config`) against today's bundled config.

Each sample is a fresh bare interpreter (`-S -I`, compiled `.pyc`, only the edge package on the path) that
imports `edge.handler` and answers one viewer request carrying a session token: the baseline with a
bundled config naming every issuer, the mechanism with a bundled `remote` section, so the first request
also fetches the issuers' document over loopback HTTP from a server in this process (the time CloudFront
and a warm origin add in AWS is not in it: see docs/deploy.md). Samples alternate between the two.
Then the warm per-request cost of consulting the remote source, against the static one.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.timing import fmt_us, median_seconds, ratio_line

ISSUER = "https://api.bench.example"
IDP = "https://idp.bench.example"
DOCUMENT_PATH = "/.well-known/saas-edge-config.json"
ROUNDS = 9
PROBE = """
import json, sys, time
w, c = time.perf_counter(), time.process_time()
from edge import handler
event = json.loads(sys.argv[1])
result = handler.viewer_request(event)
assert result["headers"]["x-auth-user"][0]["value"] == "bench-user", result
print(time.perf_counter() - w, time.process_time() - c)
"""


def _jwk(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": "bench", "alg": "RS256", "use": "sig"}


class _Document(BaseHTTPRequestHandler):
    body: ClassVar[bytes] = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the benchmark prints its own lines."""


def _event(domain: str, token: str) -> dict[str, Any]:
    cf = {
        "config": {"distributionDomainName": domain, "eventType": "viewer-request", "requestId": "bench"},
        "request": {
            "clientIp": "127.0.0.1",
            "headers": {"authorization": [{"key": "Authorization", "value": f"Bearer {token}"}]},
            "method": "GET",
            "querystring": "",
            "uri": "/api/v1/projects",
        },
    }
    return {"Records": [{"cf": cf}]}


def _sample(root: Path, config: Path, event: dict[str, Any]) -> tuple[float, float]:
    environment = {"EDGE_CONFIG_PATH": str(config), "PATH": os.environ.get("PATH", "")}
    out = subprocess.run(
        [
            sys.executable,
            "-S",
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(root)!r})\n{PROBE}",
            json.dumps(event),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    wall, cpu = (float(part) for part in out.stdout.split()[-2:])
    return wall, cpu


def bench_cold_start() -> None:
    import compileall
    import shutil

    import saascontracts
    from edge import handler

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    token = jwt.encode(
        {"iss": ISSUER, "aud": "saas-api", "sub": "bench-user", "iat": now, "exp": now + 3600},
        key,
        algorithm="RS256",
        headers={"kid": "bench"},
    )
    session = {"issuer": ISSUER, "audiences": ["saas-api"], "keys": [_jwk(key)]}
    idp = {"issuer": IDP, "audiences": ["client"], "token_use": "id", "keys": [_jwk(key)]}
    _Document.body = json.dumps({"issuers": [session, idp]}).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Document)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    domain = f"127.0.0.1:{server.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            # What the edge bundle holds: the edge package and the contracts it imports.
            for package in (
                Path(handler.__file__).resolve().parent,
                Path(saascontracts.__file__).resolve().parent,
            ):
                shutil.copytree(package, root / package.name, ignore=shutil.ignore_patterns("__pycache__"))
                compileall.compile_dir(str(root / package.name), quiet=1)
            bundled = root / "bundled.json"
            bundled.write_text(json.dumps({"issuers": [session, idp]}))
            remote = root / "remote.json"
            remote.write_text(json.dumps({"issuers": [session], "remote": {"path": DOCUMENT_PATH}}))
            samples: dict[str, list[tuple[float, float]]] = {"bundled": [], "remote": []}
            for _ in range(ROUNDS):
                samples["bundled"].append(_sample(root, bundled, _event(domain, token)))
                samples["remote"].append(_sample(root, remote, _event(domain, token)))
    finally:
        server.shutdown()
    wall = {name: statistics.median(s[0] for s in values) for name, values in samples.items()}
    cpu = {name: statistics.median(s[1] for s in values) for name, values in samples.items()}
    print(
        f"cold start (import + first viewer request), median of {ROUNDS}: runtime config "
        f"{wall['remote'] * 1000:.1f} ms wall / {cpu['remote'] * 1000:.1f} ms CPU | bundled config "
        f"{wall['bundled'] * 1000:.1f} ms wall / {cpu['bundled'] * 1000:.1f} ms CPU | ratio "
        f"{wall['remote'] / wall['bundled']:.2f}x wall, {cpu['remote'] / cpu['bundled']:.2f}x CPU "
        f"(+{(wall['remote'] - wall['bundled']) * 1000:.1f} ms: urllib import + one loopback fetch)"
    )


def bench_warm() -> None:
    from edge.config import use_config
    from edge.remote_config import RemoteConfig, StaticConfig

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    session = {"issuer": ISSUER, "audiences": ["saas-api"], "keys": [_jwk(key)]}
    body = json.dumps({"issuers": [session]}).encode()
    remote = RemoteConfig(
        {"issuers": [session], "remote": {"path": DOCUMENT_PATH}}, fetch=lambda url, timeout, max_bytes: body
    )
    use_config({"issuers": [session]})
    static = StaticConfig()
    cf = {
        "config": {"distributionDomainName": "d1.cloudfront.net", "eventType": "viewer-request"},
        "request": {"uri": "/api/v1/x"},
    }
    remote.config_for(cf)
    ours = median_seconds(lambda: remote.config_for(cf), number=20_000)
    base = median_seconds(lambda: static.config_for(cf), number=20_000)
    print(ratio_line("warm config look-up per request, runtime config", ours, "bundled", base))
    print(f"  (the difference, {fmt_us(ours - base)}, is what every warm viewer request pays)")
    use_config(None)


def main() -> None:
    bench_cold_start()
    bench_warm()
