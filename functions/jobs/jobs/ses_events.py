"""SQS → Lambda entry of the SES feedback consumer (SES configuration set → SNS → SQS → here).

Powertools batch processing with partial batch failures, like ``jobs.worker``. A message that is not SES
feedback raises, is reported as a batch item failure and reaches the DLQ after the queue's
``maxReceiveCount`` receives: never dropped. Database errors fail the record the same way and are retried.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from jobs.email_feedback import apply_decision
from jobs.exceptions import MalformedSesNotification
from jobs.ses_notifications import decide, parse_message
from saascore.observability import get_logger, get_metrics, get_tracer

logger = get_logger("ses-events")
tracer = get_tracer("ses-events")
metrics = get_metrics("ses-events")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    try:
        event = parse_message(record.body)
    except MalformedSesNotification:
        logger.error(
            "unreadable SES notification; it will end in the DLQ", extra={"message_id": record.message_id}
        )
        metrics.add_metric(name="SesEventMalformed", unit=MetricUnit.Count, value=1)
        raise
    if event is None:
        metrics.add_metric(name="SesEventIgnored", unit=MetricUnit.Count, value=1)
        return "ignored"
    decision = decide(event)
    updated = apply_decision(decision)
    logger.info(
        "SES feedback applied",
        extra={
            "kind": event.kind,
            "feedback": decision.feedback,
            "suppressed": len(decision.suppressions),
            "ledger_rows": updated,
            "tenant_id": str(event.tenant_id),
            "job_id": str(event.job_id),
        },
    )
    metrics.add_metric(name=f"SesEvent{event.kind.capitalize()}", unit=MetricUnit.Count, value=1)
    if decision.suppressions:
        metrics.add_metric(name="EmailSuppressed", unit=MetricUnit.Count, value=len(decision.suppressions))
    return decision.feedback


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
