-- Platform operators move another tenant through its lifecycle from their own request's transaction
-- (POST /api/v1/ops/tenants/{tenant_id}/suspend|reactivate|offboard, decision 0113).
--
-- The request starts in the operator's tenant. This function checks, in that transaction, that it is a
-- platform operator's (app.is_platform_operator, migration 0400), and only then switches the transaction's
-- tenant to the target, so the lifecycle is changed, audited and announced under the target's own RLS
-- context exactly as `saas tenants …` does. It answers false, and switches nothing, for a tenant this
-- database does not hold (unknown, erased, or in another cell).
CREATE FUNCTION app.ops_enter_tenant(p_tenant uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF NOT app.is_platform_operator() THEN
        RAISE EXCEPTION 'only a platform operator''s transaction may act on another tenant'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM public.tenants WHERE id = p_tenant) THEN
        RETURN false;
    END IF;
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION app.ops_enter_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.ops_enter_tenant(uuid) TO saas_app;
