-- The example domain resource, the audit log and stored idempotent responses.

CREATE TABLE projects (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description  text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    version      integer NOT NULL DEFAULT 1,
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz
);
-- Keyset pagination: (created_at, id) in both directions, live rows; and by name.
CREATE INDEX projects_tenant_created_idx ON projects (tenant_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX projects_tenant_name_idx ON projects (tenant_id, name, id) WHERE deleted_at IS NULL;
CREATE INDEX projects_tenant_deleted_idx ON projects (tenant_id, deleted_at) WHERE deleted_at IS NOT NULL;
SELECT app.enable_tenant_rls('projects');
CREATE TRIGGER projects_touch BEFORE UPDATE ON projects FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

CREATE TABLE audit_logs (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    actor_type     text NOT NULL CHECK (actor_type IN ('user', 'system', 'stripe')),
    actor_user_id  uuid,
    action         text NOT NULL,
    resource_type  text NOT NULL,
    resource_id    text,
    before         jsonb,
    after          jsonb,
    request_id     text,
    ip             inet,
    user_agent     text CHECK (length(user_agent) <= 512),
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX audit_logs_tenant_created_idx ON audit_logs (tenant_id, created_at DESC, id DESC);
CREATE INDEX audit_logs_tenant_resource_idx ON audit_logs (tenant_id, resource_type, resource_id);
CREATE INDEX audit_logs_tenant_actor_idx ON audit_logs (tenant_id, actor_user_id, created_at DESC);
SELECT app.enable_tenant_rls('audit_logs');
-- The audit log is append-only for the application.
REVOKE UPDATE, DELETE ON audit_logs FROM saas_app;

CREATE TABLE idempotency_keys (
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id           uuid NOT NULL,
    key               text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    method            text NOT NULL,
    path              text NOT NULL,
    request_hash      bytea NOT NULL,
    state             text NOT NULL DEFAULT 'in_progress' CHECK (state IN ('in_progress', 'completed')),
    response_status   integer,
    response_headers  jsonb,
    response_body     bytea,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    PRIMARY KEY (tenant_id, user_id, key)
);
CREATE INDEX idempotency_keys_tenant_expires_idx ON idempotency_keys (tenant_id, expires_at);
SELECT app.enable_tenant_rls('idempotency_keys');
