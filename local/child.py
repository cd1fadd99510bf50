"""Entry point of the local stack's child processes: `python -m local.child <role>`.

Roles: `gateway`, `webhooks-worker`, `jobs-worker`, `webhook-delivery-worker`, `scheduler`. Each database-using function gets a
process of its own, because a Lambda container holds one database connection (`get_database()` is
process-wide) and serves one event at a time: two functions sharing a process would share it.

Each child reads `state.json` from `$SAAS_LOCAL_ROOT`, imports its Lambda handlers (one warm container
per function), writes a heartbeat for `/_local/status`, stops on SIGTERM/SIGINT and exits on its own
when the supervisor disappears, so a killed `saas dev` never leaves orphans serving stale state.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.aws import client
from local.edge_config import write_edge_config
from local.environment import function_environment
from local.events import HttpRequest, HttpResponse
from local.gateway import EdgeFunctions, Gateway, GatewayServer
from local.handlers import (
    api_function,
    edge_functions,
    jobs_scheduler,
    jobs_worker,
    webhook_delivery_worker,
    webhooks_processor,
    webhooks_receiver,
)
from local.idp import DevIdp, DevOidcEndpoints
from local.scheduler import CompressedScheduler, load_schedules
from local.state import DEFAULT_ROOT, ROOT_ENV, StackState
from local.status import TenantTraffic, collect_status, write_heartbeat
from local.workers import QueuePoller

HEARTBEAT_SECONDS = 1.0
STATE_WAIT_SECONDS = 120.0
WARM_MODULES = {
    "gateway": ("edge.handler", "api.main", "webhooks.receiver"),
    "webhooks-worker": ("webhooks.processor",),
    "jobs-worker": ("jobs.worker",),
    "webhook-delivery-worker": ("jobs.webhook_worker",),
    "scheduler": ("jobs.scheduler", "jobs.registry"),
}
log = logging.getLogger("child")
IDP_PATH = "/_local/idp"
SAML_METADATA_PATH = f"{IDP_PATH}/saml/metadata.xml"


def _form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("utf-8", errors="replace")))


def _basic_client_id(request: HttpRequest) -> str | None:
    """The client id of an ``Authorization: Basic`` header (client_secret_basic); the secret is not checked."""
    value = next((v for k, v in request.headers if k.lower() == "authorization"), "")
    if not value.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(value[6:]).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return unquote(decoded.partition(":")[0])


def _json(status: int, payload: Any) -> HttpResponse:
    body = json.dumps(payload, indent=2, default=str).encode()
    return HttpResponse(status, [("content-type", "application/json")], body)


def local_pages(
    state: StackState, functions: Callable[[], list[Any]], traffic: TenantTraffic | None = None
) -> Callable[[HttpRequest], HttpResponse]:
    idp = DevIdp(state.idp_issuer, Path(state.idp_key_path), state.idp_client_id)
    oidc = DevOidcEndpoints(idp)
    openid = {
        "issuer": idp.issuer,
        "authorization_endpoint": f"{idp.issuer}/authorize",
        "token_endpoint": f"{idp.issuer}/token",
        "jwks_uri": f"{idp.issuer}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    # SAML connections must name an https SingleSignOnService; nothing is served there (docs/identity.md).
    saml_metadata = idp.saml_metadata("https://127.0.0.1/_local/idp/saml/sso").encode()
    # The dev IdP's documents (content type, body): fixed for the stack's lifetime.
    documents = {
        "/_local/idp/.well-known/jwks.json": ("application/json", json.dumps(idp.jwks(), indent=2).encode()),
        "/_local/idp/.well-known/openid-configuration": (
            "application/json",
            json.dumps(openid, indent=2).encode(),
        ),
        SAML_METADATA_PATH: ("application/samlmetadata+xml", saml_metadata),
    }

    def idp_page(request: HttpRequest) -> HttpResponse:
        if request.path == f"{IDP_PATH}/authorize" and request.method == "GET":
            status, answer = oidc.authorize(dict(parse_qsl(request.query)))
            if status == 302:
                return HttpResponse(302, [("location", answer["location"])])
            return _json(status, answer)
        if request.path == f"{IDP_PATH}/token" and request.method == "POST":
            status, payload = oidc.token(_form(request.body), _basic_client_id(request))
            return _json(status, payload)
        if request.path in documents and request.method == "GET":
            content_type, body = documents[request.path]
            return HttpResponse(200, [("content-type", content_type)], body)
        if request.path in documents or request.path in {f"{IDP_PATH}/authorize", f"{IDP_PATH}/token"}:
            return _json(405, {"title": "Method Not Allowed", "status": 405})
        return _json(404, {"title": "Not Found", "status": 404, "detail": "unknown dev IdP page"})

    def page(request: HttpRequest) -> HttpResponse:
        if request.path.startswith(f"{IDP_PATH}/"):
            return idp_page(request)
        if request.method != "GET":
            return _json(405, {"title": "Method Not Allowed", "status": 405})
        if request.path == "/_local/ping":
            return _json(200, {"ok": True})
        if request.path in {"/_local/status", "/_local/status/"}:
            return _json(200, collect_status(state, functions(), traffic))
        return _json(404, {"title": "Not Found", "status": 404, "detail": "unknown /_local page"})

    return page


def _supervised(stop: threading.Event, beat: Callable[[], dict[str, Any]], role: str, root: str) -> None:
    """Heartbeat until stopped; stop when the parent (the supervisor) is gone."""
    parent = os.getppid()
    write_heartbeat(root, role, beat())
    while not stop.wait(HEARTBEAT_SECONDS):
        if os.getppid() != parent:
            log.warning("supervisor is gone; %s exits", role)
            stop.set()
            break
        write_heartbeat(root, role, beat())
    write_heartbeat(root, role, {**beat(), "stopped": True})


def run_gateway(state: StackState, stop: threading.Event) -> None:
    write_edge_config(state)
    edge = EdgeFunctions(*edge_functions())
    api = api_function()
    receiver = webhooks_receiver()
    every = [edge.viewer_request, edge.origin_request, edge.viewer_response, api, receiver]
    from saascore import metrics  # after the function environment is in place, like the handlers

    traffic = TenantTraffic()
    metrics.OBSERVERS.append(traffic.observe)
    for function in every:
        if not function.available:
            log.warning("%s is not available yet; requests routed to it get 502", function.handler_path)
    gateway = Gateway(
        edge=edge,
        api=api,
        receiver=receiver,
        local_page=local_pages(state, lambda: every, traffic),
        viewer_country=state.viewer_country,
        distribution_domain=f"127.0.0.1:{state.gateway_port}",
    )
    server = GatewayServer(("127.0.0.1", state.gateway_port), gateway)
    write_heartbeat(state.root, "gateway", {"functions": {}})  # before the first request can ask
    thread = threading.Thread(target=server.serve_forever, name="gateway", daemon=True)
    thread.start()
    log.info("gateway listening on %s", state.gateway_url)
    try:
        _supervised(
            stop, lambda: {"functions": {f.name: asdict(f.stats) for f in every}}, "gateway", state.root
        )
    finally:
        server.shutdown()


def _run_poller(state: StackState, stop: threading.Event, role: str, poller: QueuePoller) -> None:
    thread = threading.Thread(target=poller.run, args=(stop,), name=poller.queue.name, daemon=True)
    thread.start()
    _supervised(stop, lambda: {"pollers": {poller.queue.name: asdict(poller.stats)}}, role, state.root)
    thread.join(timeout=5)


def run_webhooks_worker(state: StackState, stop: threading.Event) -> None:
    poller = QueuePoller(client("sqs", state.moto_url), state.webhooks, webhooks_processor())
    _run_poller(state, stop, "webhooks-worker", poller)


def run_jobs_worker(state: StackState, stop: threading.Event) -> None:
    poller = QueuePoller(client("sqs", state.moto_url), state.jobs, jobs_worker(state.job_timeout_seconds))
    _run_poller(state, stop, "jobs-worker", poller)


def run_webhook_delivery_worker(state: StackState, stop: threading.Event) -> None:
    poller = QueuePoller(client("sqs", state.moto_url), state.webhook_deliveries, webhook_delivery_worker())
    _run_poller(state, stop, "webhook-delivery-worker", poller)


def run_scheduler(state: StackState, stop: threading.Event) -> None:
    scheduler = CompressedScheduler(
        load_schedules(), jobs_scheduler(), compression=state.schedule_compression
    )
    thread = threading.Thread(target=scheduler.run, args=(stop,), name="scheduler", daemon=True)
    thread.start()
    _supervised(stop, lambda: {"fired": dict(scheduler.fired)}, "scheduler", state.root)
    thread.join(timeout=5)


ROLES: dict[str, Callable[[StackState, threading.Event], None]] = {
    "gateway": run_gateway,
    "webhooks-worker": run_webhooks_worker,
    "jobs-worker": run_jobs_worker,
    "webhook-delivery-worker": run_webhook_delivery_worker,
    "scheduler": run_scheduler,
}


def warm_up(role: str) -> None:
    """Import what the role will run (cold start overlaps provisioning); failures surface later."""
    for name in WARM_MODULES[role]:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1 or argv[0] not in ROLES:
        print(f"usage: python -m local.child {{{'|'.join(ROLES)}}}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Import the handlers while the supervisor still provisions, then configure them from the state.
    warm_up(argv[0])
    state = StackState.wait_for(Path(os.environ.get(ROOT_ENV, DEFAULT_ROOT)), timeout=STATE_WAIT_SECONDS)
    os.environ.update(function_environment(state))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    ROLES[argv[0]](state, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
