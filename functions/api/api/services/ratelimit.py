"""Per-tenant rate limit with a per-user sub-limit: fixed windows counted atomically in DynamoDB.

Each request adds one to two counters (``ADD`` is atomic, so concurrent containers never lose a hit):
the tenant's window and the user's window. The tenant limit comes from the plan's entitlements and each
user may use ``user_share`` of it, so one user cannot starve a tenant. When DynamoDB cannot be reached
the limiter fails open: the request proceeds, a warning is logged and a metric emitted.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from api.settings import get_settings
from saascore.billing.plans import plan_for
from saascore.observability import get_logger, get_metrics

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = get_logger("api")


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    tenant_limit: int
    user_limit: int
    window_seconds: int
    exceeded: str | None  # "tenant" or "user" when refused

    def headers(self) -> dict[str, str]:
        """IETF draft RateLimit headers, for the tighter of the two limits."""
        window = self.window_seconds
        headers = {
            "RateLimit": f"limit={self.limit}, remaining={self.remaining}, reset={self.reset_seconds}",
            "RateLimit-Policy": (
                f'{self.tenant_limit};w={window};comment="tenant", {self.user_limit};w={window};comment="user"'
            ),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


def limits_for(plan: str) -> tuple[int, int]:
    """(tenant requests per window, user requests per window) for a plan."""
    entitlements = plan_for(plan).entitlements
    tenant_limit = entitlements.requests_per_minute
    return tenant_limit, max(1, math.floor(tenant_limit * entitlements.user_share))


class RateLimiter:
    def __init__(self, client: DynamoDBClient, *, table: str, window_seconds: int = 60) -> None:
        self._client = client
        self._table = table
        self._window = window_seconds

    def _hit(self, key: str, expires_at: int) -> int:
        response = self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": key}},
            UpdateExpression="ADD hits :one SET expires_at = if_not_exists(expires_at, :ttl)",
            ExpressionAttributeValues={":one": {"N": "1"}, ":ttl": {"N": str(expires_at)}},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["hits"]["N"])

    def check(
        self, *, tenant_id: uuid.UUID, user_id: uuid.UUID, plan: str, now: float | None = None
    ) -> RateLimitDecision | None:
        """Count this request; None when the limiter is unavailable (fail open)."""
        from botocore.exceptions import BotoCoreError, ClientError

        now = time.time() if now is None else now
        window_start = int(now // self._window) * self._window
        reset = max(1, math.ceil(window_start + self._window - now))
        expires_at = window_start + 2 * self._window  # DynamoDB TTL deletes old windows
        tenant_limit, user_limit = limits_for(plan)
        try:
            tenant_hits = self._hit(f"tenant#{tenant_id}#{window_start}", expires_at)
            user_hits = 0
            if tenant_hits <= tenant_limit:
                user_hits = self._hit(f"user#{tenant_id}#{user_id}#{window_start}", expires_at)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("rate limiter unavailable; failing open", extra={"error": type(exc).__name__})
            get_metrics("api").add_metric(name="RateLimiterUnavailable", unit="Count", value=1)
            return None
        exceeded = "tenant" if tenant_hits > tenant_limit else "user" if user_hits > user_limit else None
        tenant_left = max(0, tenant_limit - tenant_hits)
        user_left = max(0, user_limit - user_hits)
        limit, remaining = (
            (tenant_limit, tenant_left) if tenant_left <= user_left else (user_limit, user_left)
        )
        return RateLimitDecision(
            allowed=exceeded is None,
            limit=limit,
            remaining=remaining,
            reset_seconds=reset,
            tenant_limit=tenant_limit,
            user_limit=user_limit,
            window_seconds=self._window,
            exceeded=exceeded,
        )


def _client() -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    config = Config(connect_timeout=0.5, read_timeout=0.5, retries={"max_attempts": 1, "mode": "standard"})
    return boto3.client(
        "dynamodb", region_name=settings.region, endpoint_url=settings.aws_endpoint_url, config=config
    )


@lru_cache(maxsize=1)
def get_rate_limiter() -> RateLimiter | None:
    """The container's limiter, or None when no table is configured (rate limiting off)."""
    settings = get_settings()
    if not settings.rate_limit_table:
        return None
    return RateLimiter(
        _client(), table=settings.rate_limit_table, window_seconds=settings.rate_limit_window_seconds
    )
