"""Property-based fuzzing of the billing operations against the app's OpenAPI document (Stripe = the stub):
never a 5xx, statuses, content types, headers and bodies as documented."""

from __future__ import annotations

import pytest
import schemathesis

from api.main import OPENAPI_URL, app
from tests.integration.api.harness import ApiHarness, Session
from tests.support.fuzz import CHECKS, fuzz_settings

pytestmark = pytest.mark.slow

schema = schemathesis.openapi.from_asgi(OPENAPI_URL, app).include(tag="billing")


@pytest.fixture
def owner(billing_api: ApiHarness) -> Session:
    return billing_api.sign_up()


@schema.parametrize()
@fuzz_settings(6)
def test_billing_operations_conform_to_the_schema(case, owner: Session) -> None:
    case.call_and_validate(headers=owner.headers, checks=CHECKS)
