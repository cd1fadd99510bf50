"""Property-based fuzzing of the webhook endpoint operations (KMS and SQS in moto): never a 5xx, statuses,
content types, headers and bodies as documented, whatever URL, filter or cursor arrives."""

from __future__ import annotations

import pytest
import schemathesis

from api.main import OPENAPI_URL, app
from tests.integration.api.harness import ApiHarness, Session
from tests.support.fuzz import CHECKS, fuzz_settings
from tests.support.webhooks import DeliveryQueue, webhooks_aws

__all__ = ["webhooks_aws"]


pytestmark = pytest.mark.slow

schema = schemathesis.openapi.from_asgi(OPENAPI_URL, app).include(tag="webhooks")


@pytest.fixture
def owner(api: ApiHarness, webhooks_aws: DeliveryQueue) -> Session:
    return api.sign_up()


@schema.parametrize()
@fuzz_settings(6)
def test_webhook_operations_conform_to_the_schema(case, owner: Session) -> None:
    case.call_and_validate(headers=owner.headers, checks=CHECKS)
