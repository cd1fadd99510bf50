"""`saas webhooks parked|replay|redrive|send`: operator tools for the Stripe webhook pipeline.

- ``parked`` lists the events waiting for their customer to be linked to a tenant (oldest first).
- ``replay <event-id>`` re-applies an event stored in ``stripe_events`` (stale checks still apply, so
  replaying twice changes nothing more than replaying once), or routes a parked event: to the tenant its
  customer is linked to now, or with ``--tenant <slug>`` to that tenant, linking the customer (for a
  customer created outside the API); the customer's other parked events are applied with it.
- ``redrive`` moves messages from the webhooks DLQ back to the FIFO queue, keeping their message group
  and deduplication id (the event id): re-running it, or a crash between send and delete, cannot apply an
  event twice.
- ``send <type> --tenant <slug>`` builds a realistic event for that tenant, signs it with the webhook
  secret using Stripe's scheme and POSTs it to the local gateway, like ``stripe trigger`` would.

Configuration comes from the environment (the functions' variables); values missing there are taken
from the running local stack (``saas dev``'s state file).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any
from uuid import UUID

DEFAULT_URL = "http://127.0.0.1:8000/webhooks/stripe"
REDRIVE_BATCH = 10
PARKED_LIST_LIMIT = 100


def _local_state() -> Any:
    """The running local stack's state, or None (then only the environment is used)."""
    from local.state import StackState

    try:
        return StackState.load()
    except (FileNotFoundError, ValueError, TypeError):
        return None


def _use_local_environment() -> Any:
    state = _local_state()
    if state is not None:
        from local.environment import function_environment

        for name, value in function_environment(state).items():
            os.environ.setdefault(name, value)
    return state


def run_parked(args: argparse.Namespace) -> int:
    _use_local_environment()
    from webhooks.repositories.events import parked_events

    parked = parked_events(limit=args.limit)
    for event in parked:
        print(
            f"{event.event_id}  {event.type}  customer {event.customer_id}  created {event.created.isoformat()}"
            f"  parked {event.parked_at.isoformat()}  deliveries {event.deliveries}  ({event.reason})"
        )
    print(
        f"{len(parked)} parked event(s)"
        + (f" (first {args.limit} shown)" if len(parked) == args.limit else "")
    )
    return 0


def run_replay(args: argparse.Namespace) -> int:
    _use_local_environment()
    from webhooks.dispatch import replay_event

    tenant_id = None
    if args.tenant:
        try:
            tenant_id = UUID(_tenant_and_customer(args.tenant)[0])
        except LookupError as exc:
            print(f"saas webhooks replay: {exc}", file=sys.stderr)
            return 1
    result = replay_event(args.event_id, tenant_id=tenant_id)
    if result is None:
        print(f"saas webhooks replay: no stored or parked event {args.event_id}", file=sys.stderr)
        return 1
    unparked = f", {result.unparked} parked event(s) applied with it" if result.unparked else ""
    print(f"{result.event_id}: {result.outcome} (tenant {result.tenant_id}){unparked}")
    return 0


