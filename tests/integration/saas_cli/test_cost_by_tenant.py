"""`saas cost --by-tenant --month`: each tenant's estimate from its requests, usage rows and active users and
the cost model (the small hand-priced assembly of the unit tests); the split adds up to the environment's
total; a bad month or missing input is a clear usage error (exit 2)."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from saas_cli import cost
from saas_cli.cost_by_tenant import TenantLoad, attribute
from saas_cli.main import main
from tests.unit.saas_cli.test_cost import _assembly, _template, prices_dir

__all__ = ["prices_dir"]


def _tenant(owner: psycopg.Connection, slug: str, *, usage_in_november: int = 0) -> str:
    tenant_id = str(uuid.uuid4())
    owner.execute("SELECT app.set_tenant(%s)", (tenant_id,))
    owner.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, %s, %s)", (tenant_id, slug, slug))
    for n in range(usage_in_november):
        owner.execute(
            "INSERT INTO usage_events (tenant_id, meter, quantity, idempotency_key, occurred_at) "
            "VALUES (%s, 'api_calls', 1, %s, '2026-11-10T12:00:00Z')",
            (tenant_id, f"k{n}"),
        )
    owner.execute(  # December: outside the month asked for
        "INSERT INTO usage_events (tenant_id, meter, quantity, idempotency_key, occurred_at) "
        "VALUES (%s, 'api_calls', 1, 'december', '2026-12-01T00:00:00Z')",
        (tenant_id,),
    )
    return tenant_id


def test_the_estimates_split_the_environment_total_by_each_tenants_drivers(tmp_path: Path, prices_dir: Path):
    model = cost.load_model(_assembly(tmp_path, _template()), prices_dir=prices_dir)
    tenants = [TenantLoad("a", "acme", 3_000_000, 0, 0), TenantLoad("b", "globex", 1_000_000, 0, 0)]
    acme, globex = attribute(model, tenants)
    environment = cost.total(cost.price(model, cost.Load(requests=4_000_000)))
    assert acme.total + globex.total == pytest.approx(environment)
    assert acme.variable == pytest.approx(3 * globex.variable)
    assert acme.fixed == pytest.approx(3 * globex.fixed)
    assert acme.fixed + globex.fixed == pytest.approx(cost.total(cost.price(model, cost.Load())))


def test_the_command_reads_usage_for_the_month_and_prints_one_line_per_tenant(
    tmp_path: Path, prices_dir: Path, pg, capsys
):
    with psycopg.connect(pg.owner_url) as owner:
        acme = _tenant(owner, "acme", usage_in_november=2)
        globex = _tenant(owner, "globex")
        owner.commit()
    requests = tmp_path / "requests.csv"
    requests.write_text(f"tenant_id,requests\n{acme},3000000\n{globex},1000000\n")
    out = _assembly(tmp_path, _template())
    args = ["cost", "--cdk-out", str(out), "--prices", str(prices_dir), "--by-tenant", "--month", "2026-11"]
    assert main([*args, "--requests", str(requests), "--database-url", pg.owner_url]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    assert lines["acme"][1:3] == ["3,000,000", "2"]  # requests, usage events in November only
    assert lines["globex"][1:3] == ["1,000,000", "0"]
    assert float(lines["acme"][-1]) > float(lines["globex"][-1])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--month", "2026-13", "--requests", "r.csv"], "YYYY-MM"),
        (["--month", "11/2026", "--requests", "r.csv"], "YYYY-MM"),
        (["--requests", "r.csv"], "--month"),
        (["--month", "2026-11"], "--requests"),
    ],
)
def test_bad_input_is_a_usage_error(tmp_path: Path, prices_dir: Path, capsys, extra, message):
    out = _assembly(tmp_path, _template())
    args = ["cost", "--cdk-out", str(out), "--prices", str(prices_dir), "--by-tenant", *extra]
    assert main([*args, "--database-url", "postgresql://unused"]) == 2
    assert message in capsys.readouterr().err


def test_a_malformed_requests_file_names_its_line(tmp_path: Path, prices_dir: Path, capsys):
    requests = tmp_path / "requests.csv"
    requests.write_text("tenant_id,requests\nabc,many\n")
    out = _assembly(tmp_path, _template())
    args = ["cost", "--cdk-out", str(out), "--prices", str(prices_dir), "--by-tenant", "--month", "2026-11"]
    assert main([*args, "--requests", str(requests), "--database-url", "postgresql://unused"]) == 2
    assert "requests.csv:2" in capsys.readouterr().err
