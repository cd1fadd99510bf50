"""RFC 9457 problem details: the one rendering of problem+json on the origin side.

The API (FastAPI) and the webhook receiver (a Function URL handler) both answer with ``Problem.to_json``;
a Function URL handler returns ``function_url_response``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from saascontracts.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE

__all__ = ["PROBLEM_CONTENT_TYPE", "PROBLEM_TYPE_BASE", "Problem", "function_url_response"]


@dataclass(frozen=True, slots=True)
class Problem:
    status: int
    title: str
    slug: str = "about:blank"
    detail: str | None = None
    instance: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return "about:blank" if self.slug == "about:blank" else PROBLEM_TYPE_BASE + self.slug

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail is not None:
            body["detail"] = self.detail
        if self.instance is not None:
            body["instance"] = self.instance
        body.update(self.extensions)
        return body

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))


def function_url_response(problem: Problem, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A Lambda Function URL (payload 2.0) response carrying ``problem``."""
    return {
        "statusCode": problem.status,
        "headers": {**(headers or {}), "content-type": PROBLEM_CONTENT_TYPE},
        "body": problem.to_json(),
    }
