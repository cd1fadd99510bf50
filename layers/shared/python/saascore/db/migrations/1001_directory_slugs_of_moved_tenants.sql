-- A moved tenant's slug in the directory (decision 0141). Sign-in by slug finds a tenant in the cell its
-- slug is placed in (reserved cell, else pooled); once `saas tenants move` has taken it elsewhere, that cell
-- no longer holds the slug. The move's flip records the slug here, so sign-in by slug asks the directory
-- first, and a sign-up may not take a slug a moved tenant holds in another cell.

ALTER TABLE control.tenant_cells ADD COLUMN slug text UNIQUE;

-- The moved tenant with this slug and its cell (no row: the slug is where the placement rule puts it).
CREATE FUNCTION app.moved_tenant_by_slug(p_slug text)
RETURNS TABLE (tenant_id uuid, cell text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, control
AS $$
BEGIN
    PERFORM app.refuse_in_tenant_transaction();
    RETURN QUERY SELECT d.tenant_id, d.cell FROM control.tenant_cells d WHERE d.slug = p_slug;
END
$$;

-- Placement with the new tenant's slug: refused (unique_violation, as a slug taken in the cell is) when a
-- moved tenant holds it. `app.place_tenant(uuid, text)` stays for code deployed before this migration.
CREATE FUNCTION app.place_tenant(p_tenant_id uuid, p_cell text, p_slug text)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, control
AS $$
BEGIN
    PERFORM app.refuse_in_tenant_transaction();
    IF EXISTS (SELECT 1 FROM control.tenant_cells WHERE slug = p_slug AND tenant_id <> p_tenant_id) THEN
        RAISE EXCEPTION 'the tenant slug % is taken', p_slug USING ERRCODE = 'unique_violation';
    END IF;
    RETURN app.place_tenant(p_tenant_id, p_cell);
END
$$;

REVOKE ALL ON FUNCTION app.moved_tenant_by_slug(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.place_tenant(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.moved_tenant_by_slug(text) TO saas_app;
GRANT EXECUTE ON FUNCTION app.place_tenant(uuid, text, text) TO saas_app;
