"""The receiver: real HMAC signatures, Secrets Manager secret, SQS FIFO through moto."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import ClientError
from moto import mock_aws

from saas_cli import stripe_samples as samples
from webhooks import receiver
from webhooks.settings import get_settings

EVENTS = Path(__file__).resolve().parents[2] / "events"
NEW_SECRET = "whsec_new_0123456789"
OLD_SECRET = "whsec_old_9876543210"
TENANT = "5b1c2f54-0d7b-4f0e-9d1e-1f8e2a6f0c11"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName="stripe-events.fifo", Attributes={"FifoQueue": "true"})[
            "QueueUrl"
        ]
        boto3.client("secretsmanager").create_secret(
            Name="stripe/webhook", SecretString=json.dumps({"secrets": f"{NEW_SECRET},{OLD_SECRET}"})
        )
        monkeypatch.setenv("WEBHOOK_QUEUE_URL", queue_url)
        monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "secretsmanager:stripe/webhook#secrets")
        get_settings.cache_clear()
        receiver.sqs_client.cache_clear()
        parameters.clear_caches()
        yield sqs, queue_url
        get_settings.cache_clear()
        receiver.sqs_client.cache_clear()
        parameters.clear_caches()


def url_event(
    body: str, headers: dict[str, str], *, method: str = "POST", b64: bool = False
) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "webhooks" / "function_url_event.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/webhooks/stripe"
    event["requestContext"]["http"]["method"] = method
    event["headers"] = {"content-type": "application/json", "user-agent": "Stripe/1.0", **headers}
    event["body"] = base64.b64encode(body.encode()).decode() if b64 else body
    event["isBase64Encoded"] = b64
    return event


def stripe_payload(**overrides) -> str:
    event = samples.build_event("customer.subscription.updated", customer="cus_R1", tenant_id=TENANT)
    event.update(overrides)
    return json.dumps(event)


def call(event: dict[str, Any], lambda_context) -> tuple[int, dict[str, Any]]:
    response = receiver.handler(event, lambda_context)
    return response["statusCode"], json.loads(response["body"])


def messages(sqs, queue_url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", [])
    return found


def test_valid_signature_enqueues_with_customer_group_and_event_dedup(aws, lambda_context) -> None:
    sqs, queue_url = aws
    body = stripe_payload()
    status, answer = call(
        url_event(body, {"stripe-signature": samples.signature_header(body, [NEW_SECRET])}), lambda_context
    )
    assert status == 200
    [message] = messages(sqs, queue_url)
    assert message["Body"] == body
    assert message["Attributes"]["MessageGroupId"] == "cus_R1"
    assert message["Attributes"]["MessageDeduplicationId"] == json.loads(body)["id"] == answer["id"]


def test_base64_body_is_verified_as_sent(aws, lambda_context) -> None:
    body = stripe_payload()
    header = samples.signature_header(body, [NEW_SECRET])
    assert call(url_event(body, {"stripe-signature": header}, b64=True), lambda_context)[0] == 200


@pytest.mark.parametrize(
    ("secrets", "timestamp_offset"),
    [
        (["whsec_wrong"], 0),  # wrong secret
        ([NEW_SECRET], -330),  # stale: older than the 300 s tolerance
        ([NEW_SECRET], 330),  # from the future
    ],
    ids=["wrong-secret", "stale", "future"],
)
def test_bad_signatures_are_400_problems_and_enqueue_nothing(
    aws, lambda_context, secrets, timestamp_offset
) -> None:
    sqs, queue_url = aws
    body = stripe_payload()
    header = samples.signature_header(body, secrets, timestamp=int(time.time()) + timestamp_offset)
    response = receiver.handler(url_event(body, {"stripe-signature": header}), lambda_context)
    assert response["statusCode"] == 400
    assert response["headers"]["content-type"] == "application/problem+json"
    assert json.loads(response["body"])["type"].endswith("/webhook-bad-signature")
    assert messages(sqs, queue_url) == []


def test_tampered_body_is_refused(aws, lambda_context) -> None:
    sqs, queue_url = aws
    body = stripe_payload()
    header = samples.signature_header(body, [NEW_SECRET])
    tampered = body.replace('"active"', '"canceled"')
    assert tampered != body
    assert call(url_event(tampered, {"stripe-signature": header}), lambda_context)[0] == 400
    assert messages(sqs, queue_url) == []


def test_missing_signature_header_is_refused(aws, lambda_context) -> None:
    sqs, queue_url = aws
    status, problem = call(url_event(stripe_payload(), {}), lambda_context)
    assert (status, problem["status"]) == (400, 400)
    assert messages(sqs, queue_url) == []


def test_rotated_secrets_old_secret_still_accepted(aws, lambda_context) -> None:
    body = stripe_payload()
    header = samples.signature_header(body, [OLD_SECRET])
    assert call(url_event(body, {"stripe-signature": header}), lambda_context)[0] == 200


def test_rotation_header_with_several_v1_signatures_is_accepted(aws, lambda_context, monkeypatch) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", NEW_SECRET)
    get_settings.cache_clear()
    body = stripe_payload()
    header = samples.signature_header(body, ["whsec_retired_by_stripe", NEW_SECRET])
    assert header.count("v1=") == 2
    assert call(url_event(body, {"stripe-signature": header}), lambda_context)[0] == 200


def test_secret_is_read_from_secrets_manager_once_and_cached(aws, lambda_context, monkeypatch) -> None:
    calls = []
    original = parameters.get_secret

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(parameters, "get_secret", counting)
    for _ in range(3):
        body = stripe_payload()
        assert (
            call(
                url_event(body, {"stripe-signature": samples.signature_header(body, [NEW_SECRET])}),
                lambda_context,
            )[0]
            == 200
        )
    # Powertools caches the value for 5 minutes: only the first call reaches Secrets Manager.
    boto3.client("secretsmanager").put_secret_value(
        SecretId="stripe/webhook", SecretString='{"secrets": "whsec_other"}'
    )
    body = stripe_payload()
    assert (
        call(
            url_event(body, {"stripe-signature": samples.signature_header(body, [NEW_SECRET])}),
            lambda_context,
        )[0]
        == 200
    )
    assert len(calls) == 4


def test_livemode_mismatch_is_refused(aws, lambda_context) -> None:
    sqs, queue_url = aws
    body = stripe_payload(livemode=True)
    status, problem = call(
        url_event(body, {"stripe-signature": samples.signature_header(body, [NEW_SECRET])}), lambda_context
    )
    assert status == 400
    assert problem["type"].endswith("/webhook-livemode-mismatch")
    assert messages(sqs, queue_url) == []


def test_body_over_the_limit_is_413_before_verification(aws, lambda_context, monkeypatch) -> None:
    monkeypatch.setenv("WEBHOOK_MAX_BODY_BYTES", "2048")
    get_settings.cache_clear()
    event = json.loads(stripe_payload())
    event["data"]["object"]["metadata"]["padding"] = "x" * 4096
    body = json.dumps(event)
    status, _ = call(
        url_event(body, {"stripe-signature": samples.signature_header(body, [NEW_SECRET])}), lambda_context
    )
    assert status == 413


def test_sqs_failure_answers_503_so_stripe_retries(aws, lambda_context, monkeypatch) -> None:
    def refuse(**kwargs):
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage")

    monkeypatch.setattr(receiver.sqs_client(), "send_message", refuse)
    body = stripe_payload()
    status, problem = call(
        url_event(body, {"stripe-signature": samples.signature_header(body, [NEW_SECRET])}), lambda_context
    )
    assert status == 503
    assert problem["type"].endswith("/webhook-queue-unavailable")


def test_non_post_is_405(aws, lambda_context) -> None:
    assert call(url_event("", {}, method="GET"), lambda_context)[0] == 405


def test_event_without_customer_groups_by_event_id(aws, lambda_context) -> None:
    sqs, queue_url = aws
    event = samples.event("product.created", {"id": "prod_1", "object": "product"})
    body = json.dumps(event)
    assert (
        call(
            url_event(body, {"stripe-signature": samples.signature_header(body, [NEW_SECRET])}),
            lambda_context,
        )[0]
        == 200
    )
    [message] = messages(sqs, queue_url)
    assert message["Attributes"]["MessageGroupId"] == event["id"]


def test_base64_body_that_is_not_utf8_is_a_400(aws, lambda_context) -> None:
    event = url_event("", {"stripe-signature": "t=1,v1=00"}, b64=True)
    event["body"] = base64.b64encode(b"\xff\xfe").decode()
    status, problem = call(event, lambda_context)
    assert (status, problem["type"].rsplit("/", 1)[1]) == (400, "webhook-bad-body")


def _without_api_version() -> str:
    event = json.loads(stripe_payload())
    del event["api_version"]
    return json.dumps(event)


@pytest.mark.parametrize(
    "body",
    ["[1,2,3]", "null", '"evt"', "{}", "7", _without_api_version(), '{"id": "evt_1", "data": []}'],
    ids=["list", "null", "string", "empty-object", "number", "no-api-version", "data-not-an-object"],
)
def test_signed_json_that_is_not_an_event_is_a_400_problem(aws, lambda_context, body) -> None:
    sqs, queue_url = aws
    response = receiver.handler(
        url_event(body, {"stripe-signature": samples.signature_header(body, [NEW_SECRET])}), lambda_context
    )
    assert response["statusCode"] == 400
    assert response["headers"]["content-type"] == "application/problem+json"
    problem = json.loads(response["body"])
    assert (problem["status"], problem["type"].rsplit("/", 1)[1]) == (400, "webhook-not-an-event")
    assert messages(sqs, queue_url) == []


def test_an_unsigned_non_event_is_refused_for_its_signature_first(aws, lambda_context) -> None:
    status, problem = call(url_event("[1,2,3]", {"stripe-signature": "t=1,v1=00"}), lambda_context)
    assert (status, problem["type"].rsplit("/", 1)[1]) == (400, "webhook-bad-signature")


def test_a_missing_secret_is_a_5xx_so_stripe_retries_once_it_is_fixed(
    aws, lambda_context, monkeypatch
) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "")
    get_settings.cache_clear()
    body = stripe_payload()
    status, problem = call(
        url_event(body, {"stripe-signature": samples.signature_header(body, [NEW_SECRET])}), lambda_context
    )
    assert (status, problem["type"].rsplit("/", 1)[1]) == (500, "webhook-misconfigured")
