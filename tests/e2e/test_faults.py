"""Fault injection on the running stack: a worker killed mid-batch, PostgreSQL stopped under the API."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid

import psycopg
import pytest

from local.postgres import LocalCluster, port_is_free
from saas_cli.stripe_samples import build_event, signature_header
from tests.e2e.conftest import RunningStack, pids_alive, problem_json, wait_for
from tests.e2e.helpers import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EVENTS = 60
CUSTOMERS = 3


def count_events(stack: RunningStack, ids: list[str]) -> int:
    with psycopg.connect(stack.state.admin_database_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM stripe_events WHERE id = ANY(%s)", (ids,)).fetchone()
    return int(row[0]) if row else 0


def workers_pid(stack: RunningStack) -> int:
    beat = stack.status()["processes"]["webhooks-worker"]
    assert beat["alive"], beat
    return int(beat["pid"])


def test_killing_the_worker_mid_batch_loses_and_doubles_nothing(stack: RunningStack) -> None:
    session = sign_in(stack, "dora@example.com", "killtest")
    tenant = session.tenant_id
    session.close()
    secret = stack.state.stripe_webhook_secret
    customers = [f"cus_kill{uuid.uuid4().hex[:10]}" for _ in range(CUSTOMERS)]
    subscriptions = {customer: f"sub_kill{uuid.uuid4().hex[:10]}" for customer in customers}
    base = int(time.time()) - 10_000
    events = [
        build_event(
            "customer.subscription.updated",
            customer=customers[0],  # one tenant has one customer; the others exercise other FIFO groups
            tenant_id=tenant,
            subscription_id=subscriptions[customers[0]],
            lookup_key="pro_monthly" if index == EVENTS - 1 else "starter_monthly",
            status="active",
            created=base + index,
        )
        for index in range(EVENTS)
    ]
    ids = [event["id"] for event in events]
    pid = workers_pid(stack)
    os.kill(pid, signal.SIGSTOP)  # let a backlog build, so the kill lands inside a batch
    try:
        with stack.client() as client:
            for event in events:
                payload = json.dumps(event)
                response = client.post(
                    "/webhooks/stripe",
                    content=payload.encode(),
                    headers={
                        "stripe-signature": signature_header(payload, [secret]),
                        "content-type": "application/json",
                    },
                )
                assert response.status_code == 200, response.text
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_for(lambda: count_events(stack, ids) > 0, timeout=30, interval=0.02, what="the first events")
    os.kill(pid, signal.SIGKILL)
    processed_at_kill = count_events(stack, ids)
    assert processed_at_kill < EVENTS, "the backlog drained before the kill; nothing was tested"
    wait_for(lambda: not pids_alive([pid]), timeout=10, what="the killed worker to go")
    # The supervisor restarts the webhooks worker; the killed batch reappears after its visibility timeout.
    wait_for(
        lambda: stack.status()["processes"]["webhooks-worker"]["pid"] != pid,
        timeout=30,
        what="a restarted worker",
    )
    try:
        wait_for(lambda: count_events(stack, ids) == EVENTS, timeout=120, interval=0.5, what="every event")
    except AssertionError as exc:
        with psycopg.connect(stack.state.admin_database_url, autocommit=True) as conn:
            found = {
                row[0] for row in conn.execute("SELECT id FROM stripe_events WHERE id = ANY(%s)", (ids,))
            }
        missing = [index for index, event_id in enumerate(ids) if event_id not in found]
        queue = stack.status()["queues"]["saas-webhooks.fifo"]
        raise AssertionError(f"{exc}: events {missing} missing; queue {queue}") from exc
    with psycopg.connect(stack.state.admin_database_url, autocommit=True) as conn:
        outcomes = conn.execute(
            "SELECT outcome, count(*) FROM stripe_events WHERE id = ANY(%s) GROUP BY outcome", (ids,)
        ).fetchall()
        sub = conn.execute(
            "SELECT plan, last_event_id FROM subscriptions WHERE stripe_subscription_id = %s",
            (subscriptions[customers[0]],),
        ).fetchone()
    assert sum(count for _, count in outcomes) == EVENTS  # one row per event: nothing lost, nothing doubled
    assert {outcome for outcome, _ in outcomes} <= {"applied", "stale"}
    assert sub is not None
    assert sub == ("pro", ids[-1])  # the newest event's state won
    queue = stack.status()["queues"]["saas-webhooks.fifo"]
    assert queue["dlq"] == 0
    print(f"\nworker killed after {processed_at_kill}/{EVENTS} events; all {EVENTS} applied exactly once")


def test_postgres_stopped_gives_503_problem_then_recovers_without_restart(stack: RunningStack) -> None:
    session = sign_in(stack, "erin@example.com", "pgfault")
    cluster = LocalCluster(stack.root / "postgres", port=stack.postgres_port)
    try:
        assert session.client.get("/api/v1/projects").status_code == 200
        stopped = cluster._run("pg_ctl", "-D", str(cluster.data), "-m", "fast", "-w", "-t", "60", "stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        log = stack.root / "postgres" / "postgres.log"
        wait_for(
            lambda: port_is_free(stack.postgres_port),
            timeout=60,
            what=f"PostgreSQL to stop; its log ends:\n{log.read_text()[-1500:] if log.exists() else ''}",
        )
        down = session.client.get("/api/v1/projects")
        assert down.status_code == 503, down.text
        assert problem_json(down)["status"] == 503
        health = session.client.get("/api/v1/health")
        assert health.status_code == 200  # the function itself is fine
        assert stack.status()["postgres"]["up"] is False
    finally:
        cluster.start()
    recovered = wait_for(
        lambda: session.client.get("/api/v1/projects").status_code == 200, timeout=30, what="recovery"
    )
    assert recovered
    session.close()


def test_a_poison_webhook_reaches_the_dlq_after_five_receives_and_nothing_else_is_lost(
    stack: RunningStack,
) -> None:
    poisoned = sign_in(stack, "hank@example.com", "poisoned")
    healthy = sign_in(stack, "ivy@example.com", "healthy")
    poisoned.close()
    healthy.close()
    secret = stack.state.stripe_webhook_secret
    poison = build_event(
        "customer.subscription.updated",
        customer=f"cus_p{uuid.uuid4().hex[:10]}",
        tenant_id=poisoned.tenant_id,
    )
    poison["data"]["object"]["status"] = "not-a-stripe-status"  # refused by the schema: fails every time
    good = build_event(
        "customer.subscription.updated",
        customer=f"cus_g{uuid.uuid4().hex[:10]}",
        tenant_id=healthy.tenant_id,
        lookup_key="pro_monthly",
    )
    dlq_before = stack.status()["queues"]["saas-webhooks.fifo"]["dlq"]
    with stack.client() as client:
        for event in (poison, good):
            payload = json.dumps(event)
            sent = client.post(
                "/webhooks/stripe",
                content=payload.encode(),
                headers={
                    "stripe-signature": signature_header(payload, [secret]),
                    "content-type": "application/json",
                },
            )
            assert sent.status_code == 200, sent.text
    wait_for(lambda: count_events(stack, [good["id"]]) == 1, timeout=60, what="the healthy event")
    wait_for(
        lambda: stack.status()["queues"]["saas-webhooks.fifo"]["dlq"] == dlq_before + 1,
        timeout=120,
        interval=1,
        what="the poison event in the DLQ",
    )
    with psycopg.connect(stack.state.admin_database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT outcome, detail FROM stripe_events WHERE id = %s", (poison["id"],)
        ).fetchone()
    assert row is not None
    assert row[0] == "failed"  # the error is recorded with the event
