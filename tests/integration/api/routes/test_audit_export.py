"""GET /api/v1/audit-logs/export through the real app: JSON Lines of a window in (created_at, id) order, the
line format shared with the daily files, the caps (rows, bytes, window) with a Link to the rest, 400 for a
bad window or cursor, the audit-log listing's permission, other tenants' entries never, the replica."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest

from api.services.audit_export import MAX_BYTES, MAX_ROWS
from saascore.archive.audit_format import FIELDS
from tests.integration.api.harness import ApiHarness, Session, api

__all__ = ["api"]

URL = "/api/v1/audit-logs/export"
DAY = datetime(2026, 11, 2, tzinfo=UTC)


def _lines(response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    body = response.content
    assert body == b"" or body.endswith(b"\n")
    return [json.loads(line) for line in body.splitlines()]


def _insert(api: ApiHarness, tenant: Session, count: int, *, at: datetime, after_bytes: int = 0) -> None:
    """``count`` entries one millisecond apart from ``at``, each with an ``after`` of ``after_bytes``."""
    api.owner_sql(
        tenant.tenant_id,
        "INSERT INTO audit_logs (tenant_id, actor_type, action, resource_type, resource_id, after, created_at)"
        " SELECT %s, 'system', 'test.entry', 'test', n::text,"
        " jsonb_build_object('n', n, 'pad', repeat('x', %s)), %s + n * interval '1 millisecond'"
        " FROM generate_series(0, %s - 1) AS n",
        (tenant.tenant_id, after_bytes, at, count),
    )


def _next(response) -> str | None:
    link = response.headers.get("link")
    if link is None:
        return None
    assert link.endswith('>; rel="next"')
    assert link.startswith(f"<{URL}?")
    target: str = link[1 : link.index(">")]
    return target


def test_a_window_is_exported_as_json_lines_in_order_with_the_documented_fields(api):
    owner = api.sign_up()
    since = datetime.now(UTC) - timedelta(seconds=1)
    for name in ("a", "b", "c"):
        api.client.post("/api/v1/projects", json={"name": name}, headers=owner.headers)
    response = api.client.get(URL, params={"since": since.isoformat()}, headers=owner.headers)
    lines = _lines(response)
    assert "link" not in response.headers
    assert all(tuple(line) == FIELDS for line in lines)
    created = [line["after"]["name"] for line in lines if line["action"] == "project.created"]
    assert created == ["a", "b", "c"]
    assert [line["created_at"] for line in lines] == sorted(line["created_at"] for line in lines)
    assert {line["tenant_id"] for line in lines} == {str(owner.tenant_id)}
    first = lines[0]
    assert first["created_at"].endswith("Z")
    assert len(first["created_at"]) == len("2026-12-03T10:38:33.123456Z")
    # The same entries as the listing, field for field.
    listed = api.client.get(
        "/api/v1/audit-logs", params={"since": since.isoformat(), "limit": 100}, headers=owner.headers
    ).json()["items"]
    assert [line["id"] for line in lines] == [entry["id"] for entry in reversed(listed)]
    for line, entry in zip(lines, reversed(listed), strict=True):
        assert (line["action"], line["before"], line["after"], line["actor_user_id"]) == (
            entry["action"],
            entry["before"],
            entry["after"],
            entry["actor_user_id"],
        )


def test_since_is_inclusive_and_until_exclusive(api):
    owner = api.sign_up()
    _insert(api, owner, 10, at=DAY)
    response = api.client.get(
        URL,
        params={
            "since": (DAY + timedelta(milliseconds=2)).isoformat(),
            "until": (DAY + timedelta(milliseconds=5)).isoformat().replace("+00:00", "Z"),
        },
        headers=owner.headers,
    )
    assert [line["resource_id"] for line in _lines(response)] == ["2", "3", "4"]


def test_a_window_over_the_row_cap_continues_through_the_link(api):
    owner = api.sign_up()
    _insert(api, owner, MAX_ROWS + 7, at=DAY)
    params = {"since": DAY.isoformat(), "until": (DAY + timedelta(days=1)).isoformat()}
    first = api.client.get(URL, params=params, headers=owner.headers)
    head = _lines(first)
    assert len(head) == MAX_ROWS
    link = _next(first)
    assert link is not None
    rest = api.client.get(link, headers=owner.headers)
    tail = _lines(rest)
    assert _next(rest) is None
    assert [int(line["resource_id"]) for line in head + tail] == list(range(MAX_ROWS + 7))
    assert "until=" in unquote(link)


def test_a_window_over_the_byte_cap_continues_through_the_link(api):
    owner = api.sign_up()
    entry_bytes = 200_000
    count = MAX_BYTES // entry_bytes + 5
    _insert(api, owner, count, at=DAY, after_bytes=entry_bytes)
    seen: list[int] = []
    url: str | None = f"{URL}?since={DAY.isoformat().replace('+00:00', 'Z')}&until=2026-11-03T00:00:00Z"
    responses = 0
    while url is not None:
        response = api.client.get(url, headers=owner.headers)
        assert len(response.content) <= MAX_BYTES + entry_bytes
        seen.extend(int(line["resource_id"]) for line in _lines(response))
        url = _next(response)
        responses += 1
    assert responses == 2
    assert seen == list(range(count))


def test_an_entry_larger_than_the_byte_cap_still_makes_progress(api):
    owner = api.sign_up()
    _insert(api, owner, 2, at=DAY, after_bytes=MAX_BYTES + 1)
    url: str | None = f"{URL}?since=2026-11-02T00:00:00Z&until=2026-11-03T00:00:00Z"
    counts = []
    while url is not None:
        response = api.client.get(url, headers=owner.headers)
        counts.append(len(_lines(response)))
        url = _next(response)
    assert counts == [1, 1]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({}, "since is required"),
        ({"since": "yesterday"}, "ISO 8601"),
        ({"since": "2026-11-02T00:00:00"}, "UTC offset"),
        ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "later than since"),
        ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-02T00:00:00Z"}, "later than since"),
        ({"since": "2026-10-01T00:00:00Z", "until": "2026-11-01T00:00:01Z"}, "longer than 31 days"),
        ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-03T00:00:00Z", "cursor": "forged"}, "cursor"),
    ],
)
def test_a_bad_window_or_cursor_is_a_400_problem(api, params, says):
    owner = api.sign_up()
    response = api.client.get(URL, params=params, headers=owner.headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert says in response.json()["detail"]


def test_the_longest_window_is_accepted(api):
    owner = api.sign_up()
    params = {"since": "2026-10-01T00:00:00Z", "until": "2026-11-01T00:00:00Z"}
    assert api.client.get(URL, params=params, headers=owner.headers).status_code == 200


def test_a_cursor_of_another_window_is_a_400(api):
    owner = api.sign_up()
    _insert(api, owner, MAX_ROWS + 1, at=DAY)
    first = api.client.get(
        URL, params={"since": DAY.isoformat(), "until": "2026-11-03T00:00:00Z"}, headers=owner.headers
    )
    link = _next(first)
    assert link is not None
    moved = link.replace("until=2026-11-03", "until=2026-11-04")
    assert api.client.get(moved, headers=owner.headers).status_code == 400


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_the_listings_permission_is_needed(api, role):
    owner = api.sign_up()
    caller = api.join(owner, role)
    response = api.client.get(
        URL, params={"since": "2026-11-02T00:00:00Z", "until": "2026-11-03T00:00:00Z"}, headers=caller.headers
    )
    assert response.status_code == 403
    admin = api.join(owner, "admin")
    assert (
        api.client.get(
            URL,
            params={"since": "2026-11-02T00:00:00Z", "until": "2026-11-03T00:00:00Z"},
            headers=admin.headers,
        ).status_code
        == 200
    )


def test_another_tenants_entries_never_appear(api):
    a = api.sign_up()
    b = api.sign_up()
    _insert(api, a, 3, at=DAY)
    _insert(api, b, 3, at=DAY)
    response = api.client.get(
        URL, params={"since": DAY.isoformat(), "until": "2026-11-03T00:00:00Z"}, headers=a.headers
    )
    lines = _lines(response)
    assert len(lines) == 3
    assert {line["tenant_id"] for line in lines} == {str(a.tenant_id)}


def test_the_export_reads_from_the_replica_within_its_lag(api, pg, pg_standby, monkeypatch):
    import psycopg

    from tests.integration.api.routes.test_audit import _point_at
    from tests.support.replica import standby_app_url

    owner = api.sign_up()
    since = datetime.now(UTC) - timedelta(seconds=1)
    api.client.post("/api/v1/projects", json={"name": "replicated"}, headers=owner.headers)
    _point_at(
        monkeypatch, DATABASE_READ_URL=standby_app_url(pg_standby, pg), DB_MAX_REPLICA_LAG_SECONDS="3600"
    )

    def names() -> list[str]:
        response = api.client.get(URL, params={"since": since.isoformat()}, headers=owner.headers)
        return [line["after"]["name"] for line in _lines(response) if line["action"] == "project.created"]

    pg_standby.wait_for_receive()
    with psycopg.connect(pg_standby.urls.admin, autocommit=True) as admin:
        admin.execute("SELECT pg_wal_replay_pause()")
        try:
            created = api.client.post("/api/v1/projects", json={"name": "fresh"}, headers=owner.headers)
            assert created.status_code == 201
            pg_standby.wait_for_receive()
            assert names() == ["replicated"]  # the replica, behind by the paused replay
            _point_at(monkeypatch, DB_MAX_REPLICA_LAG_SECONDS="0")
            assert names() == ["replicated", "fresh"]  # too far behind: the primary
        finally:
            admin.execute("SELECT pg_wal_replay_resume()")
