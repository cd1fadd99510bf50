-- Tenant erasure (decision 0112): after its grace period in offboarding, a tenant's rows are deleted from
-- every tenant table and a signed receipt is all that remains.

-- The receipt: global (the tenant it names is gone), written and read only through the functions below.
-- `stripe_customer_id` is kept while the erasure runs (the billing rows holding it are deleted with the
-- rest) and cleared when it completes.
CREATE TABLE erasure_receipts (
    erased_tenant_id    uuid PRIMARY KEY,
    requested_by        text NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 320),
    started_at          timestamptz NOT NULL DEFAULT now(),
    stripe_customer_id  text,
    completed_at        timestamptz,
    row_counts          jsonb,
    signature           text,
    CHECK ((completed_at IS NULL) = (signature IS NULL))
);
REVOKE ALL ON erasure_receipts FROM saas_app;

-- The transaction's tenant, when it is offboarding and its grace period is over; else an error. Every
-- erasure function checks this first, so none of them can touch a tenant that is not due.
CREATE FUNCTION app.tenant_due_for_erasure()
RETURNS uuid
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    tenant uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
BEGIN
    IF tenant IS NULL OR NOT EXISTS (
        SELECT 1 FROM public.tenants
        WHERE id = tenant AND lifecycle_state = 'offboarding' AND erase_after <= now()
    ) THEN
        RAISE EXCEPTION 'tenant % is not due for erasure', tenant USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN tenant;
END
$$;

-- Start (or resume) the receipt; returns it. Idempotent: a second call returns the first call's row.
CREATE FUNCTION app.begin_erasure(p_requested_by text, p_stripe_customer_id text)
RETURNS SETOF erasure_receipts
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    tenant uuid := app.tenant_due_for_erasure();
BEGIN
    INSERT INTO public.erasure_receipts (erased_tenant_id, requested_by, stripe_customer_id)
    VALUES (tenant, p_requested_by, p_stripe_customer_id)
    ON CONFLICT (erased_tenant_id) DO NOTHING;
    RETURN QUERY SELECT * FROM public.erasure_receipts WHERE erased_tenant_id = tenant;
END
$$;

-- Delete the due tenant's rows of one tenant table (append-only ones included); returns how many.
CREATE FUNCTION app.erase_tenant_rows(p_table text)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    tenant uuid := app.tenant_due_for_erasure();
    tenant_column name := CASE WHEN p_table = 'tenants' THEN 'id' ELSE 'tenant_id' END;
    deleted bigint;
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace = 'public'::regnamespace AND c.relname = p_table AND c.relkind IN ('r', 'p')
          AND a.attname = tenant_column AND NOT a.attisdropped
    ) THEN
        RAISE EXCEPTION '% is not a tenant table', p_table USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format('DELETE FROM public.%I WHERE %I = $1', p_table, tenant_column) USING tenant;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END
$$;

-- Complete the receipt in the transaction that deleted the rows (the tenant row is deleted last, so this
-- runs before it; the check above still sees the tenant).
CREATE FUNCTION app.complete_erasure(p_row_counts jsonb, p_completed_at timestamptz, p_signature text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    tenant uuid := app.tenant_due_for_erasure();
BEGIN
    UPDATE public.erasure_receipts
    SET row_counts = p_row_counts, completed_at = p_completed_at, signature = p_signature,
        stripe_customer_id = NULL
    WHERE erased_tenant_id = tenant AND completed_at IS NULL;
END
$$;

-- A receipt by tenant id, completed or not (operators, and the job's check that it already finished).
CREATE FUNCTION app.erasure_receipt(p_tenant_id uuid)
RETURNS SETOF erasure_receipts
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$ SELECT * FROM public.erasure_receipts WHERE erased_tenant_id = p_tenant_id $$;

-- Tenants whose grace period is over, for the daily schedule (no tenant is known yet).
CREATE FUNCTION app.tenants_due_for_erasure(p_limit integer)
RETURNS SETOF uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT id FROM public.tenants
    WHERE lifecycle_state = 'offboarding' AND erase_after <= now()
    ORDER BY erase_after, id
    LIMIT LEAST(GREATEST(p_limit, 1), 1000)
$$;

GRANT EXECUTE ON FUNCTION app.begin_erasure(text, text) TO saas_app;
GRANT EXECUTE ON FUNCTION app.erase_tenant_rows(text) TO saas_app;
GRANT EXECUTE ON FUNCTION app.complete_erasure(jsonb, timestamptz, text) TO saas_app;
GRANT EXECUTE ON FUNCTION app.erasure_receipt(uuid) TO saas_app;
GRANT EXECUTE ON FUNCTION app.tenants_due_for_erasure(integer) TO saas_app;

-- The global identities (users rows) of the due tenant's former members that no other tenant has as a
-- member: personal data that would otherwise outlive the erasure. Called after the memberships are gone,
-- with the user ids they held; returns how many identities were deleted.
CREATE FUNCTION app.erase_member_identities(p_user_ids uuid[])
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    deleted bigint;
BEGIN
    PERFORM app.tenant_due_for_erasure();
    DELETE FROM public.users u
    WHERE u.id = ANY (p_user_ids)
      AND NOT EXISTS (SELECT 1 FROM public.memberships m WHERE m.user_id = u.id);
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END
$$;
GRANT EXECUTE ON FUNCTION app.erase_member_identities(uuid[]) TO saas_app;
