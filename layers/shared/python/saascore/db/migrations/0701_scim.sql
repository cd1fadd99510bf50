-- SCIM 2.0 provisioning (RFC 7643/7644) per tenant: bearer tokens, the Users and Groups the tenant's IdP
-- manages, group memberships, and each group's mapped role. A SCIM user is linked to the membership it
-- provisions (an invitation until the person first signs in); deactivating or deleting it removes that
-- membership and revokes the person's sessions in this tenant.

CREATE TABLE scim_tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    public_id     text NOT NULL CHECK (public_id ~ '^[0-9a-f]{16}$'),
    secret_hash   bytea NOT NULL CHECK (length(secret_hash) = 32),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_by    uuid NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    replaced_by   uuid REFERENCES scim_tokens (id)
);
CREATE UNIQUE INDEX scim_tokens_public_id_key ON scim_tokens (public_id);
CREATE INDEX scim_tokens_tenant_created_idx ON scim_tokens (tenant_id, created_at DESC, id DESC);
SELECT app.enable_tenant_rls('scim_tokens');

DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_directory ON scim_tokens FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- The tenant of a presented SCIM token's public id, nothing else (the secret is checked under RLS).
CREATE FUNCTION app.scim_token_tenant(p_public_id text)
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$ SELECT tenant_id FROM scim_tokens WHERE public_id = p_public_id $$;
GRANT EXECUTE ON FUNCTION app.scim_token_tenant(text) TO saas_app;

CREATE TABLE scim_users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_name      text NOT NULL CHECK (length(user_name) BETWEEN 1 AND 320),
    external_id    text CHECK (length(external_id) <= 255),
    display_name   text CHECK (length(display_name) <= 255),
    email          text CHECK (length(email) <= 320),
    active         boolean NOT NULL DEFAULT true,
    attributes     jsonb NOT NULL DEFAULT '{}'::jsonb,
    membership_id  uuid REFERENCES memberships (id) ON DELETE SET NULL,
    user_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    -- The role SCIM's group mapping last gave the membership: taken back when no mapped group is left.
    granted_role_id uuid,
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, granted_role_id) REFERENCES roles (tenant_id, id) ON DELETE SET NULL (granted_role_id)
);
-- userName is unique per tenant and compared without case (RFC 7643 §4.1.1: caseExact false).
CREATE UNIQUE INDEX scim_users_tenant_user_name_key ON scim_users (tenant_id, lower(user_name));
CREATE INDEX scim_users_tenant_external_idx ON scim_users (tenant_id, external_id);
CREATE INDEX scim_users_tenant_created_idx ON scim_users (tenant_id, created_at, id);
CREATE INDEX scim_users_membership_idx ON scim_users (membership_id);
SELECT app.enable_tenant_rls('scim_users');

CREATE TABLE scim_groups (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 255),
    external_id   text CHECK (length(external_id) <= 255),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- The role this group's members get (the tenant's SCIM group → role mapping); NULL maps nothing.
    role_id       uuid,
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE SET NULL (role_id)
);
CREATE UNIQUE INDEX scim_groups_tenant_display_name_key ON scim_groups (tenant_id, lower(display_name));
CREATE INDEX scim_groups_tenant_created_idx ON scim_groups (tenant_id, created_at, id);
SELECT app.enable_tenant_rls('scim_groups');

CREATE TABLE scim_group_members (
    tenant_id  uuid NOT NULL,
    group_id   uuid NOT NULL,
    user_id    uuid NOT NULL,
    PRIMARY KEY (tenant_id, group_id, user_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES scim_groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES scim_users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX scim_group_members_user_idx ON scim_group_members (tenant_id, user_id);
SELECT app.enable_tenant_rls('scim_group_members');

INSERT INTO permissions (id, resource, action, description) VALUES
    ('scim:manage', 'scim', 'manage', 'Issue and revoke SCIM tokens; map SCIM groups to roles');
INSERT INTO system_role_grants (role_key, permission_id) VALUES ('owner', 'scim:manage'), ('admin', 'scim:manage');

DO $$
DECLARE
    tenant record;
BEGIN
    FOR tenant IN SELECT DISTINCT tenant_id FROM roles WHERE is_system AND key IN ('owner', 'admin') LOOP
        PERFORM set_config('app.tenant_id', tenant.tenant_id::text, true);
        INSERT INTO role_permissions (tenant_id, role_id, permission_id)
        SELECT r.tenant_id, r.id, 'scim:manage'
        FROM roles r
        WHERE r.tenant_id = tenant.tenant_id AND r.is_system AND r.key IN ('owner', 'admin')
        ON CONFLICT DO NOTHING;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END
$$;
