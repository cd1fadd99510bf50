"""Origin API benchmarks: cold import and warm requests through the Lambda entry, each with a baseline.

1. Cold start: import time of ``api.main`` vs a minimal FastAPI + Mangum hello app (fresh interpreters,
   interleaved runs, medians), with bytecode cached and compiled from source. Target: ratio <= 1.3. Then
   import + first invocation (an authenticated GET /projects against the database) vs the hello app's,
   with routes loaded on first use and with every route built at import.
2. Warm: ``POST /api/v1/projects`` (auth, idempotency key, insert, audit) and ``GET /api/v1/projects?limit=50``
   through ``api.main.handler`` with Function URL events against a throwaway PostgreSQL, directly and
   through PgBouncer in transaction pooling mode (the RDS Proxy stand-in), vs raw psycopg executing the
   same SQL statements one after the other on one connection (the baseline the API was first measured
   against, so the ratio stays comparable). Target: handler requests/s >= 40 % of raw. The same
   statements pipelined by hand are shown too: that is the floor the handler's pipelining aims at.
3. PostgreSQL round trips per request, counted on the wire by a relay in front of the server or
   PgBouncer (``tests/support/wire.py``: a round trip is a Sync/Flush/Query the client waited on;
   BEGIN and COMMIT included). Budgets: GET <= 2, POST with an Idempotency-Key <= 3.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bench.timing import fmt_us

HELLO_APP = (
    "from fastapi import FastAPI\n"
    "from mangum import Mangum\n"
    "app = FastAPI()\n"
    "@app.get('/')\n"
    "def hello():\n"
    "    return {'hello': 'world'}\n"
    "handler = Mangum(app, lifespan='off')\n"
)
API_APP = "from api.main import handler\n"
IMPORT_RUNS = 7
# A fresh interpreter: import (timed), then one invocation (timed) with the event given as argv[1].
COLD_SCRIPT = """\
import contextlib, io, json, sys, time
class Context:
    function_name = "bench"; function_version = "$LATEST"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
_started = time.perf_counter()
{app}_imported = time.perf_counter()
if len(sys.argv) > 1:
    with contextlib.redirect_stdout(io.StringIO()):
        response = handler(json.loads(sys.argv[1]), Context())
    assert response["statusCode"] == 200, response
print(_imported - _started, time.perf_counter() - _imported)
"""


def _cold_seconds(app: str, env: dict[str, str], event: dict[str, Any] | None = None) -> tuple[float, float]:
    """(import, first invocation) seconds in a fresh interpreter."""
    argv = [sys.executable, "-c", COLD_SCRIPT.format(app=app)]
    if event is not None:
        argv.append(json.dumps(event))
    done = subprocess.run(argv, capture_output=True, text=True, check=True, env=env)
    imported, invoked = done.stdout.strip().splitlines()[-1].split()
    return float(imported), float(invoked)


def _bytecode_env(cache_dir: str, *, compiled: bool) -> dict[str, str]:
    """With ``compiled``, modules load from a warmed bytecode cache (an asset shipping __pycache__);
    without, every module is compiled from source on each start (an asset without it)."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": cache_dir}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not compiled:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def bench_cold_import() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-pyc-") as warm, tempfile.TemporaryDirectory() as empty:
        for label, env in (
            ("bytecode cached", _bytecode_env(warm, compiled=True)),
            ("compiled from source", _bytecode_env(empty, compiled=False)),
        ):
            for app in (HELLO_APP, API_APP):  # fills the warm cache; the empty one stays empty
                _cold_seconds(app, env)
            hello, api = [], []
            for _ in range(IMPORT_RUNS):  # interleaved, so machine noise hits both alike
                hello.append(_cold_seconds(HELLO_APP, env)[0])
                api.append(_cold_seconds(API_APP, env)[0])
            h, a = statistics.median(hello), statistics.median(api)
            print(
                f"cold import ({label}) api.main: {a * 1000:.0f} ms | FastAPI+Mangum hello: {h * 1000:.0f} ms "
                f"| ratio {a / h:.2f}x (target <= 1.30)"
            )


