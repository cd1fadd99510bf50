-- Tenants, users, memberships, RBAC (roles, permissions) and sessions with rotating refresh tokens.

CREATE TABLE tenants (
    id              uuid PRIMARY KEY,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug            text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$'),
    plan            text NOT NULL DEFAULT 'free',
    billing_status  text NOT NULL DEFAULT 'trialing',
    access_level    text NOT NULL DEFAULT 'full'
                    CHECK (access_level IN ('full', 'grace', 'read_only', 'suspended')),
    trial_ends_at   timestamptz,
    settings        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);
-- Slugs are global (they appear in URLs and the dev IdP); uniqueness is checked across tenants.
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
SELECT app.enable_tenant_rls('tenants', 'id');
CREATE TRIGGER tenants_touch BEFORE UPDATE ON tenants FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- Users are global identities (one person, many tenants), keyed by the identity provider's subject.
CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    idp_issuer    text NOT NULL,
    idp_subject   text NOT NULL,
    email         text NOT NULL CHECK (length(email) <= 320),
    display_name  text CHECK (length(display_name) <= 200),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    UNIQUE (idp_issuer, idp_subject)
);
CREATE INDEX users_email_idx ON users (lower(email));
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- Global catalogue of (resource, action) permissions; read-only to the application.
CREATE TABLE permissions (
    id           text PRIMARY KEY CHECK (id = resource || ':' || action),
    resource     text NOT NULL,
    action       text NOT NULL,
    description  text NOT NULL
);
-- Which permissions each system role gets when a tenant is created; read-only to the application.
CREATE TABLE system_role_grants (
    role_key       text NOT NULL CHECK (role_key IN ('owner', 'admin', 'member', 'viewer')),
    permission_id  text NOT NULL REFERENCES permissions (id),
    PRIMARY KEY (role_key, permission_id)
);
REVOKE INSERT, UPDATE, DELETE ON permissions, system_role_grants FROM saas_app;

CREATE TABLE roles (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key         text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_-]{1,39}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    is_system   boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, key),
    UNIQUE (tenant_id, id)
);
SELECT app.enable_tenant_rls('roles');
CREATE TRIGGER roles_touch BEFORE UPDATE ON roles FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

CREATE TABLE role_permissions (
    tenant_id      uuid NOT NULL,
    role_id        uuid NOT NULL,
    permission_id  text NOT NULL REFERENCES permissions (id),
    PRIMARY KEY (tenant_id, role_id, permission_id),
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE
);
SELECT app.enable_tenant_rls('role_permissions');

CREATE TABLE memberships (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id        uuid REFERENCES users (id) ON DELETE CASCADE,
    role_id        uuid NOT NULL,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'invited')),
    invited_email  text CHECK (length(invited_email) <= 320),
    invited_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id),
    CHECK (user_id IS NOT NULL OR invited_email IS NOT NULL)
);
CREATE UNIQUE INDEX memberships_tenant_user_key ON memberships (tenant_id, user_id);
CREATE UNIQUE INDEX memberships_tenant_invite_key ON memberships (tenant_id, lower(invited_email))
    WHERE status = 'invited';
CREATE INDEX memberships_tenant_created_idx ON memberships (tenant_id, created_at, id);
CREATE INDEX memberships_user_idx ON memberships (user_id);
SELECT app.enable_tenant_rls('memberships');
CREATE TRIGGER memberships_touch BEFORE UPDATE ON memberships
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- Users are visible to the application only through a membership of the current tenant.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_members ON users AS PERMISSIVE FOR SELECT TO PUBLIC
    USING (EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id
                   AND m.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid));
REVOKE INSERT, UPDATE, DELETE ON users FROM saas_app;

-- Sessions (sid claim) and their rotating refresh tokens. A refresh token is one-use: presenting a used
-- one revokes the session (the whole token family).
CREATE TABLE sessions (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    last_refreshed_at  timestamptz,
    revoked_at         timestamptz,
    revoked_reason     text,
    ip                 inet,
    user_agent         text CHECK (length(user_agent) <= 512)
);
CREATE INDEX sessions_tenant_user_idx ON sessions (tenant_id, user_id);
CREATE INDEX sessions_tenant_expires_idx ON sessions (tenant_id, expires_at);
SELECT app.enable_tenant_rls('sessions');
CREATE TRIGGER sessions_touch BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

CREATE TABLE refresh_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL,
    session_id   uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    replaced_by  uuid REFERENCES refresh_tokens (id) ON DELETE SET NULL
);
CREATE INDEX refresh_tokens_tenant_session_idx ON refresh_tokens (tenant_id, session_id);
SELECT app.enable_tenant_rls('refresh_tokens');

INSERT INTO permissions (id, resource, action, description) VALUES
    ('tenant:read', 'tenant', 'read', 'Read the tenant''s profile and settings'),
    ('tenant:update', 'tenant', 'update', 'Change the tenant''s profile and settings'),
    ('members:read', 'members', 'read', 'List members and invitations'),
    ('members:invite', 'members', 'invite', 'Invite people to the tenant'),
    ('members:update', 'members', 'update', 'Change a member''s role'),
    ('members:remove', 'members', 'remove', 'Remove a member'),
    ('roles:read', 'roles', 'read', 'List roles and their permissions'),
    ('roles:manage', 'roles', 'manage', 'Create, change and delete custom roles'),
    ('projects:read', 'projects', 'read', 'Read projects'),
    ('projects:create', 'projects', 'create', 'Create projects'),
    ('projects:update', 'projects', 'update', 'Change and restore projects'),
    ('projects:delete', 'projects', 'delete', 'Delete projects'),
    ('audit:read', 'audit', 'read', 'Read the audit log'),
    ('billing:read', 'billing', 'read', 'See the plan, subscription and invoices'),
    ('billing:manage', 'billing', 'manage', 'Start checkout, open the billing portal, change plan'),
    ('reports:create', 'reports', 'create', 'Request reports'),
    ('jobs:read', 'jobs', 'read', 'See the status of background jobs'),
    ('usage:write', 'usage', 'write', 'Record usage events'),
    ('usage:read', 'usage', 'read', 'Read usage');

INSERT INTO system_role_grants (role_key, permission_id)
SELECT 'owner', id FROM permissions
UNION ALL
SELECT 'admin', id FROM permissions WHERE id <> 'billing:manage'
UNION ALL
SELECT 'member', id FROM permissions WHERE id IN (
    'tenant:read', 'members:read', 'roles:read', 'projects:read', 'projects:create', 'projects:update',
    'projects:delete', 'billing:read', 'reports:create', 'jobs:read', 'usage:write', 'usage:read')
UNION ALL
SELECT 'viewer', id FROM permissions WHERE id IN (
    'tenant:read', 'members:read', 'projects:read', 'jobs:read', 'usage:read');
