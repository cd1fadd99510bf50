"""SQS FIFO → Lambda: apply each Stripe event in its own transaction, report partial batch failures.

`SqsFifoPartialProcessor(skip_group_on_error=True)`: when one event fails, the later messages of the same
message group (the same Stripe customer) are returned unprocessed too, so one customer's events never
apply out of order, while other customers' events in the batch go ahead. A failing message is retried by
SQS and moves to the DLQ after 5 receives (a batch in which every record failed raises, as Powertools does by
default; the event source mapping then returns the whole batch, which is the same outcome) (the queue's redrive policy); its error is kept in
``stripe_events`` when its tenant is known.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from saascore.metrics import record_webhook
from saascore.observability import get_logger, get_tracer
from webhooks.dispatch import process_event

SERVICE = "webhooks-processor"
logger = get_logger(SERVICE)
tracer = get_tracer(SERVICE)
processor = SqsFifoPartialProcessor(skip_group_on_error=True)


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    receives = record.attributes.approximate_receive_count
    payload = json.loads(record.body)
    try:
        result = process_event(payload)
    except Exception:
        record_webhook(
            outcome="error", tenant_id=None, event_type=payload.get("type"), event_id=str(payload.get("id"))
        )
        raise
    record_webhook(
        outcome=result.outcome,
        tenant_id=result.tenant_id,
        event_type=payload.get("type"),
        event_id=result.event_id,
    )
    if receives and int(receives) > 1:
        logger.info(
            "Stripe event applied after a retry", extra={"event_id": result.event_id, "receives": receives}
        )
    return result.outcome


@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