def bench_cold_request(event: dict[str, Any]) -> None:
    """Import plus the first invocation, the latency a cold container's first caller sees. The API's
    first request is an authenticated GET /projects (route module import, dependency analysis, database
    driver import, connection); the eager variant builds every route at import, as provisioned
    concurrency does (and as the API did before routes were loaded on first use)."""
    from tests.integration.api.events import http_event

    hello_event = http_event("GET", "/")
    eager = {"AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency"}
    with tempfile.TemporaryDirectory(prefix="bench-pyc-") as warm:
        env = _bytecode_env(warm, compiled=True)
        variants = {
            "hello": (HELLO_APP, env, hello_event),
            "api (routes on first use)": (API_APP, env, event),
            "api (every route at import)": (API_APP, {**env, **eager}, event),
        }
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for app, variant_env, variant_event in variants.values():
            _cold_seconds(app, variant_env, variant_event)
        for _ in range(IMPORT_RUNS):
            for name, (app, variant_env, variant_event) in variants.items():
                samples[name].append(_cold_seconds(app, variant_env, variant_event))
    medians = {
        name: (statistics.median(s[0] for s in runs), statistics.median(s[1] for s in runs))
        for name, runs in samples.items()
    }
    hello_total = sum(medians["hello"])
    for name, (imported, invoked) in medians.items():
        print(
            f"cold request {name}: import {imported * 1000:.0f} ms + first invocation {invoked * 1000:.0f} ms "
            f"= {(imported + invoked) * 1000:.0f} ms | {(imported + invoked) / hello_total:.2f}x hello"
        )


