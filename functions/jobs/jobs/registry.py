"""Job types: which handler runs each, whether it is per tenant, and the periodic schedules.

Handlers are imported when first dispatched so the scheduler and the infrastructure can read this module
without loading boto3 or stripe. ``SCHEDULES`` is what the CDK jobs construct turns into EventBridge
Scheduler entries (their input is ``{"job_type": <type>}``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

from jobs.context import JobContext

Handler = Callable[[JobContext], dict[str, Any] | None]
Scope = Literal["tenant", "system"]


@dataclass(frozen=True, slots=True)
class JobSpec:
    type: str
    target: str  # "module:function" under jobs.tasks
    scope: Scope
    description: str
    # Tenant-visible work: its finish is recorded as a `job.finished` domain event (and so reaches webhooks).
    announce: bool = False

    def handler(self) -> Handler:
        module_name, function_name = self.target.split(":")
        handler: Handler = getattr(importlib.import_module(f"jobs.tasks.{module_name}"), function_name)
        return handler


@dataclass(frozen=True, slots=True)
class Schedule:
    job_type: str
    expression: str  # EventBridge Scheduler expression, UTC


JOB_TYPES: Final[Mapping[str, JobSpec]] = MappingProxyType(
    {
        spec.type: spec
        for spec in (
            JobSpec(
                "project_report",
                "reports:project_report",
                "tenant",
                "CSV of the tenant's projects in S3",
                announce=True,
            ),
            JobSpec("send_email", "email:send_email", "tenant", "templated e-mail through SES"),
            JobSpec(
                "tenant_export",
                "exports:tenant_export",
                "tenant",
                "the tenant's archive in S3, then an e-mail",
            ),
            JobSpec(
                "export_audit_log",
                "audit_logs:export_audit_log",
                "tenant",
                "the previous UTC day of the audit log as JSON Lines in the Object Lock bucket",
            ),
            JobSpec("report_usage", "usage:report_usage", "tenant", "unreported usage → Stripe meter events"),
            JobSpec(
                "purge_soft_deleted",
                "maintenance:purge_soft_deleted",
                "tenant",
                "hard-delete old soft deletes",
            ),
            JobSpec("expire_sessions", "maintenance:expire_sessions", "tenant", "delete expired sessions"),
            JobSpec(
                "dispatch_event",
                "webhooks:dispatch_event",
                "tenant",
                "fan a domain event out to the tenant's webhook endpoints",
            ),
            JobSpec(
                "refresh_reporting_views",
                "maintenance:refresh_reporting_views",
                "system",
                "refresh usage views",
            ),
            JobSpec(
                "erase_tenants",
                "erasure:erase_tenants",
                "system",
                "erase the tenants whose offboarding grace period is over; leave signed receipts",
            ),
            JobSpec(
                "reconcile_subscriptions",
                "reconcile:reconcile_subscriptions",
                "system",
                "compare subscriptions with Stripe and fix drift",
            ),
        )
    }
)

# The outbox sweep is delivery, not work: the scheduler runs it inline (see jobs.scheduler).
SWEEP_OUTBOX: Final = "sweep_job_outbox"

SCHEDULES: Final[tuple[Schedule, ...]] = (
    Schedule(SWEEP_OUTBOX, "rate(1 minute)"),
    Schedule("report_usage", "rate(1 hour)"),
    Schedule("refresh_reporting_views", "rate(15 minutes)"),
    Schedule("export_audit_log", "cron(30 0 * * ? *)"),
    Schedule("expire_sessions", "cron(15 3 * * ? *)"),
    Schedule("erase_tenants", "cron(45 2 * * ? *)"),
    Schedule("purge_soft_deleted", "cron(45 3 * * ? *)"),
    Schedule("reconcile_subscriptions", "cron(30 4 * * ? *)"),
)


def spec_for(job_type: str) -> JobSpec | None:
    return JOB_TYPES.get(job_type)
