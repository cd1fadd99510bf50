-- Outbound webhooks (issue 18): the tenant's endpoints, their signing secrets and one delivery row per
-- (endpoint, event). Every table is tenant data under forced RLS.

-- `event_types` empty = every event type. `failing_since` is the first failed attempt after the last
-- success; an endpoint failing continuously for WEBHOOK_DISABLE_AFTER_DAYS is disabled ('failing').
CREATE TABLE webhook_endpoints (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url              text NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
    description      text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    event_types      text[] NOT NULL DEFAULT '{}' CHECK (cardinality(event_types) <= 50),
    status           text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
    disabled_reason  text CHECK (disabled_reason IN ('manual', 'failing')),
    disabled_at      timestamptz,
    failing_since    timestamptz,
    created_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'disabled') = (disabled_reason IS NOT NULL))
);
CREATE INDEX webhook_endpoints_tenant_created_idx ON webhook_endpoints (tenant_id, created_at DESC, id DESC);
SELECT app.enable_tenant_rls('webhook_endpoints');
CREATE TRIGGER webhook_endpoints_touch BEFORE UPDATE ON webhook_endpoints
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- Secrets are stored encrypted (KMS, encryption context = tenant + endpoint; decision 0100). At most two are
-- live at once: the current one (expires_at NULL) and, during a rotation, the previous one until expires_at.
CREATE TABLE webhook_endpoint_secrets (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    endpoint_id  uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    ciphertext   bytea NOT NULL CHECK (length(ciphertext) <= 6144),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz
);
CREATE UNIQUE INDEX webhook_endpoint_secrets_current ON webhook_endpoint_secrets (tenant_id, endpoint_id)
    WHERE expires_at IS NULL;
CREATE INDEX webhook_endpoint_secrets_endpoint_idx ON webhook_endpoint_secrets (tenant_id, endpoint_id);
SELECT app.enable_tenant_rls('webhook_endpoint_secrets');

-- One row per (endpoint, event): the delivery log the tenant reads. `retry_until` bounds automatic retries
-- (creation + 3 days; a manual redelivery is a single attempt). The delivery worker owns the row's state.
CREATE TABLE webhook_deliveries (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    endpoint_id       uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id          uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    event_type        text NOT NULL CHECK (length(event_type) <= 100),
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at   timestamptz,
    locked_until      timestamptz,
    retry_until       timestamptz NOT NULL,
    last_attempt_at   timestamptz,
    last_status_code  integer CHECK (last_status_code BETWEEN 100 AND 599),
    last_error        text CHECK (length(last_error) <= 500),
    last_duration_ms  integer CHECK (last_duration_ms >= 0),
    delivered_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_endpoint_created_idx
    ON webhook_deliveries (tenant_id, endpoint_id, created_at DESC, id DESC);
SELECT app.enable_tenant_rls('webhook_deliveries');
-- The log is the record of what was sent: rows go with their endpoint, event or tenant (cascades).
REVOKE DELETE ON webhook_deliveries FROM saas_app;
CREATE TRIGGER webhook_deliveries_touch BEFORE UPDATE ON webhook_deliveries
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();
