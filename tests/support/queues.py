"""A moto SQS jobs queue with its DLQ, for the tests of the code that enqueues or consumes jobs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from saascore.jobs.outbox import discard_pending, get_sqs_client
from saascore.jobs.settings import get_jobs_queue_settings

MAX_RECEIVES = 3


@dataclass(frozen=True)
class Queues:
    client: Any
    url: str
    dlq_url: str

    def receive(self, *, url: str | None = None, wait: int = 0, visibility: int = 30) -> list[dict[str, Any]]:
        response = self.client.receive_message(
            QueueUrl=url or self.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait,
            VisibilityTimeout=visibility,
            MessageSystemAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def bodies(self, *, url: str | None = None) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self.receive(url=url, visibility=0)]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    get_sqs_client.cache_clear()
    discard_pending()
    with mock_aws():
        yield
    get_sqs_client.cache_clear()
    discard_pending()


@pytest.fixture
def queues(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Queues]:
    client = boto3.client("sqs", region_name="eu-west-1")
    dlq_url = client.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = client.create_queue(
        QueueName="jobs",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES}),
        },
    )["QueueUrl"]
    monkeypatch.setenv("JOBS_QUEUE_URL", url)
    get_jobs_queue_settings.cache_clear()
    yield Queues(client, url, dlq_url)
    get_jobs_queue_settings.cache_clear()
