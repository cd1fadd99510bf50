-- Tenant archives (export/restore, decision 0111) and the exports the API hands out.

-- The text forms an archive holds must not depend on the session that wrote it: timestamps in UTC and
-- ISO, full float precision. Transaction-local, and inside a function so RDS Proxy does not pin.
CREATE FUNCTION app.use_archive_text_forms()
RETURNS void
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    PERFORM set_config('TimeZone', 'UTC', true);
    PERFORM set_config('DateStyle', 'ISO, YMD', true);
    PERFORM set_config('IntervalStyle', 'iso_8601', true);
    PERFORM set_config('extra_float_digits', '1', true);
END
$$;
GRANT EXECUTE ON FUNCTION app.use_archive_text_forms() TO saas_app;

-- The schema version an archive records and a restore compares against (the newest applied migration).
CREATE FUNCTION app.schema_version()
RETURNS integer
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, migrations
AS $$ SELECT COALESCE(max(version), 0) FROM migrations.schema_migrations $$;
GRANT EXECUTE ON FUNCTION app.schema_version() TO saas_app;

-- A restore loads a table's rows in key order, so a row may arrive before the row of the same table it
-- references: self-references are checked at commit (a catalog test keeps every one deferrable).
ALTER TABLE refresh_tokens ALTER CONSTRAINT refresh_tokens_replaced_by_fkey DEFERRABLE INITIALLY IMMEDIATE;

-- For the restore's transaction only (the owner runs it); in a function, like app.set_tenant.
CREATE FUNCTION app.defer_constraints()
RETURNS void
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    SET CONSTRAINTS ALL DEFERRED;
END
$$;
