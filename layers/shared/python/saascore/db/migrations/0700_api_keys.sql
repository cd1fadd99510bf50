-- Tenant API keys for machine clients. A key is `sk_<public_id>_<secret>`: `public_id` finds the row before
-- the tenant is known (through app.api_key_tenant below), only SHA-256 of the secret is stored. Each key
-- owns one session row (created with it, ending when the key expires or is revoked), so the tokens it is
-- exchanged for pass the per-request session check like any other session's.

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    public_id     text NOT NULL CHECK (public_id ~ '^[0-9a-f]{16}$'),
    secret_hash   bytea NOT NULL CHECK (length(secret_hash) = 32),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    scopes        text[] NOT NULL CHECK (cardinality(scopes) BETWEEN 1 AND 100),
    created_by    uuid NOT NULL REFERENCES users (id),
    session_id    uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    revoked_by    uuid REFERENCES users (id)
);
-- The public id is global: it is how a presented key finds its tenant.
CREATE UNIQUE INDEX api_keys_public_id_key ON api_keys (public_id);
CREATE UNIQUE INDEX api_keys_session_key ON api_keys (session_id);
CREATE INDEX api_keys_tenant_created_idx ON api_keys (tenant_id, created_at DESC, id DESC);
SELECT app.enable_tenant_rls('api_keys');

-- Audit entries name the API key a machine client acted with.
ALTER TABLE audit_logs ADD COLUMN actor_api_key_id uuid;

DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_directory ON api_keys FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- The tenant of a presented key's public id, nothing else (the secret is checked in the tenant's own
-- transaction, under RLS).
CREATE FUNCTION app.api_key_tenant(p_public_id text)
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$ SELECT tenant_id FROM api_keys WHERE public_id = p_public_id $$;
GRANT EXECUTE ON FUNCTION app.api_key_tenant(text) TO saas_app;

INSERT INTO permissions (id, resource, action, description) VALUES
    ('api_keys:manage', 'api_keys', 'manage', 'Create, list and revoke the tenant''s API keys');
INSERT INTO system_role_grants (role_key, permission_id) VALUES
    ('owner', 'api_keys:manage'), ('admin', 'api_keys:manage');

-- Existing tenants' owner and admin roles get the grant, one tenant context at a time (RLS is forced for
-- the migration owner too; roles are readable to it through the owner_directory policy of 0004).
DO $$
DECLARE
    tenant record;
BEGIN
    FOR tenant IN SELECT DISTINCT tenant_id FROM roles WHERE is_system AND key IN ('owner', 'admin') LOOP
        PERFORM set_config('app.tenant_id', tenant.tenant_id::text, true);
        INSERT INTO role_permissions (tenant_id, role_id, permission_id)
        SELECT r.tenant_id, r.id, 'api_keys:manage'
        FROM roles r
        WHERE r.tenant_id = tenant.tenant_id AND r.is_system AND r.key IN ('owner', 'admin')
        ON CONFLICT DO NOTHING;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END
$$;
