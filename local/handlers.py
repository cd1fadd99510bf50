"""The Lambda functions the local stack runs: handler names (the contracts in DESIGN §2) and limits.

Timeouts are the production ones, so `context.get_remaining_time_in_millis()` tells handlers the truth.
"""

from __future__ import annotations

from local.runtime import LocalFunction

VIEWER_TIMEOUT = 5.0  # Lambda@Edge viewer triggers
ORIGIN_TIMEOUT = 30.0  # Lambda@Edge origin triggers


def edge_functions() -> tuple[LocalFunction, LocalFunction, LocalFunction]:
    return (
        LocalFunction(
            "edge-viewer-request",
            "edge.handler.viewer_request",
            timeout=VIEWER_TIMEOUT,
            memory=128,
            serialized=False,
        ),
        LocalFunction(
            "edge-origin-request",
            "edge.handler.origin_request",
            timeout=ORIGIN_TIMEOUT,
            memory=128,
            serialized=False,
        ),
        LocalFunction(
            "edge-viewer-response",
            "edge.handler.viewer_response",
            timeout=VIEWER_TIMEOUT,
            memory=128,
            serialized=False,
        ),
    )


def api_function() -> LocalFunction:
    return LocalFunction("api", "api.main.handler", timeout=29.0, memory=1024, needs_event_loop=True)


def webhooks_receiver() -> LocalFunction:
    return LocalFunction("webhooks-receiver", "webhooks.receiver.handler", timeout=10.0)


def webhooks_processor() -> LocalFunction:
    return LocalFunction("webhooks-processor", "webhooks.processor.handler", timeout=60.0)


def jobs_worker(timeout: float) -> LocalFunction:
    return LocalFunction("jobs-worker", "jobs.worker.handler", timeout=timeout, memory=1024)


def webhook_delivery_worker() -> LocalFunction:
    return LocalFunction("webhook-delivery", "jobs.webhook_worker.handler", timeout=150.0)


def jobs_scheduler() -> LocalFunction:
    return LocalFunction("jobs-scheduler", "jobs.scheduler.handler", timeout=60.0)
