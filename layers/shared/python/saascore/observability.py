"""Powertools Logger/Tracer/Metrics with one redaction rule for the whole code base.

Log lines are JSON with the request id and (when known) the tenant id appended by the adapters.
Values under keys that look like credentials never reach CloudWatch.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import PowertoolsLogRecord

SENSITIVE_KEY = re.compile(
    r"(pass(word)?|secret|token|authorization|cookie|api[_-]?key|signature|credential|dsn|database_url)",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
METRICS_NAMESPACE = "SaasPlatform"


def redact(value: Any) -> Any:
    """Return a copy of ``value`` with every credential-like key's value replaced."""
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and SENSITIVE_KEY.search(key) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        return super().serialize(redact(log))


@cache
def get_logger(service: str) -> Logger:
    return Logger(service=service, logger_formatter=RedactingFormatter())


@cache
def get_tracer(service: str) -> Tracer:
    return Tracer(service=service)


@cache
def get_metrics(service: str) -> Metrics:
    return Metrics(namespace=METRICS_NAMESPACE, service=service)
