"""SQS → Lambda entry of the webhook delivery worker (partial batch failures).

Each record is one delivery message; ``jobs.webhook_delivery`` does the attempt, in the cell of the
message's tenant (its delivery rows live there; a tenant in no cell any more is dropped). A record that raises
(database or KMS trouble, a refused re-send) comes back after the visibility timeout and ends in the DLQ
after the queue's receive limit; an HTTP failure of the endpoint is not an exception (it is recorded and
rescheduled with a new message).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from jobs.delivery_queue import DeliveryMessage
from jobs.webhook_delivery import Outcome, deliver
from saascore.db.cells import in_tenant_cell
from saascore.db.connection import Database
from saascore.events.settings import get_webhook_settings
from saascore.exceptions import TenantNotInCellError
from saascore.observability import get_logger, get_metrics, get_tracer

logger = get_logger("webhook-delivery")
tracer = get_tracer("webhook-delivery")
metrics = get_metrics("webhook-delivery")
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    message = DeliveryMessage.model_validate_json(record.body)

    def attempt(database: Database) -> Outcome:
        return deliver(message, settings=get_webhook_settings(), database=database)

    try:
        outcome = in_tenant_cell(message.tenant_id, attempt)
    except TenantNotInCellError:
        outcome = "dropped"
    metrics.add_metric(name=f"WebhookDelivery{outcome.capitalize()}", unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
