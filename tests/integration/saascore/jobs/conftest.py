"""The outbox tests need tenants as rows and a moto SQS queue, as the jobs tests do."""

from __future__ import annotations

from tests.support.queues import aws, queues
from tests.support.tenants import make_tenant, owner_sql

__all__ = ["aws", "make_tenant", "owner_sql", "queues"]
