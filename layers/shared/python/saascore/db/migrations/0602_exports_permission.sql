-- Customer exports (POST /api/v1/exports): taking all of a tenant's data out is the owner's alone.
INSERT INTO permissions (id, resource, action, description) VALUES
    ('exports:manage', 'exports', 'manage', 'Export all of the tenant''s data and download the exports');
INSERT INTO system_role_grants (role_key, permission_id) VALUES ('owner', 'exports:manage');

-- Existing tenants' owner roles get it too (each tenant's rows under its own context: RLS is forced).
DO $$
DECLARE
    tenant uuid;
BEGIN
    FOR tenant IN SELECT id FROM tenants LOOP
        PERFORM app.set_tenant(tenant);
        INSERT INTO role_permissions (tenant_id, role_id, permission_id)
        SELECT tenant_id, id, 'exports:manage' FROM roles WHERE tenant_id = tenant AND key = 'owner'
        ON CONFLICT DO NOTHING;
    END LOOP;
    PERFORM app.set_tenant(NULL);
END
$$;
