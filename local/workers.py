"""The local SQS event source mapping: poll a queue, invoke a function with a real SQS event, delete
what succeeded.

As in AWS with `ReportBatchItemFailures`: a handler that returns `batchItemFailures` leaves exactly
those messages on the queue; a handler that raises leaves the whole batch. Nothing is retried here:
messages left on the queue reappear when their visibility timeout ends, and moto moves them to the DLQ
after the queue's `maxReceiveCount`, exactly like SQS does.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from local.events import failed_message_ids, sqs_event
from local.runtime import HandlerUnavailableError, LocalFunction
from local.state import REGION, QueuePair

BATCH_SIZE = 10  # the event source mapping's maximum for FIFO queues, and our default for standard
LONG_POLL_SECONDS = 1

log = logging.getLogger("workers")


@dataclass
class PollerStats:
    batches: int = 0
    messages: int = 0
    succeeded: int = 0
    failed: int = 0
    handler_errors: int = 0
    last_batch_at: float | None = None


class QueuePoller:
    def __init__(
        self,
        sqs: Any,
        queue: QueuePair,
        function: LocalFunction,
        *,
        batch_size: int = BATCH_SIZE,
        wait_seconds: int = LONG_POLL_SECONDS,
    ) -> None:
        self.sqs = sqs
        self.queue = queue
        self.function = function
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.stats = PollerStats()

    def poll_once(self) -> int:
        """Receive one batch, invoke, delete the successes; returns how many messages were received."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        batch: list[dict[str, Any]] = received.get("Messages", [])
        if not batch:
            return 0
        self.stats.batches += 1
        self.stats.messages += len(batch)
        self.stats.last_batch_at = time.time()
        event = sqs_event(batch, queue_arn=self.queue.arn, region=REGION)
        try:
            result = self.function.invoke(event)
        except HandlerUnavailableError:
            raise
        except Exception:
            log.exception("%s failed the whole batch of %d", self.function.name, len(batch))
            self.stats.handler_errors += 1
            self.stats.failed += len(batch)
            return len(batch)
        failed = failed_message_ids(result, batch)
        done = [message for message in batch if message["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done)
                ],
            )
        self.stats.succeeded += len(done)
        self.stats.failed += len(failed)
        if failed:
            log.warning("%s: %d of %d messages failed", self.function.name, len(failed), len(batch))
        return len(batch)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except HandlerUnavailableError as exc:
                log.warning("%s; retrying in 5 s", exc)
                stop.wait(5)
            except Exception:
                # moto restarting or a transient client error: keep the poller alive like the ESM does.
                log.exception("polling %s failed", self.queue.name)
                stop.wait(1)
