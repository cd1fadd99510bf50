"""What every Schemathesis fuzz test of the API checks, and how long it may explore.

Each fuzz test picks its operations by OpenAPI tag (the main one takes every tag that needs no fixture of
its own) and calls `case.call_and_validate(headers=..., checks=CHECKS)` under `fuzz_settings(...)`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def fuzz_settings(default_examples: int) -> Callable[[Any], Any]:
    """A bounded run (FUZZ_EXAMPLES raises it locally); CI replays one fixed set of examples."""
    return settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", str(default_examples))),
        derandomize=bool(os.environ.get("CI")),
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
        ],
    )
