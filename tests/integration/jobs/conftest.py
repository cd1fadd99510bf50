"""Fixtures for the jobs integration tests: tenants as rows, a moto SQS queue with a DLQ, moto SES."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from jobs.tasks.email_templates import TEMPLATES, ses_template_name
from local.moto_process import moto_server_process
from tests.support.queues import MAX_RECEIVES, Queues, aws, queues
from tests.support.tenants import make_tenant, owner_sql

__all__ = ["MAX_RECEIVES", "Queues", "aws", "make_tenant", "owner_sql", "queues"]


@dataclass
class LambdaPoller:
    """Plays the SQS event source mapping: receive a batch, invoke the handler, delete what succeeded."""

    queues: Queues
    handler: Callable[[dict[str, Any], Any], dict[str, Any]]
    context: Any

    def poll(self, *, wait: int = 0) -> tuple[list[dict[str, Any]], list[str]]:
        """One invocation; returns (records delivered, message ids reported failed)."""
        messages = self.queues.receive(wait=wait, visibility=720)
        if not messages:
            return [], []
        records = [sqs_record(message, self.queues) for message in messages]
        response = self.handler({"Records": records}, self.context)
        failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
        for message in messages:
            if message["MessageId"] not in failed:
                self.queues.client.delete_message(
                    QueueUrl=self.queues.url, ReceiptHandle=message["ReceiptHandle"]
                )
        return records, failed


def sqs_record(message: dict[str, Any], queues: Queues) -> dict[str, Any]:
    """The Lambda SQS event record for a received message (shape of tests/events/sqs)."""
    arn = queues.client.get_queue_attributes(QueueUrl=queues.url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "eu-west-1",
    }


@pytest.fixture
def jobs_env(queues: Queues, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The jobs function's settings for tests: three attempts, 1-2 s backoff so retries are observable."""
    from jobs.settings import get_settings

    monkeypatch.setenv("JOB_MAX_ATTEMPTS", str(MAX_RECEIVES))
    monkeypatch.setenv("JOB_BACKOFF_BASE_SECONDS", "1")
    monkeypatch.setenv("JOB_BACKOFF_CAP_SECONDS", "2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def poller(queues: Queues, jobs_env: None, app_database: Any, lambda_context: Any) -> LambdaPoller:
    from jobs.worker import handler

    return LambdaPoller(queues, handler, lambda_context)


@pytest.fixture
def visibility_changes(queues: Queues) -> list[int]:
    """VisibilityTimeout of every ChangeMessageVisibility call the code makes (botocore event hook)."""
    from saascore.jobs.outbox import get_sqs_client

    seen: list[int] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(int(params["VisibilityTimeout"]))

    get_sqs_client().meta.events.register("provide-client-params.sqs.ChangeMessageVisibility", record)
    return seen


@pytest.fixture(scope="module")
def moto_server_url() -> Iterator[str]:
    """moto as a separate process, so tracemalloc in the test measures only this process's memory."""
    with moto_server_process() as url:
        yield url


@pytest.fixture
def s3_bucket(moto_server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A bucket on the moto server process; the jobs settings point REPORTS_BUCKET at it."""
    from jobs.clients import clear_clients
    from jobs.settings import get_settings

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bucket = f"reports-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    monkeypatch.setenv("REPORTS_BUCKET", bucket)
    monkeypatch.setenv("REPORT_PART_BYTES", str(5 * 1024 * 1024))
    get_settings.cache_clear()
    clear_clients()
    yield bucket
    get_settings.cache_clear()
    clear_clients()


SENDER = "noreply@saas.example"


@pytest.fixture
def ses(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Moto SES with a verified sender and every template; yields the backend (its `sent_messages`)."""
    from jobs.clients import clear_clients
    from jobs.settings import get_settings

    monkeypatch.setenv("EMAIL_SENDER", SENDER)
    get_settings.cache_clear()
    clear_clients()
    client = boto3.client("ses", region_name="eu-west-1")
    client.verify_email_identity(EmailAddress=SENDER)
    for name, template in TEMPLATES.items():
        client.create_template(
            Template={
                "TemplateName": ses_template_name("saas", name),
                "SubjectPart": template.subject,
                "HtmlPart": template.html,
                "TextPart": template.text,
            }
        )
    yield ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
    get_settings.cache_clear()
    clear_clients()


@pytest.fixture
def run(app_database: Any, owner_sql: Callable[..., list[dict[str, Any]]]) -> Callable[..., dict[str, Any]]:
    """Run send_email as the worker would for attempt `attempt` of job `job_id` (a new job by default)."""
    from jobs.context import JobContext
    from jobs.settings import get_settings
    from jobs.tasks.email import send_email

    def run_job(
        tenant: uuid.UUID, payload: dict[str, Any], *, job_id: uuid.UUID | None = None, attempt: int = 1
    ) -> dict[str, Any]:
        if job_id is None:
            [row] = owner_sql(
                tenant,
                "INSERT INTO jobs (tenant_id, type, payload, status, attempts) "
                "VALUES (%s, 'send_email', %s, 'running', 1) RETURNING id",
                (tenant, json.dumps(payload)),
            )
            job_id = row["id"]
        context = JobContext(
            job_id=job_id,
            job_type="send_email",
            tenant_id=tenant,
            payload=payload,
            attempt=attempt,
            settings=get_settings(),
            database=app_database,
        )
        return send_email(context)

    return run_job
