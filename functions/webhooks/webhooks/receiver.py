"""`POST /webhooks/stripe` (its own Function URL): verify the Stripe signature, enqueue, answer fast.

Nothing is written before the signature checks out: a bad or missing ``Stripe-Signature``, a timestamp
outside the tolerance (past or future) or an oversized body is a 4xx problem and enqueues nothing. So is a
validly signed body that is not a Stripe event (``[1,2,3]``, ``null``, ``{}``, an event without
``api_version``): it can never succeed, whoever retries it. A verified event goes to the FIFO queue
(group = Stripe customer, dedup = event id) and the answer is 200; if SQS refuses, or the secret is not
configured, the answer is a 5xx so Stripe retries later and nothing is lost.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import stripe
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from saascore.billing.events import StripeEvent
from saascore.billing.exceptions import MalformedEventError
from saascore.billing.stripe_api import STRIPE_API_VERSION
from saascore.observability import get_logger, get_metrics, get_tracer
from saascore.problems import Problem, function_url_response
from saascore.secrets import resolve_secret
from webhooks.exceptions import RejectedError
from webhooks.settings import WebhooksSettings, get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SERVICE = "webhooks-receiver"
logger = get_logger(SERVICE)
tracer = get_tracer(SERVICE)
metrics = get_metrics(SERVICE)

Response = dict[str, Any]


@lru_cache(maxsize=1)
def sqs_client() -> SQSClient:
    import boto3

    return boto3.client("sqs")


def webhook_secrets(settings: WebhooksSettings) -> list[str]:
    """The accepted endpoint secrets; `resolve_secret` caches the Secrets Manager value for 5 minutes."""
    value = resolve_secret(settings.webhook_secret) if settings.webhook_secret else ""
    return [secret.strip() for secret in value.split(",") if secret.strip()]


def verify(payload: str, header: str | None, secrets: Sequence[str], *, tolerance: int) -> StripeEvent:
    """The verified event, or `RejectedError`: any configured secret may match (secret rotation)."""
    if not secrets:
        raise RejectedError(Problem(500, "Webhook secret not configured", "webhook-misconfigured"))
    error: stripe.SignatureVerificationError | None = None
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=tolerance)
            break
        except stripe.SignatureVerificationError as exc:
            error = exc
    else:
        raise RejectedError(
            Problem(400, "Invalid Stripe signature", "webhook-bad-signature", detail=str(error))
        )
    # verify_header refuses old timestamps only; a timestamp from the future is as suspicious.
    signed_at = int(dict(part.split("=", 1) for part in str(header).split(",") if "=" in part).get("t", "0"))
    if signed_at > time.time() + tolerance:
        raise RejectedError(
            Problem(
                400, "Invalid Stripe signature", "webhook-bad-signature", detail="timestamp in the future"
            )
        )
    return parse_event(payload)


def parse_event(payload: str) -> StripeEvent:
    """The signed body as a Stripe event, or a 400: signed JSON that is not an event never becomes one."""
    try:
        document = json.loads(payload)
    except ValueError as exc:
        raise RejectedError(Problem(400, "Body is not JSON", "webhook-bad-body")) from exc
    try:
        return StripeEvent.parse(document)
    except MalformedEventError as exc:
        raise RejectedError(
            Problem(400, "Body is not a Stripe event", "webhook-not-an-event", detail=str(exc))
        ) from exc


def enqueue(payload: str, event: StripeEvent, *, queue_url: str) -> None:
    try:
        sqs_client().send_message(
            QueueUrl=queue_url,
            MessageBody=payload,
            MessageGroupId=event.customer_id or event.id,
            MessageDeduplicationId=event.id,
        )
    except (BotoCoreError, ClientError) as exc:
        logger.exception("could not enqueue the Stripe event", extra={"event_id": event.id})
        raise RejectedError(
            Problem(503, "Queue unavailable, retry later", "webhook-queue-unavailable")
        ) from exc


def receive(body: str, headers: Mapping[str, str], settings: WebhooksSettings) -> StripeEvent:
    if len(body.encode()) > settings.max_body_bytes:
        raise RejectedError(Problem(413, "Body too large", "webhook-body-too-large"))
    event = verify(
        body, headers.get("stripe-signature"), webhook_secrets(settings), tolerance=settings.tolerance_seconds
    )
    if event.livemode != settings.livemode:
        raise RejectedError(
            Problem(400, "Event mode does not match this endpoint", "webhook-livemode-mismatch")
        )
    if event.api_version != STRIPE_API_VERSION:
        logger.warning(
            "event API version differs from the pinned one", extra={"api_version": event.api_version}
        )
    enqueue(body, event, queue_url=settings.webhook_queue_url)
    return event


def raw_body(event: LambdaFunctionUrlEvent) -> str:
    """The body exactly as Stripe signed it (Function URLs base64-encode non-text bodies)."""
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise RejectedError(Problem(400, "Body is not UTF-8 JSON", "webhook-bad-body")) from exc
    return body


@metrics.log_metrics
@tracer.capture_lambda_handler
@event_source(data_class=LambdaFunctionUrlEvent)
def handler(event: LambdaFunctionUrlEvent, context: LambdaContext) -> Response:
    try:
        if event.request_context.http.method != "POST":
            raise RejectedError(Problem(405, "Method not allowed", "method-not-allowed"))
        received = receive(raw_body(event), event.headers, get_settings())
    except RejectedError as rejected:
        metrics.add_metric(name=f"Rejected{rejected.problem.status}", unit=MetricUnit.Count, value=1)
        logger.info(
            "webhook rejected", extra={"status": rejected.problem.status, "reason": rejected.problem.title}
        )
        return function_url_response(rejected.problem)
    metrics.add_metric(name="Enqueued", unit=MetricUnit.Count, value=1)
    logger.info("webhook enqueued", extra={"event_id": received.id, "event_type": received.type})
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"received": True, "id": received.id}),
    }
