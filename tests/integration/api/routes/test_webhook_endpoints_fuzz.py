"""Property-based fuzzing of the webhook endpoint operations (KMS and SQS in moto): never a 5xx, statuses,
content types, headers and bodies as documented, whatever URL, filter or cursor arrives."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import OPENAPI_URL, app
from tests.integration.api.harness import ApiHarness, Session
from tests.support.webhooks import DeliveryQueue, webhooks_aws

__all__ = ["webhooks_aws"]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

pytestmark = pytest.mark.slow

schema = schemathesis.openapi.from_asgi(OPENAPI_URL, app).include(tag="webhooks")


@pytest.fixture
def owner(api: ApiHarness, webhooks_aws: DeliveryQueue) -> Session:
    return api.sign_up()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=bool(os.environ.get("CI")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_webhook_operations_conform_to_the_schema(case, owner: Session) -> None:
    case.call_and_validate(headers=owner.headers, checks=CHECKS)
