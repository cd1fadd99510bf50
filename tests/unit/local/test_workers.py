"""The local event source mapping honours batchItemFailures; visibility and redrive come from SQS (moto)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.runtime import LocalFunction
from local.state import QueuePair
from local.workers import QueuePoller
from tests.unit.local import handlers_for_tests


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def make_queue(sqs: Any, *, fifo: bool, max_receives: int = 2) -> QueuePair:
    suffix = ".fifo" if fifo else ""
    extra = {"FifoQueue": "true"} if fifo else {}
    dlq_url = sqs.create_queue(QueueName=f"dlq{suffix}", Attributes=extra)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
    url = sqs.create_queue(
        QueueName=f"main{suffix}", Attributes={**extra, "VisibilityTimeout": "1", "RedrivePolicy": redrive}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return QueuePair(f"main{suffix}", url, arn, f"dlq{suffix}", dlq_url, dlq_arn)


def depth(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def poller(sqs: Any, queue: QueuePair) -> QueuePoller:
    function = LocalFunction("test", "tests.unit.local.handlers_for_tests.sqs_batch", timeout=5)
    return QueuePoller(sqs, queue, function, wait_seconds=0)


def test_only_reported_failures_stay_and_reach_the_dlq_after_max_receives(sqs: Any) -> None:
    queue = make_queue(sqs, fifo=False)
    for body in ("ok-1", "poison", "ok-2"):
        sqs.send_message(QueueUrl=queue.url, MessageBody=body)
    worker = poller(sqs, queue)
    assert worker.poll_once() == 3
    assert worker.stats.succeeded == 2
    assert worker.stats.failed == 1
    assert depth(sqs, queue.url) == 1  # only the poison message is left, invisible for now
    last_event = handlers_for_tests.calls[-1][1]
    assert {r["body"] for r in last_event["Records"]} == {"ok-1", "poison", "ok-2"}
    time.sleep(1.1)
    assert worker.poll_once() == 1  # second receive
    assert last_receive_count(handlers_for_tests.calls[-1][1]) == "2"
    time.sleep(1.1)
    assert worker.poll_once() == 0  # maxReceiveCount 2 reached: moto moved it to the DLQ
    assert depth(sqs, queue.url) == 0
    assert depth(sqs, queue.dlq_url) == 1


def last_receive_count(event: dict[str, Any]) -> str:
    return str(event["Records"][0]["attributes"]["ApproximateReceiveCount"])


def test_a_raising_handler_leaves_the_whole_batch(sqs: Any) -> None:
    queue = make_queue(sqs, fifo=False, max_receives=5)
    for body in ("a", "explode"):
        sqs.send_message(QueueUrl=queue.url, MessageBody=body)
    worker = poller(sqs, queue)
    assert worker.poll_once() == 2
    assert worker.stats.handler_errors == 1
    assert worker.stats.succeeded == 0
    assert depth(sqs, queue.url) == 2


def test_fifo_records_carry_group_and_dedup_ids(sqs: Any) -> None:
    queue = make_queue(sqs, fifo=True)
    sqs.send_message(
        QueueUrl=queue.url, MessageBody="ok", MessageGroupId="cus_1", MessageDeduplicationId="evt_1"
    )
    worker = poller(sqs, queue)
    assert worker.poll_once() == 1
    record = handlers_for_tests.calls[-1][1]["Records"][0]
    assert record["attributes"]["MessageGroupId"] == "cus_1"
    assert record["attributes"]["MessageDeduplicationId"] == "evt_1"
    assert record["eventSourceARN"] == queue.arn
    assert depth(sqs, queue.url) == 0