def _environment(app_url: str) -> tuple[Any, str]:
    from tests.integration.api.harness import (
        IDP_AUDIENCE,
        IDP_ISSUER,
        SESSION_ISSUER,
        pem,
        public_jwk,
        rsa_key,
    )

    os.environ.update(
        {
            "APP_ENV": "test",
            "DATABASE_URL": app_url,
            "SESSION_KEY_SOURCE": "pem",
            "SESSION_PRIVATE_KEY": pem(rsa_key("session")),
            "SESSION_ISSUER": SESSION_ISSUER,
            "IDP_ISSUER": IDP_ISSUER,
            "IDP_AUDIENCES": IDP_AUDIENCE,
            "IDP_TOKEN_USE": "id",
            "IDP_JWKS": json.dumps({"keys": [public_jwk(rsa_key("idp"))]}),
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("RATE_LIMIT_TABLE", None)
    import jwt

    now = int(__import__("time").time())
    id_token = jwt.encode(
        {
            "iss": IDP_ISSUER,
            "aud": IDP_AUDIENCE,
            "sub": "bench",
            "email": "bench@example.com",
            "token_use": "id",
            "email_verified": True,
            "iat": now,
            "exp": now + 3600,
        },
        rsa_key("idp"),
        algorithm="RS256",
        headers={"kid": public_jwk(rsa_key("idp"))["kid"]},
    )
    from tests.conftest import LambdaContext

    return LambdaContext(), id_token


def _call(handler: Callable[..., Any], event: dict[str, Any], context: Any) -> dict[str, Any]:
    with contextlib.redirect_stdout(io.StringIO()):  # EMF metric lines
        response: dict[str, Any] = handler(event, context)
    return response


def _point_handler_at(url: str) -> None:
    from saascore.db.connection import get_database
    from saascore.settings import get_database_settings

    get_database().discard()
    os.environ["DATABASE_URL"] = url
    get_database_settings.cache_clear()
    get_database.cache_clear()


def _raw_post_statements(raw: psycopg.Connection[Any], ids: dict[str, Any], key: str) -> None:
    """What the handler's POST executes after the tenant context, as plain psycopg calls."""
    from api.repositories.access import ACCESS_SQL
    from api.repositories.audit import INSERT_SQL as AUDIT_SQL
    from api.repositories.idempotency import CLAIM_SQL, COMPLETE_SQL
    from api.repositories.projects import INSERT_SQL

    claim = {**ids, "key": key, "method": "POST", "path": "/api/v1/projects", "hash": b"x" * 32, "ttl": 86400}
    raw.execute(CLAIM_SQL, claim)
    raw.execute(ACCESS_SQL, ids).fetchone()
    row = raw.execute(
        INSERT_SQL, {**ids, "name": "raw", "description": "", "status": "active", "max": None}
    ).fetchone()
    assert row is not None
    raw.execute(
        AUDIT_SQL,
        {
            "tenant_id": ids["tid"],
            "actor_type": "user",
            "actor_user_id": ids["uid"],
            "actor_api_key_id": None,
            "action": "project.created",
            "resource_type": "project",
            "resource_id": str(row["id"]),
            "before": None,
            "after": psycopg.types.json.Jsonb({k: str(v) for k, v in row.items()}),
            "request_id": key,
            "ip": "198.51.100.7",
            "user_agent": "bench",
        },
    )
    raw.execute(
        COMPLETE_SQL,
        {**ids, "key": key, "status": 201, "headers": psycopg.types.json.Jsonb({}), "body": b"{}"},
    )


def _pro_tenant(handler: Callable[..., Any], context: Any, id_token: str, owner_url: str) -> dict[str, Any]:
    """Sign up through the handler, then lift the plan limits (as billing would): the session body."""
    from tests.integration.api.events import http_event

    signup = _call(
        handler,
        http_event(
            "POST",
            "/api/v1/signup",
            body={"id_token": id_token, "tenant_name": "Bench", "tenant_slug": "bench"},
        ),
        context,
    )
    session: dict[str, Any] = json.loads(signup["body"])
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (session["tenant_id"],))
        conn.execute("UPDATE tenants SET plan = 'pro', billing_status = 'active'")
    return session


def bench_warm(owner_url: str, app_url: str, targets: dict[str, str]) -> None:
    """``targets``: label -> app-role URL of the same database (directly, through PgBouncer)."""
    context, id_token = _environment(app_url)
    from api.main import handler
    from api.repositories.access import ACCESS_SQL
    from api.repositories.projects import COLUMNS
    from saascore.db.tenancy import SET_TENANT_SQL
    from tests.integration.api.events import http_event

    session = _pro_tenant(handler, context, id_token, owner_url)
    tenant_id, user_id, session_id = session["tenant_id"], session["user_id"], session["session_id"]
    headers = {"authorization": f"Bearer {session['access_token']}"}

    def post_event() -> dict[str, Any]:
        return http_event(
            "POST",
            "/api/v1/projects",
            headers={**headers, "idempotency-key": uuid.uuid4().hex},
            body={"name": "bench"},
        )

    get_event = http_event("GET", "/api/v1/projects", query="limit=50", headers=headers)
    bench_cold_request(get_event)
    for _ in range(60):  # enough rows for a full page, and a warm container
        assert _call(handler, post_event(), context)["statusCode"] == 201
    ids = {"tid": tenant_id, "uid": user_id, "sid": session_id}
    page_sql = (
        f"SELECT {COLUMNS} FROM projects WHERE deleted_at IS NULL "
        "ORDER BY created_at DESC, id DESC LIMIT %(limit)s"
    )

    def raw_post(raw: psycopg.Connection[Any]) -> None:
        with raw.transaction():
            raw.execute(SET_TENANT_SQL, (tenant_id, 5000))
            _raw_post_statements(raw, ids, uuid.uuid4().hex)

    def raw_get(raw: psycopg.Connection[Any]) -> None:
        with raw.transaction():
            raw.execute(SET_TENANT_SQL, (tenant_id, 5000))
            raw.execute(ACCESS_SQL, ids).fetchone()
            raw.execute(page_sql, {"limit": 51}).fetchall()

    def pipelined_post(raw: psycopg.Connection[Any]) -> None:
        with raw.pipeline() as pipeline:
            raw.execute("BEGIN")
            raw.execute(SET_TENANT_SQL, (tenant_id, 5000))
            _raw_post_statements(raw, ids, uuid.uuid4().hex)
            raw.execute("COMMIT")
            pipeline.sync()

    def pipelined_get(raw: psycopg.Connection[Any]) -> None:
        for sql, params in ((ACCESS_SQL, ids), (page_sql, {"limit": 51})):
            with raw.pipeline():
                raw.execute(SET_TENANT_SQL, (tenant_id, 5000))
                cursor = raw.execute(sql, params)
            cursor.fetchall()

    def api_post() -> None:
        response = _call(handler, post_event(), context)
        assert response["statusCode"] == 201, response

    def api_get() -> None:
        response = _call(handler, get_event, context)
        assert response["statusCode"] == 200, response

    cases = (
        ("POST /api/v1/projects", api_post, raw_post, pipelined_post),
        ("GET /api/v1/projects?limit=50", api_get, raw_get, pipelined_get),
    )
    for target, url in targets.items():
        _measure(target, url, cases)


Case = tuple[str, Callable[[], None], Callable[[Any], None], Callable[[Any], None]]


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True, prepare_threshold=None, row_factory=dict_row)


