"""Background jobs in the shared layer: the message model, `enqueue_job` and outbox delivery."""

from __future__ import annotations

from saascore.jobs.exceptions import InvalidJobError, JobError, OutboxError, QueueSendError
from saascore.jobs.model import FINISHED_STATUSES, JobMessage, JobStatus
from saascore.jobs.outbox import deliver_pending, enqueue_job, send_system_job, sweep_outbox

__all__ = [
    "FINISHED_STATUSES",
    "InvalidJobError",
    "JobError",
    "JobMessage",
    "JobStatus",
    "OutboxError",
    "QueueSendError",
    "deliver_pending",
    "enqueue_job",
    "send_system_job",
    "sweep_outbox",
]
