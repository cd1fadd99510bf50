"""What a job handler raises to steer the worker; anything else counts as a retryable failure."""

from __future__ import annotations

from saascore.exceptions import SaasError


class JobFailure(SaasError):
    """Base class of the jobs function's own errors."""


class PermanentJobError(JobFailure):
    """Retrying cannot help (bad payload, unknown type, rejected recipient): the job ends `failed`."""


class RetryLater(JobFailure):
    """The message should come back after ``delay_seconds`` (backoff, or another worker holds the job)."""

    def __init__(self, message: str, *, delay_seconds: int) -> None:
        super().__init__(message)
        self.delay_seconds = delay_seconds


class JobDead(JobFailure):
    """The last attempt failed: the job is `dead` and the message is left for the DLQ."""


class MalformedSesNotification(JobFailure):
    """An SES events queue message that is not SES feedback in an SNS envelope: it must reach the DLQ."""


class DeliveryQueueError(JobFailure):
    """SQS refused a webhook delivery message; the sender retries (the dispatch job, or the SQS record)."""
