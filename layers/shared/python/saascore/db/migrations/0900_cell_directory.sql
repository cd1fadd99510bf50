-- The cell directory: which cell (PostgreSQL database) holds each tenant's data (decision 0140).
-- Every cell carries the same schema, so this table exists in every cell; only the control-plane cell's
-- copy (the pooled cell) is read and written. It lives in its own schema on which the application role
-- has no privilege at all, and is reached only through the SECURITY DEFINER functions below, each of
-- which refuses to run inside a tenant transaction: tenant code can never read or change placement.

CREATE SCHEMA control;
REVOKE ALL ON SCHEMA control FROM PUBLIC;

CREATE TABLE control.tenant_cells (
    tenant_id  uuid PRIMARY KEY,
    cell       text NOT NULL CHECK (cell ~ '^[a-z][a-z0-9-]{0,39}$'),
    placed_at  timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON control.tenant_cells FROM PUBLIC;
CREATE TRIGGER tenant_cells_touch BEFORE UPDATE ON control.tenant_cells
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- Tenants that existed before cells live in the pooled cell.
INSERT INTO control.tenant_cells (tenant_id, cell) SELECT id, 'pooled' FROM public.tenants;

CREATE FUNCTION app.refuse_in_tenant_transaction()
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    IF NULLIF(current_setting('app.tenant_id', true), '') IS NOT NULL THEN
        RAISE EXCEPTION 'the cell directory is not reachable from a tenant transaction'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

-- The cell of a tenant, NULL when the directory has no entry for it.
CREATE FUNCTION app.tenant_cell(p_tenant_id uuid)
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, control
AS $$
BEGIN
    PERFORM app.refuse_in_tenant_transaction();
    RETURN (SELECT cell FROM control.tenant_cells WHERE tenant_id = p_tenant_id);
END
$$;

-- Record where a new tenant is placed; an existing entry is kept. Returns the tenant's cell.
CREATE FUNCTION app.place_tenant(p_tenant_id uuid, p_cell text)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, control
AS $$
DECLARE
    placed text;
BEGIN
    PERFORM app.refuse_in_tenant_transaction();
    INSERT INTO control.tenant_cells (tenant_id, cell) VALUES (p_tenant_id, p_cell)
    ON CONFLICT (tenant_id) DO NOTHING;
    SELECT cell INTO placed FROM control.tenant_cells WHERE tenant_id = p_tenant_id;
    RETURN placed;
END
$$;

REVOKE ALL ON FUNCTION app.refuse_in_tenant_transaction() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.tenant_cell(uuid) TO saas_app;
GRANT EXECUTE ON FUNCTION app.place_tenant(uuid, text) TO saas_app;
