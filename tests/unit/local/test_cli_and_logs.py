"""`saas token`/`saas dev`/`saas dev info` argument handling and the supervisor's per-component log lines."""

from __future__ import annotations

import io
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from local.postgres import free_port
from local.stack import LogRelay
from local.state import QueuePair, StackState
from saas_cli.dev import run_dev, run_info, saas_command
from saas_cli.main import build_parser, main


def test_saas_token_without_a_running_stack_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--email", "alice@example.com", "--root", str(tmp_path)]) == 1
    assert "is the local stack running" in capsys.readouterr().err


def test_saas_dev_options() -> None:
    args = build_parser().parse_args(
        ["dev", "--port", "8123", "--postgres-port", "6543", "--visibility", "3"]
    )
    assert (args.port, args.postgres_port, args.visibility, args.job_timeout) == (8123, 6543, 3, 10)


def relay_line(text: str, component: str = "workers", color: bool = False) -> str:
    out = io.StringIO()
    LogRelay(color=color, out=out).line(component, text)
    return out.getvalue()


def test_powertools_json_is_condensed_to_level_message_and_context() -> None:
    record = {
        "level": "WARNING",
        "location": "x:1",
        "message": "job failed",
        "timestamp": "2026-11-23 23:00:00,000+0000",
        "service": "jobs",
        "tenant_id": "t1",
    }
    line = relay_line(json.dumps(record))
    assert "        workers | WARNING job failed {'service': 'jobs', 'tenant_id': 't1'}" in line
    assert "location" not in line
    assert "timestamp" not in line


def test_metric_blobs_show_only_their_values_and_errors_are_red() -> None:
    emf = {
        "_aws": {
            "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [], "Metrics": [{"Name": "JobSucceeded"}]}]
        },
        "JobSucceeded": [1.0],
    }
    assert "METRIC JobSucceeded=[1.0]" in relay_line(json.dumps(emf))
    colored = relay_line("ERROR gateway: boom", component="gateway", color=True)
    assert "\033[31mERROR gateway: boom\033[0m" in colored
    assert "\033[36m" in colored  # the component's own color
    assert relay_line("plain text from a child").rstrip().endswith("workers | plain text from a child")


def saved_state(root: Path, gateway_url: str) -> StackState:
    def pair(name: str) -> QueuePair:
        url = f"http://127.0.0.1:5000/000000000000/{name}"
        return QueuePair(name, url, f"arn:{name}", f"{name}-dlq", f"{url}-dlq", f"arn:{name}-dlq")

    state = StackState(
        root=str(root),
        gateway_url=gateway_url,
        gateway_port=int(gateway_url.rsplit(":", 1)[1]),
        moto_url="http://127.0.0.1:5000",
        database_url="postgresql://saas_app:app-pw@127.0.0.1:5433/saas",
        owner_database_url="postgresql://saas_owner:owner-pw@127.0.0.1:5433/saas",
        admin_database_url="postgresql://admin:admin-pw@127.0.0.1:5433/saas",
        cluster_port=5433,
        webhooks=pair("saas-webhooks.fifo"),
        jobs=pair("saas-jobs"),
        webhook_deliveries=pair("saas-webhook-deliveries"),
        webhook_secrets_key_id="local-key",
        reports_bucket="saas-reports",
        rate_limit_table="saas-rate-limits",
        ses_sender="noreply@example.com",
        session_key_path=str(root / "keys" / "session.pem"),
        idp_issuer=f"{gateway_url}/_local/idp",
        idp_key_path=str(root / "keys" / "idp.pem"),
        idp_client_id="local-client",
        stripe_webhook_secret="whsec_from_the_state_file",
        stripe_webhook_secret_name="saas/local/stripe",
        stripe_api_base="http://127.0.0.1:12111",
        stripe_api_key="sk_test_stub",
        edge_config_path=str(root / "edge-config.json"),
        session_issuer=gateway_url,
    )
    state.save()
    return state


@pytest.fixture
def ping_server() -> Iterator[str]:
    class Ping(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/_local/ping" else 404)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ping)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_saas_dev_info_prints_urls_database_urls_the_webhook_secret_and_the_dev_idp(
    tmp_path: Path, ping_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    state = saved_state(tmp_path, ping_server)
    assert main(["dev", "info", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for expected in (
        state.gateway_url,
        f"{state.gateway_url}/_local/status",
        state.database_url,
        state.owner_database_url,
        state.admin_database_url,
        "whsec_from_the_state_file",
        f"{state.gateway_url}/_local/idp/.well-known/jwks.json",
        "local-client",
        state.jobs.dlq_url,
    ):
        assert expected in out

    assert main(["dev", "info", "--root", str(tmp_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["stripe"]["webhook_signing_secret"] == "whsec_from_the_state_file"
    assert info["database"]["app"] == state.database_url


def test_saas_dev_info_says_when_the_stack_is_not_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dev", "info", "--root", str(tmp_path)]) == 1
    assert "is the local stack running" in capsys.readouterr().err
    saved_state(tmp_path, f"http://127.0.0.1:{free_port()}")  # a state file left by a killed stack
    assert main(["dev", "info", "--root", str(tmp_path)]) == 1
    assert "is not answering" in capsys.readouterr().err


def test_saas_dev_without_a_subcommand_still_runs_the_stack() -> None:
    args = build_parser().parse_args(["dev", "--port", "8123"])
    assert args.handler is run_dev
    assert build_parser().parse_args(["dev", "info"]).handler is run_info


def test_the_commands_printed_at_start_run_from_the_repository_root() -> None:
    assert saas_command() in {".venv/bin/saas", str(Path(sys.executable).parent / "saas")}
