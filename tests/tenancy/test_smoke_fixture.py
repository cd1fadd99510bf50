from __future__ import annotations

import psycopg


def test_app_role_sees_no_tenant_rows_without_tenant(pg):
    with psycopg.connect(pg.app_url, autocommit=True) as conn:
        row = conn.execute("SELECT current_user, count(*) FROM tenants").fetchone()
    assert row == ("saas_app", 0)
