"""SQS → Lambda entry of the job worker (Powertools batch processing with partial batch failures).

Each record is one job message; ``jobs.runner`` does the work. A record that must come back later gets
its visibility timeout changed to the backoff delay before it is reported failed; a dead job's record is
made visible at once so SQS moves it to the DLQ on the next receive (receive count > maxReceiveCount).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from jobs.exceptions import JobDead, PermanentJobError, RetryLater
from jobs.runner import Outcome, run_message
from jobs.settings import get_settings
from saascore.db.cells import POOLED_CELL, cell_database, in_tenant_cell
from saascore.db.connection import Database
from saascore.exceptions import TenantNotInCellError
from saascore.jobs.model import JobMessage
from saascore.jobs.outbox import get_sqs_client
from saascore.metrics import record_job
from saascore.observability import get_logger, get_tracer

logger = get_logger("jobs")
tracer = get_tracer("jobs")
# Every failed record already has the visibility it should come back with; reporting an all-failed
# batch as item failures (instead of raising) keeps those timeouts and avoids a Lambda error metric.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    try:
        message = JobMessage.model_validate_json(record.body)
    except ValidationError as exc:
        logger.error(
            "unparseable job message; it will end in the DLQ", extra={"message_id": record.message_id}
        )
        _set_visibility(record, 0)
        raise PermanentJobError("unparseable job message") from exc
    receive_count = int(record.attributes.approximate_receive_count)
    try:
        outcome = _run_in_tenant_cell(message, receive_count)
    except RetryLater as exc:
        _record(message, "retried")
        _set_visibility(record, exc.delay_seconds)
        raise
    except JobDead:
        _record(message, "dead")
        _set_visibility(record, 0)
        raise
    _record(message, outcome)
    return outcome


def _run_in_tenant_cell(message: JobMessage, receive_count: int) -> Outcome:
    """Run the message in its tenant's cell (routed again if a cached route went stale); a message whose
    tenant is in no cell (erased) is dropped, as one for a job whose row is gone is."""

    def run(database: Database) -> Outcome:
        return run_message(message, receive_count=receive_count, settings=get_settings(), database=database)

    if message.tenant_id is None:
        return run(cell_database(POOLED_CELL))
    try:
        return in_tenant_cell(message.tenant_id, run)
    except TenantNotInCellError:
        logger.info(
            "the job's tenant is in no cell (erased); message dropped",
            extra={"job_id": str(message.job_id), "tenant_id": str(message.tenant_id)},
        )
        return "skipped"


def _record(message: JobMessage, outcome: str) -> None:
    record_job(outcome=outcome, tenant_id=message.tenant_id, job_type=message.type, job_id=message.job_id)


def _set_visibility(record: SQSRecord, seconds: int) -> None:
    queue_url = get_settings().jobs_queue_url or _queue_url_from_arn(
        record.event_source_arn, get_sqs_client()
    )
    get_sqs_client().change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=seconds
    )


def _queue_url_from_arn(arn: str, client: Any) -> str:
    _, _, _, _, account, name = arn.split(":", 5)
    return str(client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
