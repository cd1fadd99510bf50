-- Background jobs and their transactional outbox (issue 6).
--
-- A job row and its outbox row are written in the caller's transaction, so they commit or vanish
-- together. Delivery to SQS happens after commit: the outbox row is deleted and the message sent inside
-- one short transaction (a failed send rolls the delete back), and a scheduled sweeper delivers rows
-- the request path left behind. SQS delivery is at least once; the worker's claim makes it idempotent.

CREATE TABLE jobs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type          text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]{0,63}$'),
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
    status        text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    dedup_key     text CHECK (length(dedup_key) BETWEEN 1 AND 200),
    result        jsonb,
    error         text CHECK (length(error) <= 2000),
    run_after     timestamptz,
    locked_until  timestamptz,
    started_at    timestamptz,
    finished_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- One job per (tenant, type, dedup key): the scheduler and retried callers enqueue at most once.
CREATE UNIQUE INDEX jobs_tenant_type_dedup_key ON jobs (tenant_id, type, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX jobs_tenant_created_idx ON jobs (tenant_id, created_at DESC, id DESC);
CREATE INDEX jobs_tenant_status_idx ON jobs (tenant_id, status) WHERE status IN ('queued', 'running');
SELECT app.enable_tenant_rls('jobs');
CREATE TRIGGER jobs_touch BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

CREATE TABLE job_outbox (
    job_id      uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    body        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_outbox_tenant_created_idx ON job_outbox (tenant_id, created_at);
SELECT app.enable_tenant_rls('job_outbox');
CREATE TRIGGER job_outbox_touch BEFORE UPDATE ON job_outbox
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- The sweeper's one cross-tenant question: which outbox rows are older than the request path's window?
-- It then deletes and sends them per tenant inside tenant transactions, like the request path does.
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_directory ON job_outbox FOR SELECT TO %I USING (true)', current_user);
END
$$;

CREATE FUNCTION app.pending_job_outbox(p_min_age interval, p_limit integer)
RETURNS TABLE (job_id uuid, tenant_id uuid)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT o.job_id, o.tenant_id FROM job_outbox o
    WHERE o.created_at < now() - p_min_age
    ORDER BY o.created_at
    LIMIT least(greatest(p_limit, 1), 1000)
$$;

-- Tenants the scheduler fans per-tenant jobs out to (soft-deleted tenants get none).
CREATE FUNCTION app.active_tenant_ids()
RETURNS SETOF uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$ SELECT id FROM tenants WHERE deleted_at IS NULL ORDER BY id $$;

GRANT EXECUTE ON FUNCTION app.pending_job_outbox(interval, integer) TO saas_app;
GRANT EXECUTE ON FUNCTION app.active_tenant_ids() TO saas_app;
