"""The operator's view of the local stack: per-tenant request and error counts on the status page, the
business report from the local database, and the operator API for a registered operator tenant only."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import sign_in

pytestmark = pytest.mark.e2e


def test_status_page_counts_each_tenants_requests_and_errors(stack: RunningStack) -> None:
    slug = f"ops-{uuid.uuid4().hex[:8]}"
    session = sign_in(stack, f"owner@{slug}.example", slug)
    with stack.client(session.access_token) as client:
        assert client.get("/api/v1/projects").status_code == 200
        assert client.get(f"/api/v1/projects/{uuid.uuid4()}").status_code == 404
    counts = stack.status()["tenants"][session.tenant_id]
    assert counts["requests"] >= 2  # the two above, after the session exchange (anonymous)
    assert counts["client_errors"] >= 1
    assert counts["server_errors"] == 0


def test_ops_report_reads_the_local_database_and_only_operators_reach_the_api(stack: RunningStack) -> None:
    slug = f"opr-{uuid.uuid4().hex[:8]}"
    operator = sign_in(stack, f"owner@{slug}.example", slug)
    report = stack.saas("ops", "report", "--refresh")
    assert "sign-ups (platform trials)" in report.stdout
    assert int(report.stdout.split("sign-ups (platform trials)")[1].split()[0]) >= 1
    with stack.client(operator.access_token) as client:
        assert client.get("/api/v1/ops/report").status_code == 403  # not an operator tenant yet
        stack.saas("ops", "operators", "add", "--tenant", slug)
        response = client.get("/api/v1/ops/report")
    assert response.status_code == 200, response.text
    assert response.json()["signups"] >= 1
