-- Moving a tenant between cells (decision 0141): the write freeze and the control plane's move log.

-- While `moving_since` is set the tenant is read-only: every write statement of a tenant transaction is
-- refused by the statement trigger below. The mover (the owner role) sets and clears it.
ALTER TABLE tenants ADD COLUMN moving_since timestamptz;

-- BEFORE each INSERT/UPDATE/DELETE statement on a tenant table. It takes KEY SHARE on the tenant's row, so
-- the mover's `SELECT … FOR UPDATE` after setting `moving_since` waits for every write transaction that got
-- past this check, and every later one sees the flag and is refused with SQLSTATE TM001
-- (saascore.db.connection maps it to TenantMovingError: 503 with Retry-After in the API, a retry in the
-- workers). The owner role (migrations, the mover, restores) is never refused: as a SECURITY DEFINER
-- function, current_user is the owner here, and session_user is who logged in.
CREATE FUNCTION app.refuse_write_while_moving()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    tenant uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
    since timestamptz;
BEGIN
    IF tenant IS NULL OR session_user = current_user THEN
        RETURN NULL;
    END IF;
    SELECT moving_since INTO since FROM public.tenants WHERE id = tenant FOR KEY SHARE;
    IF since IS NOT NULL THEN
        RAISE EXCEPTION 'tenant % is moving to another cell and is read-only until the move completes', tenant
            USING ERRCODE = 'TM001', HINT = 'retry shortly';
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.refuse_write_while_moving() FROM PUBLIC;

CREATE FUNCTION app.guard_tenant_writes(target regclass)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER refuse_write_while_moving BEFORE INSERT OR UPDATE OR DELETE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION app.refuse_write_while_moving()',
        target
    );
END
$$;

-- Every tenant table from now on gets the guard with its RLS (tests/tenancy/test_rls_catalog.py checks).
CREATE OR REPLACE FUNCTION app.enable_tenant_rls(target regclass, tenant_column name DEFAULT 'tenant_id')
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
    EXECUTE format(
        'CREATE POLICY tenant_isolation ON %s AS PERMISSIVE FOR ALL TO PUBLIC '
        'USING (%2$I = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid) '
        'WITH CHECK (%2$I = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)',
        target, tenant_column
    );
    PERFORM app.guard_tenant_writes(target);
END
$$;

-- And every tenant table that exists already (the tables saascore.db.tenant_tables walks).
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
          AND EXISTS (
              SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped
                AND a.attname = CASE WHEN c.relname = 'tenants' THEN 'id' ELSE 'tenant_id' END)
    LOOP
        PERFORM app.guard_tenant_writes(t);
    END LOOP;
END
$$;

-- One row per move, in the control plane (the pooled cell), owner-only like the directory. A move is
-- resumed from its `step`; at most one move of a tenant is unfinished.
CREATE TABLE control.tenant_moves (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL,
    source_cell   text NOT NULL CHECK (source_cell ~ '^[a-z][a-z0-9-]{0,39}$'),
    target_cell   text NOT NULL CHECK (target_cell ~ '^[a-z][a-z0-9-]{0,39}$'),
    step          text NOT NULL DEFAULT 'started'
                  CHECK (step IN ('started', 'frozen', 'copied', 'verified', 'flipped', 'done', 'rolled_back')),
    requested_by  text NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 320),
    tables        jsonb,  -- archive member -> {rows, sha256} of the copy, what verification compares
    error         text,
    started_at    timestamptz NOT NULL DEFAULT now(),
    frozen_at     timestamptz,
    flipped_at    timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (source_cell <> target_cell)
);
CREATE UNIQUE INDEX tenant_moves_one_unfinished ON control.tenant_moves (tenant_id)
    WHERE step NOT IN ('done', 'rolled_back');
REVOKE ALL ON control.tenant_moves FROM PUBLIC;
CREATE TRIGGER tenant_moves_touch BEFORE UPDATE ON control.tenant_moves
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();