def _interleaved(fns: tuple[Callable[[], None], ...], *, rounds: int = 15, number: int = 10) -> list[float]:
    """Median seconds per call of each of ``fns``, timed in alternating batches so that the load of a
    shared machine hits every variant alike (sequential runs gave ratios that swung with the load)."""
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for index, fn in enumerate(fns):
            started = time.perf_counter()
            for _ in range(number):
                fn()
            samples[index].append((time.perf_counter() - started) / number)
    return [statistics.median(runs) for runs in samples]


def _measure(target: str, url: str, cases: tuple[Case, ...]) -> None:
    """Round trips through the wire counter first, then timings without it (the relay adds latency)."""
    from tests.support.wire import counted

    trips: dict[str, tuple[int, int]] = {}
    with counted(url) as (counter, relayed):
        _point_handler_at(relayed)
        raw = _connect(relayed)
        for label, api_fn, raw_fn, _ in cases:
            api_fn()  # the connection opens outside the count
            with counter.counting():
                api_fn()
            handler_trips = counter.round_trips
            with counter.counting():
                raw_fn(raw)
            trips[label] = (handler_trips, counter.round_trips)
        raw.close()
        _point_handler_at(url)
    raw = _connect(url)
    for label, api_fn, raw_fn, pipelined_fn in cases:
        api_fn()
        api_seconds, raw_seconds, piped_seconds = _interleaved(
            (api_fn, functools.partial(raw_fn, raw), functools.partial(pipelined_fn, raw))
        )
        handler_trips, raw_trips = trips[label]
        print(
            f"{label} [{target}]: handler {1 / api_seconds:,.0f} req/s ({fmt_us(api_seconds)}) | raw psycopg "
            f"{1 / raw_seconds:,.0f} req/s ({fmt_us(raw_seconds)}) | handler = {raw_seconds / api_seconds:.0%} "
            f"of raw (target >= 40%) | raw pipelined {1 / piped_seconds:,.0f} req/s, handler = "
            f"{piped_seconds / api_seconds:.0%} of it | round trips: handler {handler_trips}, raw {raw_trips}"
        )
    raw.close()


def main() -> None:
    warnings.simplefilter("ignore")
    bench_cold_import()
    from tests.support.pgbouncer import PgBouncer, pgbouncer_binary
    from tests.support.postgres import build_template, clone_database, start_server

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        servers = start_server(Path(tmp))
        server = next(servers)
        bouncer: PgBouncer | None = None
        try:
            build_template(server)
            database = clone_database(server)
            targets = {"direct": database.app_url}
            binary = pgbouncer_binary()
            if binary is None:
                print("PgBouncer not installed (apt-get install pgbouncer): measured directly only")
            else:
                bouncer = PgBouncer(server, Path(tmp) / "pgbouncer")
                bouncer.start(binary)
                targets["pgbouncer"] = bouncer.app_url(database.name)
            bench_warm(database.owner_url, database.app_url, targets)
        finally:
            if bouncer is not None:
                bouncer.stop()
            with contextlib.suppress(StopIteration):
                next(servers)


if __name__ == "__main__":
    main()
