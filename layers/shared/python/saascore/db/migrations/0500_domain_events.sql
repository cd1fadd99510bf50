-- The per-tenant domain event log (issue 18): facts about state changes, written in the same transaction
-- as the change. Append-only for the application: it may INSERT and SELECT, never UPDATE or DELETE, so a
-- recorded fact cannot be rewritten by the code that records them. Rows go only with their tenant.

CREATE TABLE events (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type           text NOT NULL CHECK (type ~ '^[a-z][a-z_]{0,39}(\.[a-z][a-z_]{0,39}){1,2}$'),
    version        smallint NOT NULL CHECK (version >= 1),
    data           jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    actor_type     text NOT NULL CHECK (actor_type IN ('user', 'system', 'stripe')),
    actor_user_id  uuid,
    request_id     text CHECK (length(request_id) <= 128),
    occurred_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX events_tenant_occurred_idx ON events (tenant_id, occurred_at DESC, id DESC);
CREATE INDEX events_tenant_type_idx ON events (tenant_id, type, occurred_at DESC);
SELECT app.enable_tenant_rls('events');
REVOKE UPDATE, DELETE, TRUNCATE ON events FROM saas_app;
