-- Read flights (Database.read_flights) are implicit transactions of one round trip each. This sets the
-- tenant exactly like app.set_tenant and makes the transaction read-only, so a write that slips onto a
-- read path fails loudly instead of committing on its own; on a hot standby it is what the server
-- enforces anyway. A function, so RDS Proxy sees no set_config and does not pin.
CREATE FUNCTION app.set_tenant_read_only(tenant_id uuid, statement_timeout_ms integer DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    PERFORM app.set_tenant(tenant_id, statement_timeout_ms);
    PERFORM set_config('transaction_read_only', 'on', true);
END
$$;
GRANT EXECUTE ON FUNCTION app.set_tenant_read_only(uuid, integer) TO saas_app;
