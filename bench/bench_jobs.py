"""Background jobs benchmarks, each with a baseline measured in the same run.

1. Throughput: `expire_sessions` jobs (claim, three chunked deletes, finish: five tenant transactions)
   through ``jobs.worker.handler`` in batches of ten from a moto SQS queue on local PostgreSQL, vs the
   floor: the same receive/delete loop with raw psycopg running the same number of transactions with
   the claim and finish statements only.
2. Memory: tracemalloc peak of a 50k-row `project_report` (streamed, multipart) vs building the same CSV
   in memory and uploading it with one put_object. S3 is a moto server in another process, so only this
   process's memory is traced.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from local.moto_process import moto_server_process
from local.runtime import LambdaContext

JOBS = 200
REPORT_ROWS = 50_000


def Context() -> LambdaContext:
    return LambdaContext(function_name="bench-jobs", memory_limit_in_mb=512, timeout_seconds=120)


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def clear_caches() -> None:
    from jobs.clients import clear_clients
    from jobs.settings import get_settings
    from saascore.db.connection import get_database
    from saascore.jobs.outbox import get_sqs_client
    from saascore.jobs.settings import get_jobs_queue_settings
    from saascore.settings import get_database_settings

    for cached in (
        get_settings,
        get_database,
        get_database_settings,
        get_sqs_client,
        get_jobs_queue_settings,
    ):
        cached.cache_clear()
    clear_clients()


def databases() -> Iterator[Callable[[], tuple[str, str]]]:
    from tests.support.postgres import build_template, clone_database, start_server

    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        for server in start_server(Path(tmp)):
            build_template(server)

            def fresh(server: Any = server) -> tuple[str, str]:
                database = clone_database(server)
                return database.app_url, database.owner_url

            yield fresh


def make_tenant(owner_url: str) -> uuid.UUID:
    tenant = uuid.uuid4()
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (tenant,))
        slug = f"bench-{tenant.hex[:8]}"
        conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, %s, %s)", (tenant, slug, slug))
    return tenant


def sqs_record(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:bench-jobs",
        "awsRegion": "eu-west-1",
    }


def drain(client: Any, url: str, process: Callable[[list[dict[str, Any]]], list[str]]) -> int:
    done = 0
    while True:
        messages = client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return done
        failed = set(process(messages))
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if m["MessageId"] not in failed
        ]
        if entries:
            client.delete_message_batch(QueueUrl=url, Entries=entries)
        done += len(entries)


def enqueue_jobs(tenant: uuid.UUID, count: int) -> None:
    from saascore.db.tenancy import tenant_transaction
    from saascore.jobs import deliver_pending, enqueue_job

    for start in range(0, count, 50):
        with tenant_transaction(tenant) as conn:
            for _ in range(min(50, count - start)):
                enqueue_job(conn, tenant_id=tenant, job_type="expire_sessions", payload={})
        deliver_pending()


def bench_throughput(fresh: Callable[[], tuple[str, str]]) -> None:
    import boto3
    from moto import mock_aws

    def worker_run(app_url: str, owner_url: str) -> float:
        with mock_aws():
            client = boto3.client("sqs", region_name="eu-west-1")
            url = client.create_queue(QueueName="bench-jobs")["QueueUrl"]
            with environment(DATABASE_URL=app_url, JOBS_QUEUE_URL=url):
                clear_caches()
                from jobs.worker import handler

                tenant = make_tenant(owner_url)
                enqueue_jobs(tenant, JOBS)
                started = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):  # EMF metric lines, as Lambda prints them
                    done = drain(
                        client,
                        url,
                        lambda ms: [
                            f["itemIdentifier"]
                            for f in handler({"Records": [sqs_record(m) for m in ms]}, Context())[
                                "batchItemFailures"
                            ]
                        ],
                    )
                elapsed = time.perf_counter() - started
                clear_caches()
        assert done == JOBS, done
        return elapsed

    def raw_run(app_url: str, owner_url: str) -> float:
        with mock_aws():
            client = boto3.client("sqs", region_name="eu-west-1")
            url = client.create_queue(QueueName="bench-jobs")["QueueUrl"]
            with environment(DATABASE_URL=app_url, JOBS_QUEUE_URL=url):
                clear_caches()
                tenant = make_tenant(owner_url)
                enqueue_jobs(tenant, JOBS)
                clear_caches()
            with psycopg.connect(app_url, autocommit=True, prepare_threshold=None) as conn:

                def process(messages: list[dict[str, Any]]) -> list[str]:
                    for message in messages:
                        body = json.loads(message["Body"])
                        for statement in (
                            "UPDATE jobs SET status = 'running', attempts = attempts + 1 WHERE id = %s",
                            "SELECT 1 WHERE %s::uuid IS NOT NULL",  # the job's three deletes
                            "SELECT 1 WHERE %s::uuid IS NOT NULL",
                            "SELECT 1 WHERE %s::uuid IS NOT NULL",
                            "UPDATE jobs SET status = 'succeeded', finished_at = now() WHERE id = %s",
                        ):
                            with conn.transaction():
                                conn.execute("SELECT app.set_tenant(%s, %s)", (body["tenant_id"], 5000))
                                conn.execute(statement, (body["job_id"],))
                    return []

                started = time.perf_counter()
                done = drain(client, url, process)
                elapsed = time.perf_counter() - started
        assert done == JOBS, done
        return elapsed

    worker_run(*fresh())  # warm-up: imports, first connections
    worker_seconds = min(worker_run(*fresh()) for _ in range(2))
    raw_seconds = min(raw_run(*fresh()) for _ in range(2))
    print(
        f"worker throughput: {JOBS / worker_seconds:,.0f} jobs/s ({JOBS} expire_sessions jobs, batches of 10) | "
        f"raw psycopg + same SQS loop: {JOBS / raw_seconds:,.0f} jobs/s | ratio {worker_seconds / raw_seconds:.2f}x time"
    )


def bench_report_memory(fresh: Callable[[], tuple[str, str]]) -> None:
    import boto3

    app_url, owner_url = fresh()
    with (
        moto_server_process() as endpoint,
        environment(
            AWS_ENDPOINT_URL=endpoint,
            AWS_DEFAULT_REGION="eu-west-1",
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            DATABASE_URL=app_url,
            REPORTS_BUCKET="bench-reports",
            REPORT_PART_BYTES=str(5 * 1024 * 1024),
        ),
    ):
        clear_caches()
        from jobs.clients import get_s3_client
        from jobs.context import JobContext
        from jobs.settings import get_settings
        from jobs.tasks.reports import COLUMNS, _cells, project_report
        from saascore.db.connection import get_database

        get_s3_client().create_bucket(
            Bucket="bench-reports", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        tenant = make_tenant(owner_url)
        with psycopg.connect(owner_url) as conn:
            conn.execute("SELECT app.set_tenant(%s)", (tenant,))
            conn.execute(
                "INSERT INTO projects (tenant_id, name, description) SELECT %s, 'Project ' || g, "
                "repeat(md5(g::text), 7) FROM generate_series(1, %s) g",
                (tenant, REPORT_ROWS),
            )
        ctx = JobContext(
            job_id=uuid.uuid4(),
            job_type="project_report",
            tenant_id=tenant,
            payload={},
            attempt=1,
            settings=get_settings(),
            database=get_database(),
        )

        tracemalloc.start()
        started = time.perf_counter()
        result = project_report(ctx)
        streamed_seconds = time.perf_counter() - started
        _, streamed_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        tracemalloc.start()
        started = time.perf_counter()
        with psycopg.connect(app_url) as conn:
            conn.execute("SELECT app.set_tenant(%s)", (tenant,))
            rows = conn.execute(
                "SELECT id, name, description, status, created_at, updated_at FROM projects ORDER BY created_at, id"
            ).fetchall()
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        writer.writerows(_cells(dict(zip(COLUMNS, row, strict=True))) for row in rows)
        boto3.client("s3").put_object(Bucket="bench-reports", Key="naive.csv", Body=text.getvalue().encode())
        naive_seconds = time.perf_counter() - started
        _, naive_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        clear_caches()
    mib = 1024 * 1024
    print(
        f"project_report {REPORT_ROWS:,} rows, {result['bytes'] / mib:.1f} MiB CSV: streamed peak "
        f"{streamed_peak / mib:.1f} MiB in {streamed_seconds:.1f} s | in-memory CSV + put_object peak "
        f"{naive_peak / mib:.1f} MiB in {naive_seconds:.1f} s | memory ratio {streamed_peak / naive_peak:.2f}x"
    )


def main() -> None:
    region = {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
    for fresh in databases():
        with environment(**region):
            bench_throughput(fresh)
            bench_report_memory(fresh)