def _event_id(body: str) -> str | None:
    """The Stripe event id of a queued body; None for a body that is not an event (poison kept as is)."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    event_id = document.get("id") if isinstance(document, dict) else None
    return event_id if isinstance(event_id, str) else None


def run_redrive(args: argparse.Namespace) -> int:
    state = _use_local_environment()
    import boto3

    queue_url = args.queue_url or os.environ.get("WEBHOOK_QUEUE_URL")
    dlq_url = args.dlq_url or os.environ.get("WEBHOOK_DLQ_URL") or (state.webhooks.dlq_url if state else None)
    if not queue_url or not dlq_url:
        print(
            "saas webhooks redrive: set WEBHOOK_QUEUE_URL and WEBHOOK_DLQ_URL (or --queue-url/--dlq-url)",
            file=sys.stderr,
        )
        return 2
    sqs = boto3.client("sqs")
    moved = 0
    while args.max is None or moved < args.max:
        response = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=REDRIVE_BATCH,
            AttributeNames=["MessageGroupId", "MessageDeduplicationId"],
            WaitTimeSeconds=0,
        )
        messages = response.get("Messages", [])
        if not messages:
            break
        for message in messages:
            attributes = message.get("Attributes", {})
            event_id = _event_id(message["Body"]) or message["MessageId"]
            sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=message["Body"],
                MessageGroupId=attributes.get("MessageGroupId") or event_id,
                MessageDeduplicationId=attributes.get("MessageDeduplicationId") or event_id,
            )
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    print(f"moved {moved} message(s) from the DLQ back to the webhooks queue")
    return 0


def _tenant_and_customer(slug: str) -> tuple[str, str | None]:
    from saascore.db.tenancy import tenant_transaction, tenantless_transaction

    with tenantless_transaction() as conn:
        row = conn.execute("SELECT app.tenant_id_by_slug(%s) AS id", (slug,)).fetchone()
    if row is None or row["id"] is None:
        raise LookupError(f"no tenant with slug {slug!r}")
    tenant_id = row["id"]
    with tenant_transaction(tenant_id) as conn:
        customer = conn.execute("SELECT stripe_customer_id FROM billing_customers").fetchone()
    return str(tenant_id), None if customer is None else str(customer["stripe_customer_id"])


def _webhook_secret(args: argparse.Namespace, state: Any) -> str:
    if args.secret:
        return str(args.secret)
    if state is not None:
        return str(state.stripe_webhook_secret)
    from saascore.secrets import resolve_secret

    return resolve_secret(os.environ.get("STRIPE_WEBHOOK_SECRET", "")).split(",")[0].strip()


def run_send(args: argparse.Namespace) -> int:
    state = _use_local_environment()
    from saas_cli import stripe_samples as samples

    try:
        tenant_id, customer = _tenant_and_customer(args.tenant)
    except LookupError as exc:
        print(f"saas webhooks send: {exc}", file=sys.stderr)
        return 1
    # A tenant that never checked out gets a stable fake customer; its subscription and checkout events
    # carry the tenant id in metadata, which links the customer on first use.
    customer = args.customer or customer or f"cus_local_{tenant_id.replace('-', '')[:16]}"
    event = samples.build_event(
        args.type,
        customer=customer,
        tenant_id=tenant_id,
        subscription_id=args.subscription or f"sub_local_{tenant_id.replace('-', '')[:16]}",
        lookup_key=f"{args.plan}_monthly",
        status=args.status,
    )
    body = json.dumps(event)
    secret = _webhook_secret(args, state)
    if not secret:
        print(
            "saas webhooks send: no webhook secret (set STRIPE_WEBHOOK_SECRET or --secret)", file=sys.stderr
        )
        return 2
    url = args.url or (f"{state.gateway_url}/webhooks/stripe" if state is not None else DEFAULT_URL)
    request = urllib.request.Request(  # noqa: S310 - the operator chooses the URL
        url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": samples.signature_header(body, [secret]),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status, answer = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, exc.read().decode()
    except urllib.error.URLError as exc:
        print(f"saas webhooks send: cannot reach {url}: {exc.reason}", file=sys.stderr)
        return 1
    print(f"{event['type']} {event['id']} → {url}: HTTP {status} {answer}")
    return 0 if 200 <= status < 300 else 1


def register(subparsers: Any) -> None:
    from saascore.billing.events import HANDLED_EVENTS

    parser = subparsers.add_parser(
        "webhooks", help="Stripe webhook operations (parked, replay, redrive, send)"
    )
    commands = parser.add_subparsers(dest="webhooks_command", required=True)

    parked = commands.add_parser("parked", help="list events waiting for their customer to be linked")
    parked.add_argument("--limit", type=int, default=PARKED_LIST_LIMIT, help="show at most this many")
    parked.set_defaults(handler=run_parked)

    replay = commands.add_parser("replay", help="re-apply a stored Stripe event, or route a parked one")
    replay.add_argument("event_id")
    replay.add_argument(
        "--tenant", help="tenant slug: route a parked event there and link its customer to that tenant"
    )
    replay.set_defaults(handler=run_replay)

    redrive = commands.add_parser("redrive", help="move webhooks DLQ messages back to the queue")
    redrive.add_argument("--queue-url", help="default $WEBHOOK_QUEUE_URL or the local stack's")
    redrive.add_argument("--dlq-url", help="default $WEBHOOK_DLQ_URL or the local stack's")
    redrive.add_argument("--max", type=int, help="move at most this many messages")
    redrive.set_defaults(handler=run_redrive)

    send = commands.add_parser("send", help="sign and POST a realistic Stripe event for a tenant")
    send.add_argument("type", help=f"event type, one of: {', '.join(HANDLED_EVENTS)}")
    send.add_argument("--tenant", required=True, help="tenant slug")
    send.add_argument("--plan", default="starter", choices=["starter", "pro"])
    send.add_argument("--status", help="subscription status (subscription events)")
    send.add_argument("--customer", help="Stripe customer id (default: the tenant's)")
    send.add_argument("--subscription", help="Stripe subscription id (default: a stable one per tenant)")
    send.add_argument("--url", help=f"receiver URL (default: the local gateway, {DEFAULT_URL})")
    send.add_argument(
        "--secret", help="webhook secret (default: the local stack's or $STRIPE_WEBHOOK_SECRET)"
    )
    send.set_defaults(handler=run_send)
