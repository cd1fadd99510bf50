-- Tenancy foundation: the application role, the `app` schema with the tenant-context functions,
-- and the helper every tenant table calls to get forced row-level security.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'saas_app') THEN
        -- The application role: logs in (password locally, IAM token through RDS Proxy), owns nothing,
        -- never bypasses RLS.
        CREATE ROLE saas_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
        GRANT rds_iam TO saas_app;
    END IF;
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO saas_app;

CREATE SCHEMA IF NOT EXISTS app;
REVOKE ALL ON SCHEMA app FROM PUBLIC;
GRANT USAGE ON SCHEMA app TO saas_app;

-- Tables created by later migrations are readable and writable by the application role; RLS decides
-- which rows. Append-only tables revoke UPDATE/DELETE explicitly.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO saas_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The one place the tenant context is set. RDS Proxy pins a connection when it sees SET or set_config
-- in a statement but does not look inside functions; the setting is transaction-local (is_local = true)
-- so nothing survives the transaction that set it.
CREATE FUNCTION app.set_tenant(tenant_id uuid, statement_timeout_ms integer DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    PERFORM set_config('app.tenant_id', COALESCE(tenant_id::text, ''), true);
    IF statement_timeout_ms IS NOT NULL THEN
        PERFORM set_config('statement_timeout', statement_timeout_ms::text, true);
    END IF;
END
$$;
GRANT EXECUTE ON FUNCTION app.set_tenant(uuid, integer) TO saas_app;

-- After a transaction ends the setting reads '' (not NULL): NULLIF makes both "never set" and "reset"
-- mean "no tenant", which matches no row.
CREATE FUNCTION app.current_tenant()
RETURNS uuid
LANGUAGE sql
STABLE
AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;
GRANT EXECUTE ON FUNCTION app.current_tenant() TO saas_app;

-- Every tenant table calls this in its migration: RLS enabled and forced, one policy with USING and
-- WITH CHECK on the transaction's tenant. The expression is inlined (not app.current_tenant()) so the
-- planner treats it as a stable comparison usable by the tenant_id-first indexes.
CREATE FUNCTION app.enable_tenant_rls(target regclass, tenant_column name DEFAULT 'tenant_id')
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
END
$$;

-- Keeps updated_at honest without relying on every UPDATE statement to set it.
CREATE FUNCTION app.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
