"""Errors raised by the job machinery in the shared layer."""

from __future__ import annotations

from saascore.exceptions import SaasError


class JobError(SaasError):
    """Base class of job errors."""


class InvalidJobError(JobError, ValueError):
    """The job type or payload is not acceptable (unknown shape, too large)."""


class OutboxError(JobError):
    """Outbox delivery was attempted where it cannot be safe (e.g. inside an open transaction)."""


class QueueSendError(JobError):
    """SQS refused one or more messages; the outbox rows stay for the sweeper."""
