-- Webhook endpoints are managed by owners and admins (issue 18): two permissions, granted to those system
-- roles in new tenants (system_role_grants) and in every existing tenant (role_permissions, per tenant
-- because the table's RLS is forced for its owner too).

INSERT INTO permissions (id, resource, action, description) VALUES
    ('webhooks:read', 'webhooks', 'read', 'List webhook endpoints and their delivery logs'),
    ('webhooks:manage', 'webhooks', 'manage', 'Create, change, delete webhook endpoints, rotate secrets, redeliver');

INSERT INTO system_role_grants (role_key, permission_id)
SELECT role_key, permission_id
FROM (VALUES ('owner'), ('admin')) AS r (role_key)
CROSS JOIN (VALUES ('webhooks:read'), ('webhooks:manage')) AS p (permission_id);

DO $$
DECLARE
    tenant uuid;
BEGIN
    FOR tenant IN SELECT id FROM tenants LOOP
        PERFORM set_config('app.tenant_id', tenant::text, true);
        INSERT INTO role_permissions (tenant_id, role_id, permission_id)
        SELECT r.tenant_id, r.id, p.permission_id
        FROM roles r CROSS JOIN (VALUES ('webhooks:read'), ('webhooks:manage')) AS p (permission_id)
        WHERE r.tenant_id = tenant AND r.is_system AND r.key IN ('owner', 'admin')
        ON CONFLICT DO NOTHING;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END
$$;
