-- The write guard of migration 1000 also refuses a write for a tenant whose row is not in this cell.
--
-- A write with a stale cell claim can start while the mover deletes the tenant from the source cell: its
-- statement's snapshot still sees the memberships (the deletion has not committed), its guard waits on the
-- tenant row the deletion locked, and then finds the row gone. Passing it on then met the foreign key to
-- `tenants` (a 500). It is refused with SQLSTATE TM002 instead (saascore.db.connection maps it to
-- TenantNotInCellError): the API answers 401 so the client refreshes its session into the new cell, as a
-- stale claim that finds no membership here does; the workers retry and route again.
-- Two writes are let through without the row: sign-up's INSERT of it, and a DELETE (it cannot break a
-- foreign key, and the cascade of the tenant row's own deletion runs after the row is gone).
CREATE OR REPLACE FUNCTION app.refuse_write_while_moving()
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
    IF NOT FOUND THEN
        IF TG_OP = 'DELETE' OR (TG_TABLE_NAME = 'tenants' AND TG_OP = 'INSERT') THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'tenant % is not in this cell (it moved to another one or was erased)', tenant
            USING ERRCODE = 'TM002', HINT = 'route to the tenant''s cell again';
    END IF;
    IF since IS NOT NULL THEN
        RAISE EXCEPTION 'tenant % is moving to another cell and is read-only until the move completes', tenant
            USING ERRCODE = 'TM001', HINT = 'retry shortly';
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.refuse_write_while_moving() FROM PUBLIC;
