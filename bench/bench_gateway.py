"""Local gateway overhead: the CloudFront path (three edge triggers + event translation + the Lambda
JSON round trip) around the API handler, as a ratio to invoking the API handler directly.

Both sides serve `GET /api/v1/health` (no database), so the difference is what the gateway adds. The
request carries a session token, so viewer-request verifies it (first time) and then hits its cache.

Then the same request over real HTTP to the gateway's server: a keep-alive connection reused for every
request against a new connection per request (wall time: a stall waiting for a delayed ACK is not CPU).
Before TCP_NODELAY and single-write responses, the keep-alive side paid about 40 ms per request.
"""

from __future__ import annotations

import http.client
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import jwt

from bench.timing import fmt_us, median_seconds, ratio_line
from local.events import HttpRequest, function_url_event, origin_request_event, viewer_request_event
from local.gateway import API_DOMAIN, EdgeFunctions, Gateway, GatewayServer, problem
from local.handlers import api_function, edge_functions, webhooks_receiver
from local.keys import load_or_create_key, private_pem, public_jwk
from local.runtime import LambdaContext

ISSUER = "http://127.0.0.1:8000"


def _configure(root: Path) -> str:
    """Edge config pinning a fresh session key, API settings for it; returns a session token."""
    from edge.config import use_config

    key = load_or_create_key(root / "session.pem")
    os.environ.update({"APP_ENV": "local", "SESSION_PRIVATE_KEY": private_pem(key), "SESSION_ISSUER": ISSUER})
    use_config({"issuers": [{"issuer": ISSUER, "audiences": ["saas-api"], "keys": [public_jwk(key)]}]})
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": "saas-api",
        "sub": "00000000-0000-4000-8000-000000000001",
        "tid": "00000000-0000-4000-8000-000000000002",
        "sid": "00000000-0000-4000-8000-000000000003",
        "role": "owner",
        "plan": "starter",
        "iat": now,
        "exp": now + 3600,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": public_jwk(key)["kid"]})


def _http_latency(gateway: Gateway, token: str) -> None:
    """Median wall time per request: one keep-alive connection vs a new connection each time."""
    server = GatewayServer(("127.0.0.1", 0), gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    headers = {"authorization": f"Bearer {token}"}

    def get(conn: http.client.HTTPConnection) -> None:
        conn.request("GET", "/api/v1/health", headers=headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 200

    kept = http.client.HTTPConnection(str(host), int(port), timeout=30)

    def keep_alive() -> None:
        get(kept)

    def new_connection() -> None:
        fresh = http.client.HTTPConnection(str(host), int(port), timeout=30)
        try:
            get(fresh)
        finally:
            fresh.close()

    try:
        keep_alive()
        new_connection()
        # One request of each kind in turn, so bursts of load on this shared machine hit both alike.
        kept_runs, fresh_runs = [], []
        for _ in range(150):
            kept_runs.append(median_seconds(keep_alive, repeat=1, number=1))
            fresh_runs.append(median_seconds(new_connection, repeat=1, number=1))
    finally:
        kept.close()
        server.shutdown()
        server.server_close()
    print(
        ratio_line(
            "HTTP GET /api/v1/health, keep-alive connection",
            statistics.median(kept_runs),
            "a new connection per request",
            statistics.median(fresh_runs),
        )
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        token = _configure(Path(tmp))
        api = api_function()
        gateway = Gateway(
            edge=EdgeFunctions(*edge_functions()),
            api=api,
            receiver=webhooks_receiver(),
            local_page=lambda request: problem(404, "Not Found", "", "-"),
        )
        request = HttpRequest(
            method="GET",
            path="/api/v1/health",
            query="",
            headers=[
                ("Host", "127.0.0.1:8000"),
                ("User-Agent", "bench"),
                ("Authorization", f"Bearer {token}"),
            ],
            body=b"",
        )
        # The baseline gets exactly what the edge forwards (identity headers, flags), so both sides do
        # the same API work and the difference is the gateway's own.
        edge = gateway.edge
        viewer = edge.viewer_request.invoke(viewer_request_event(request, request_id="bench"))
        forwarded = edge.origin_request.invoke(
            origin_request_event(
                viewer, b"", request_id="bench", viewer_country="US", origin_domain=API_DOMAIN
            )
        )
        direct_event = function_url_event(forwarded, b"", function_domain=API_DOMAIN, request_id="bench")
        handler = api.load()
        context = LambdaContext("api", 1024, 29.0)

        def direct() -> object:
            return handler(direct_event, context)

        def through_gateway() -> object:
            response = gateway.handle(request)
            assert response.status == 200, response.body
            return response

        assert direct()["statusCode"] == 200  # type: ignore[index]
        through_gateway()
        # Interleaved rounds: both sides see the same machine load, so the ratio survives noise.
        baseline_runs, routed_runs = [], []
        for _ in range(9):
            baseline_runs.append(median_seconds(direct, repeat=1, number=100))
            routed_runs.append(median_seconds(through_gateway, repeat=1, number=100))
        baseline = statistics.median(baseline_runs)
        routed = statistics.median(routed_runs)
        print(ratio_line("gateway (edge x3 + events + API)", routed, "API handler direct", baseline))
        print(f"gateway overhead per request: {fmt_us(routed - baseline)}")
        _http_latency(gateway, token)
