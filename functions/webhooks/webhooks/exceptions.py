"""Errors of the webhook functions; the receiver turns each `RejectedError` into one problem+json answer."""

from __future__ import annotations

from saascore.exceptions import SaasError
from saascore.problems import Problem


class WebhooksError(SaasError):
    """Base of every error the webhook functions raise on purpose."""


class RejectedError(WebhooksError):
    """The receiver refuses the delivery with ``problem`` (4xx: it can never succeed; 5xx: retry later)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.title)
        self.problem = problem
