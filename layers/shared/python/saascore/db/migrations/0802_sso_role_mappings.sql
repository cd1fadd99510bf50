-- Just-in-time provisioning and IdP group → role mapping (issue 17).
--
-- A federated sign-in through a tenant's connection creates the membership on first use and sets its role on
-- every sign-in: the role of a mapping whose group the IdP sent (the one with the most permissions when
-- several match), else the connection's default role; with neither, the sign-in is refused.

ALTER TABLE sso_connections ADD COLUMN default_role_id uuid;
ALTER TABLE sso_connections ADD CONSTRAINT sso_connections_default_role_fkey
    FOREIGN KEY (tenant_id, default_role_id) REFERENCES roles (tenant_id, id) ON DELETE SET NULL (default_role_id);

CREATE TABLE sso_role_mappings (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    connection_id  uuid NOT NULL,
    group_name     text NOT NULL CHECK (length(group_name) BETWEEN 1 AND 256),
    role_id        uuid NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (connection_id, group_name),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES sso_connections (tenant_id, id) ON DELETE CASCADE,
    -- Deleting a custom role removes the mappings to it (members keep their role until their next sign-in).
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sso_role_mappings_tenant_connection_idx ON sso_role_mappings (tenant_id, connection_id);
SELECT app.enable_tenant_rls('sso_role_mappings');
CREATE TRIGGER sso_role_mappings_touch BEFORE UPDATE ON sso_role_mappings
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- Sign-in before a tenant is known: the tenant whose connection a Cognito provider name is (decision 0003).
CREATE FUNCTION app.sso_connection_tenant(p_provider_name text)
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT c.tenant_id FROM sso_connections c
    JOIN tenants t ON t.id = c.tenant_id AND t.deleted_at IS NULL
    WHERE c.provider_name = p_provider_name
$$;
GRANT EXECUTE ON FUNCTION app.sso_connection_tenant(text) TO saas_app;
