"""`make bench` compares the API with raw psycopg running the same statements (bench/bench_api.py); the
baseline reads the SQL contracts from the repositories, so it must keep up with their parameters. It is
not run in CI (it is a benchmark), so this runs its POST statements once against the real database."""

from __future__ import annotations

import uuid

from bench.bench_api import _connect, _raw_post_statements
from saascore.db.tenancy import SET_TENANT_SQL


def test_the_raw_post_baseline_runs_the_handlers_statements(api, pg):
    owner = api.sign_up()
    ids = {"tid": owner.tenant_id, "uid": owner.user_id, "sid": owner.session_id}
    with _connect(pg.app_url) as raw, raw.transaction():
        raw.execute(SET_TENANT_SQL, (owner.tenant_id, 5000))
        _raw_post_statements(raw, ids, uuid.uuid4().hex)
        row = raw.execute("SELECT count(*) AS n FROM projects WHERE name = 'raw'").fetchone()
        audited = raw.execute("SELECT count(*) AS n FROM audit_logs WHERE user_agent = 'bench'").fetchone()
    assert (row, audited) == ({"n": 1}, {"n": 1})
