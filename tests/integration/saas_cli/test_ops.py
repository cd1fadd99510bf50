"""`saas ops report` prints the same month as the API from the owner's view of the reporting views;
`saas ops operators` registers operator tenants; a bad month or a missing URL is a usage error (exit 2)."""

from __future__ import annotations

import json

import pytest

from saas_cli.main import main
from tests.integration.saascore.test_business_metrics import _fresh_caches, november
from tests.support.tenants import insert_tenant

__all__ = ["_fresh_caches", "november"]


def test_report_prints_the_hand_computed_november(november, pg, capsys):
    assert main(["ops", "report", "--database-url", pg.owner_url, "--month", "2026-11", "--refresh"]) == 0
    out = capsys.readouterr().out
    for line in (
        "MRR start                   33700",
        "  + new                     2000",
        "  + expansion               17800",
        "  - contraction             15800",
        "  - churn                   2000",
        "MRR end                     35700  (net +2000, 5 paying tenants)",
        "first payments              2",
    ):
        assert line in out


def test_report_as_json(november, pg, capsys):
    assert (
        main(["ops", "report", "--database-url", pg.owner_url, "--month", "2026-11", "--refresh", "--json"])
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert document["month"] == "2026-11"
    assert document["mrr"] == {
        "start": 33_700,
        "end": 35_700,
        "new": 2_000,
        "expansion": 17_800,
        "contraction": 15_800,
        "churn": 2_000,
        "paying_tenants": 5,
        "net": 2_000,
    }
    assert [d["day"] for d in document["days"] if d["first_payments"]] == ["2026-11-03", "2026-11-08"]


@pytest.mark.parametrize("month", ["2026-13", "202611", "Nov"])
def test_an_unknown_period_is_a_usage_error(pg, capsys, month):
    assert main(["ops", "report", "--database-url", pg.owner_url, "--month", month]) == 2
    assert "YYYY-MM" in capsys.readouterr().err


def test_without_a_database_url_or_a_local_stack_it_says_what_to_pass(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("OPS_DATABASE_URL", raising=False)
    monkeypatch.setenv("SAAS_LOCAL_ROOT", str(tmp_path))
    assert main(["ops", "report"]) == 2
    assert "--database-url" in capsys.readouterr().err


def test_operators_add_list_remove(november, pg, capsys):
    tenant = november["A"]
    assert main(["ops", "operators", "add", "--tenant", tenant.slug, "--database-url", pg.owner_url]) == 0
    assert capsys.readouterr().out.split() == [tenant.slug, str(tenant.id)]
    assert (
        main(["ops", "operators", "remove", "--tenant", str(tenant.id), "--database-url", pg.owner_url]) == 0
    )
    assert capsys.readouterr().out == ""
    assert (
        main(["ops", "operators", "add", "--tenant", "no-such-tenant", "--database-url", pg.owner_url]) == 2
    )
    assert "no tenant" in capsys.readouterr().err


def test_report_sums_every_cell_it_is_given(november, pg, dedicated_pg, capsys):
    """Each cell's views cover its own tenants: a dedicated cell's November sign-up counts too."""

    insert_tenant(dedicated_pg.owner_url, "big-co", created_at="2026-11-08T12:00Z")
    args = ["ops", "report", "--database-url", pg.owner_url, "--month", "2026-11", "--refresh", "--json"]
    assert main(args) == 0
    pooled = json.loads(capsys.readouterr().out)
    assert main([*args, "--cell", f"big={dedicated_pg.owner_url}"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert both["signups"] == pooled["signups"] + 1
    by_day = {d["day"]: d["signups"] for d in both["days"]}
    assert by_day["2026-11-08"] == {d["day"]: d["signups"] for d in pooled["days"]}.get("2026-11-08", 0) + 1
    assert both["mrr"] == pooled["mrr"]  # the dedicated tenant pays nothing


@pytest.mark.parametrize("cell", ["pooled=postgresql://x", "Bad Name=postgresql://x", "big"])
def test_a_bad_cell_is_a_usage_error(pg, capsys, cell):
    assert main(["ops", "report", "--database-url", pg.owner_url, "--cell", cell]) == 2
    assert "NAME=URL" in capsys.readouterr().err
