-- Per-tenant SSO connections (issue 17): each row is one Cognito user-pool identity provider (SAML 2.0 or
-- OIDC) that the tenant's people sign in through. Cognito holds the provider itself; the row holds what
-- the API needs to manage it and to tie a federated sign-in back to its tenant. An OIDC client secret is
-- never stored here: only the ARN of the Secrets Manager secret that holds it.

CREATE TABLE sso_connections (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    protocol          text NOT NULL CHECK (protocol IN ('saml', 'oidc')),
    -- The Cognito provider name, derived from tenant and connection ids (1..32 characters, Cognito's rule).
    provider_name     text NOT NULL CHECK (provider_name ~ '^sso-[0-9a-f]{12}-[0-9a-f]{12}$'),
    display_name      text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    saml_metadata_url text CHECK (length(saml_metadata_url) <= 2048),
    saml_entity_id    text CHECK (length(saml_entity_id) <= 1024),
    oidc_issuer       text CHECK (length(oidc_issuer) <= 2048),
    oidc_client_id    text CHECK (length(oidc_client_id) <= 256),
    oidc_secret_arn   text CHECK (length(oidc_secret_arn) <= 2048),
    oidc_scopes       text CHECK (length(oidc_scopes) <= 512),
    email_attribute   text NOT NULL CHECK (length(email_attribute) BETWEEN 1 AND 512),
    groups_attribute  text CHECK (length(groups_attribute) BETWEEN 1 AND 512),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    CHECK (protocol <> 'oidc' OR (oidc_issuer IS NOT NULL AND oidc_client_id IS NOT NULL))
);
-- Cognito provider names are unique per user pool, i.e. across every tenant.
CREATE UNIQUE INDEX sso_connections_provider_name_key ON sso_connections (provider_name);
CREATE INDEX sso_connections_tenant_created_idx ON sso_connections (tenant_id, created_at, id);
SELECT app.enable_tenant_rls('sso_connections');
CREATE TRIGGER sso_connections_touch BEFORE UPDATE ON sso_connections
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

INSERT INTO permissions (id, resource, action, description) VALUES
    ('sso:read', 'sso', 'read', 'See the tenant''s SSO connections, verified domains and role mappings'),
    ('sso:manage', 'sso', 'manage', 'Register, change and remove SSO connections, domains and role mappings');
INSERT INTO system_role_grants (role_key, permission_id)
SELECT role_key, permission_id
FROM unnest(ARRAY['owner', 'admin']) AS role_key, unnest(ARRAY['sso:read', 'sso:manage']) AS permission_id;

-- Existing tenants' owner and admin roles get the new grants, one tenant context at a time (RLS is forced
-- for the migration owner too; roles are readable to it through the owner_directory policy of 0004).
DO $$
DECLARE
    tenant record;
BEGIN
    FOR tenant IN SELECT DISTINCT tenant_id FROM roles WHERE is_system AND key IN ('owner', 'admin') LOOP
        PERFORM set_config('app.tenant_id', tenant.tenant_id::text, true);
        INSERT INTO role_permissions (tenant_id, role_id, permission_id)
        SELECT r.tenant_id, r.id, g.permission_id
        FROM roles r JOIN system_role_grants g ON g.role_key = r.key
        WHERE r.tenant_id = tenant.tenant_id AND r.is_system AND g.permission_id LIKE 'sso:%'
        ON CONFLICT DO NOTHING;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END
$$;
