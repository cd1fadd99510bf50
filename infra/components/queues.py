"""A work queue with its dead-letter queue: SSE, TLS-only, redrive after a fixed number of receives,
and a visibility timeout derived from the consumer's timeout (AWS: at least 6x for Lambda consumers)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components import checkov

MAX_RECEIVES = 5
VISIBILITY_FACTOR = 6
DLQ_RETENTION = Duration.days(14)


class QueueWithDlq(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, consumer_timeout: Duration, fifo: bool = False
    ) -> None:
        super().__init__(scope, construct_id)
        fifo_props: dict[str, object] = (
            {
                "fifo": True,
                "content_based_deduplication": False,
                # High-throughput FIFO: dedup and ordering per message group (Stripe customer).
                "deduplication_scope": sqs.DeduplicationScope.MESSAGE_GROUP,
                "fifo_throughput_limit": sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
            }
            if fifo
            else {}
        )
        self.dead_letter_queue = sqs.Queue(
            self,
            "Dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
            **({"fifo": True} if fifo else {}),  # type: ignore[arg-type]
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(consumer_timeout.to_seconds() * VISIBILITY_FACTOR),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=MAX_RECEIVES, queue=self.dead_letter_queue
            ),
            **fifo_props,  # type: ignore[arg-type]
        )
        for queue in (self.queue, self.dead_letter_queue):
            checkov.skip(
                queue,
                "CKV_AWS_27",
                "Encrypted at rest with SSE-SQS (SQS-managed keys); a KMS key would add per-request KMS calls "
                "and a key policy for every producer and consumer without protecting more.",
            )
