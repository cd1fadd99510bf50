"""Typed settings of the jobs function (worker and scheduler share one deployable).

Timing rule the infrastructure follows (see README, Background jobs):
- Lambda timeout = ``JOB_TIMEOUT_SECONDS`` (a batch of up to ``WORKER_BATCH_SIZE`` jobs must fit in it);
- a claimed job's lock lasts ``JOB_TIMEOUT_SECONDS + JOB_LOCK_MARGIN_SECONDS``, so no second worker takes
  a job while the first invocation can still be running;
- queue visibility timeout = 6 x the Lambda timeout (AWS's rule for SQS event sources), longer than the
  lock, so a message only reappears after the lock that guards it has expired;
- redrive ``maxReceiveCount`` = ``JOB_MAX_ATTEMPTS``: the worker marks the job dead on the last receive
  and SQS moves the message to the DLQ on the next one.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator

from saascore.settings import BaseServiceSettings

# Tenant tables with `deleted_at` whose soft-deleted rows may be purged (names are interpolated into SQL).
PURGEABLE_TABLES = frozenset({"projects"})
MIN_S3_PART_BYTES = 5 * 1024 * 1024  # S3's minimum size of every part but the last


class JobsSettings(BaseServiceSettings):
    jobs_queue_url: str | None = Field(default=None, validation_alias="JOBS_QUEUE_URL")
    job_timeout_seconds: int = Field(default=120, ge=10, le=900, validation_alias="JOB_TIMEOUT_SECONDS")
    job_lock_margin_seconds: int = Field(default=30, ge=0, le=300, validation_alias="JOB_LOCK_MARGIN_SECONDS")
    max_attempts: int = Field(default=5, ge=1, le=20, validation_alias="JOB_MAX_ATTEMPTS")
    backoff_base_seconds: int = Field(default=10, ge=1, le=600, validation_alias="JOB_BACKOFF_BASE_SECONDS")
    backoff_cap_seconds: int = Field(default=900, ge=1, le=43_200, validation_alias="JOB_BACKOFF_CAP_SECONDS")

    reports_bucket: str | None = Field(default=None, validation_alias="REPORTS_BUCKET")
    # The Object Lock bucket of the daily audit-log files (`export_audit_log`).
    audit_log_bucket: str | None = Field(default=None, validation_alias="AUDIT_LOG_BUCKET")
    report_part_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=MIN_S3_PART_BYTES,
        le=64 * 1024 * 1024,
        validation_alias="REPORT_PART_BYTES",
    )
    report_page_rows: int = Field(default=1000, ge=10, le=10_000, validation_alias="REPORT_PAGE_ROWS")
    report_url_ttl_seconds: int = Field(
        default=3600, ge=60, le=7 * 24 * 3600, validation_alias="REPORT_URL_TTL_SECONDS"
    )

    # A secret reference: the HMAC key erasure receipts are signed with (decision 0112).
    erasure_receipt_key: str | None = Field(default=None, validation_alias="ERASURE_RECEIPT_KEY")
    erasure_batch_tenants: int = Field(default=20, ge=1, le=200, validation_alias="ERASURE_BATCH_TENANTS")

    email_sender: str | None = Field(default=None, validation_alias="EMAIL_SENDER")
    email_configuration_set: str | None = Field(default=None, validation_alias="EMAIL_CONFIGURATION_SET")
    email_template_prefix: str = Field(default="saas", validation_alias="EMAIL_TEMPLATE_PREFIX")

    # Days a soft-deleted row is kept before `purge_soft_deleted` removes it, per table (see tasks/maintenance).
    purge_retention_days: dict[str, int] = Field(
        default_factory=lambda: {"projects": 30}, validation_alias="PURGE_RETENTION_DAYS"
    )
    session_retention_days: int = Field(default=7, ge=0, le=365, validation_alias="SESSION_RETENTION_DAYS")
    # Days a finished job row (and its e-mail delivery ledger) stays pollable before `expire_sessions` drops it.
    job_retention_days: int = Field(default=30, ge=1, le=3650, validation_alias="JOB_RETENTION_DAYS")
    delete_chunk_rows: int = Field(default=1000, ge=1, le=10_000, validation_alias="DELETE_CHUNK_ROWS")

    usage_batch_events: int = Field(default=5000, ge=1, le=100_000, validation_alias="USAGE_BATCH_EVENTS")

    @field_validator("purge_retention_days")
    @classmethod
    def _known_tables(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - PURGEABLE_TABLES
        if unknown:
            raise ValueError(f"no soft-delete purge for tables {sorted(unknown)}")
        if any(days < 1 for days in value.values()):
            raise ValueError("retention must be at least one day")
        return value

    @property
    def job_lock_seconds(self) -> int:
        return self.job_timeout_seconds + self.job_lock_margin_seconds


@lru_cache(maxsize=1)
def get_settings() -> JobsSettings:
    return JobsSettings()
