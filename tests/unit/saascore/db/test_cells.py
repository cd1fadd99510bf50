from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from saascore.db.cells import (
    POOLED_CELL,
    CellRegistry,
    CellRouter,
    CellSettings,
    UnknownCellError,
    build_router,
)
from saascore.exceptions import ConfigurationError
from saascore.settings import DatabaseSettings

TENANT = uuid.UUID("aaaaaaaa-0000-4000-8000-000000000001")


def settings(cells: dict[str, Any], **env: str) -> CellSettings:
    return CellSettings.model_validate({"CELLS": cells, **env})


def base() -> DatabaseSettings:
    return DatabaseSettings.model_validate({"DATABASE_URL": None, "host": "pooled.proxy", "auth": "iam"})


def endpoint(name: str) -> DatabaseSettings:
    return DatabaseSettings.model_validate({"DATABASE_URL": None, "host": f"{name}.proxy"})


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def router_with(lookup_answers: dict[uuid.UUID, str], *, ttl: float = 60.0, size: int = 100):
    asked: list[uuid.UUID] = []

    def lookup(_db, tenant_id: uuid.UUID) -> str | None:
        asked.append(tenant_id)
        return lookup_answers.get(tenant_id)

    clock = Clock()
    registry = CellRegistry({POOLED_CELL: endpoint("pooled"), "acme": endpoint("acme")}, max_open=4)
    router = CellRouter(registry, ttl_seconds=ttl, cache_size=size, lookup=lookup, clock=clock)
    return router, asked, clock


def test_the_cell_map_is_read_from_json_and_dedicated_cells_get_their_own_endpoint(monkeypatch):
    monkeypatch.setenv("CELLS", json.dumps({"acme": {"host": "acme.proxy", "reserved_for": ["acme"]}}))
    parsed = CellSettings()
    router = build_router(parsed, base())
    assert router.registry.names == (POOLED_CELL, "acme")
    acme = router.registry.database("acme").settings
    assert (acme.host, acme.auth, acme.url) == ("acme.proxy", "iam", None)  # shared auth, own endpoint
    assert router.placement_cell("acme") == "acme"
    assert router.placement_cell("someone-else") == POOLED_CELL


def test_a_dedicated_cell_never_inherits_the_shared_database_url():
    shared = DatabaseSettings.model_validate({"DATABASE_URL": "postgresql://pooled/saas"})
    router = build_router(settings({"acme": {"host": "acme.proxy"}}), shared)
    assert router.registry.database("acme").settings.url is None


def test_a_dedicated_cell_never_reads_from_the_pooled_cells_replica():
    shared = DatabaseSettings.model_validate(
        {"DATABASE_URL": None, "host": "pooled.proxy", "read_host": "pooled-replica.internal"}
    )
    cells = {
        "acme": {"host": "acme.proxy"},
        "globex": {"host": "globex.proxy", "read_host": "globex-replica"},
    }
    registry = build_router(settings(cells), shared).registry
    assert not registry.database("acme").settings.has_read_endpoint  # its primary, never another cell's rows
    assert registry.database("globex").settings.read_endpoint().host == "globex-replica"


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"Acme": {}}, "must match"),
        ({"acme": {"hostname": "x"}}, "Extra inputs are not permitted"),
        ({"acme": {"reserved_for": ["Not A Slug"]}}, "String should match pattern"),
        ({"acme": {"port": 0}}, "greater than or equal to 1"),
    ],
)
def test_bad_cell_maps_are_refused_with_the_reason(cells, message):
    with pytest.raises(ValidationError, match=message):
        settings(cells)


def test_the_pooled_cell_cannot_name_an_endpoint_of_its_own():
    assert settings({POOLED_CELL: {}}).cells[POOLED_CELL].reserved_for == ()
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        settings({POOLED_CELL: {"host": "elsewhere"}})


def test_a_slug_can_be_reserved_by_one_cell_only():
    with pytest.raises(ConfigurationError, match="same tenant slug"):
        settings({"a": {"reserved_for": ["acme"]}, "b": {"reserved_for": ["acme"]}})


@pytest.mark.parametrize(("env", "value"), [("CELL_MAX_CONNECTIONS", "0"), ("CELL_DIRECTORY_TTL", "-1")])
def test_routing_limits_are_bounded(env, value):
    with pytest.raises(ValidationError):
        settings({}, **{env: value})


def test_a_single_cell_routes_without_any_lookup():
    router = build_router(settings({}), base())
    assert router.single
    assert router.tenant_cell(TENANT) == POOLED_CELL
    assert router.lookups == 0


def test_a_signed_claim_routes_without_the_directory():
    router, asked, _ = router_with({TENANT: POOLED_CELL})
    assert router.tenant_cell(TENANT, claimed_cell="acme") == "acme"
    assert asked == []


def test_the_directory_answer_is_cached_until_the_ttl_ends():
    router, asked, clock = router_with({TENANT: "acme"}, ttl=30)
    assert router.tenant_cell(TENANT) == "acme"
    clock.now += 29
    assert router.tenant_cell(TENANT) == "acme"
    assert asked == [TENANT]
    clock.now += 2
    assert router.tenant_cell(TENANT) == "acme"
    assert asked == [TENANT, TENANT]


def test_invalidation_makes_the_next_request_ask_the_directory():
    answers = {TENANT: "acme"}
    router, asked, _ = router_with(answers)
    router.tenant_cell(TENANT)
    answers[TENANT] = POOLED_CELL
    router.invalidate(TENANT)
    assert router.tenant_cell(TENANT) == POOLED_CELL
    assert len(asked) == 2
    router.invalidate()
    router.tenant_cell(TENANT)
    assert len(asked) == 3


def test_a_tenant_missing_from_the_directory_is_in_the_pooled_cell():
    router, _, _ = router_with({})
    assert router.tenant_cell(TENANT) == POOLED_CELL


def test_the_directory_cache_is_bounded_oldest_out():
    tenants = [uuid.uuid4() for _ in range(3)]
    router, asked, _ = router_with(dict.fromkeys(tenants, "acme"), size=2)
    for tenant in tenants:
        router.tenant_cell(tenant)
    router.tenant_cell(tenants[2])
    router.tenant_cell(tenants[1])
    assert asked == tenants  # the two newest are still cached
    router.tenant_cell(tenants[0])
    assert asked == [*tenants, tenants[0]]


def test_an_unknown_cell_is_refused_with_the_known_ones():
    registry = CellRegistry({POOLED_CELL: endpoint("pooled"), "acme": endpoint("acme")}, max_open=2)
    with pytest.raises(UnknownCellError, match="unknown cell 'nope'; known cells: pooled, acme"):
        registry.database("nope")


def test_the_least_recently_used_cell_is_the_one_closed():
    names = ["a", "b", "c"]
    registry = CellRegistry({name: endpoint(name) for name in names}, max_open=2)
    first = registry.database("a")
    registry.database("b")
    registry.database("a")  # b is now the least recently used
    registry.database("c")
    assert registry.open_cells() == ("a", "c")
    assert registry.database("a") is first  # the Database object is kept; only connections close
