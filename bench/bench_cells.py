"""Cell routing: the per-request cost of finding a tenant's cell Database with a warm cache (signed claim,
and directory cache hit) against a plain dict look-up and the single-database path (``get_database()``),
measured here, in this run. Nothing connects: routing never touches the network once warm."""

from __future__ import annotations

import json
import os
import uuid

from bench.timing import fmt_us, median_seconds, ratio_line

TENANTS = 1_000
TARGET_SECONDS = 5e-6


def main() -> None:
    os.environ["CELLS"] = json.dumps(
        {f"cell-{i}": {"host": f"cell-{i}.proxy.example", "reserved_for": [f"tenant-{i}"]} for i in range(8)}
    )
    os.environ.setdefault("DB_HOST", "pooled.proxy.example")
    from saascore.db import cells
    from saascore.db.connection import get_database

    cells.get_cell_router.cache_clear()
    router = cells.get_cell_router()
    names = router.registry.names
    tenants = [uuid.uuid4() for _ in range(TENANTS)]
    placement = {tenant: names[i % len(names)] for i, tenant in enumerate(tenants)}
    for tenant, cell in placement.items():
        router.remember(tenant, cell)  # a warm directory cache (60 s TTL)
    plain = {tenant: get_database() for tenant in tenants}
    probe = tenants[TENANTS // 2]
    claimed = placement[probe]

    by_claim = median_seconds(lambda: cells.route_database(probe, claimed_cell=claimed), number=20_000)
    by_directory = median_seconds(lambda: cells.route_database(probe), number=20_000)
    single = median_seconds(get_database, number=20_000)
    dict_lookup = median_seconds(lambda: plain[probe], number=20_000)
    assert router.lookups == 0, "the warm path asked the directory"

    print(f"cells: {len(names)}, tenants cached: {TENANTS}, target ≤ {fmt_us(TARGET_SECONDS)} per request")
    print(ratio_line("route by signed claim", by_claim, "single-database get_database()", single))
    print(ratio_line("route by directory cache", by_directory, "single-database get_database()", single))
    print(ratio_line("route by signed claim", by_claim, "dict look-up", dict_lookup))
    print(ratio_line("route by directory cache", by_directory, "dict look-up", dict_lookup))
    worst = max(by_claim, by_directory) - single
    verdict = "within" if worst <= TARGET_SECONDS else "OVER"
    print(f"routing overhead over the single-database path: {fmt_us(worst)} ({verdict} the 5 µs target)")


if __name__ == "__main__":
    main()
