"""The webhook delivery queue (SQS standard + DLQ): message shape and sending.

Body ``{"delivery_id", "tenant_id", "due"}``; ``due`` is the delivery's scheduled attempt time, so a
duplicate or out-of-date message (its delivery was rescheduled since) is recognised and dropped. SQS
delays a message at most 15 minutes: a later attempt is reached by re-sending the message with the
largest delay until it is due (``jobs.webhook_delivery``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from jobs.exceptions import DeliveryQueueError
from saascore.events.settings import get_webhook_settings
from saascore.jobs.outbox import get_sqs_client

MAX_DELAY_SECONDS: Final = 900  # SQS DelaySeconds maximum
SQS_BATCH_SIZE: Final = 10


class DeliveryMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    delivery_id: UUID
    tenant_id: UUID
    due: datetime


def send_deliveries(messages: list[DeliveryMessage], *, delay_seconds: int = 0) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    queue_url = get_webhook_settings().delivery_queue_url
    if queue_url is None:
        raise DeliveryQueueError("WEBHOOK_DELIVERY_QUEUE_URL is not set")
    delay = max(0, min(delay_seconds, MAX_DELAY_SECONDS))
    for start in range(0, len(messages), SQS_BATCH_SIZE):
        chunk = messages[start : start + SQS_BATCH_SIZE]
        try:
            response = get_sqs_client().send_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "MessageBody": message.model_dump_json(), "DelaySeconds": delay}
                    for index, message in enumerate(chunk)
                ],
            )
        except (BotoCoreError, ClientError) as exc:
            raise DeliveryQueueError(f"SQS SendMessageBatch failed: {exc}") from exc
        if response.get("Failed"):
            raise DeliveryQueueError(f"SQS refused {len(response['Failed'])} delivery message(s)")
