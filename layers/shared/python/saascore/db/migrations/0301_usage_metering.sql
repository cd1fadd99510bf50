-- Usage events (POST /api/v1/usage), their reporting batches to Stripe Billing Meters, the per-tenant
-- monthly usage materialized view, and the e-mail suppression list the send_email job checks.

-- A batch is the unit of exactly-once reporting: events are attached to a batch in one transaction, and
-- the batch id is the Stripe meter event `identifier`, so a retried send is deduplicated by Stripe.
CREATE TABLE usage_report_batches (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    meter               text NOT NULL,
    quantity            bigint NOT NULL CHECK (quantity > 0),
    event_count         integer NOT NULL CHECK (event_count > 0),
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'reported')),
    stripe_customer_id  text,
    reported_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_report_batches_tenant_status_idx ON usage_report_batches (tenant_id, status, created_at);
SELECT app.enable_tenant_rls('usage_report_batches');
CREATE TRIGGER usage_report_batches_touch BEFORE UPDATE ON usage_report_batches
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

CREATE TABLE usage_events (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    meter            text NOT NULL CHECK (meter ~ '^[a-z][a-z0-9_]{0,63}$'),
    quantity         bigint NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
    idempotency_key  text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    occurred_at      timestamptz NOT NULL DEFAULT now(),
    recorded_by      uuid,
    batch_id         uuid REFERENCES usage_report_batches (id) ON DELETE SET NULL,
    reported_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX usage_events_tenant_occurred_idx ON usage_events (tenant_id, occurred_at);
CREATE INDEX usage_events_tenant_unbatched_idx ON usage_events (tenant_id, meter) WHERE batch_id IS NULL;
CREATE INDEX usage_events_tenant_batch_idx ON usage_events (tenant_id, batch_id) WHERE batch_id IS NOT NULL;
SELECT app.enable_tenant_rls('usage_events');
CREATE TRIGGER usage_events_touch BEFORE UPDATE ON usage_events
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- The materialized view is refreshed by its owner, on whom RLS is forced too: the owner needs to read
-- every tenant's events for the refresh (and for nothing else; the application role gets no such policy).
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_directory ON usage_events FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- Per-tenant monthly usage. Materialized views have no RLS, so it lives in the `app` schema where the
-- application role has no table privileges, and is read only through app.tenant_usage_monthly().
CREATE MATERIALIZED VIEW app.usage_monthly AS
    SELECT tenant_id, meter, date_trunc('month', occurred_at, 'UTC') AS month,
           sum(quantity)::bigint AS quantity, count(*)::bigint AS events
    FROM usage_events
    GROUP BY tenant_id, meter, date_trunc('month', occurred_at, 'UTC')
WITH DATA;
-- REFRESH ... CONCURRENTLY requires a unique index over plain columns covering every row.
CREATE UNIQUE INDEX usage_monthly_key ON app.usage_monthly (tenant_id, meter, month);
REVOKE ALL ON app.usage_monthly FROM saas_app;

CREATE FUNCTION app.refresh_usage_views()
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$ REFRESH MATERIALIZED VIEW CONCURRENTLY app.usage_monthly $$;

-- The current tenant's rows of the view; no tenant set means no rows.
CREATE FUNCTION app.tenant_usage_monthly()
RETURNS TABLE (meter text, month timestamptz, quantity bigint, events bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT u.meter, u.month, u.quantity, u.events FROM app.usage_monthly u
    WHERE u.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
    ORDER BY u.month DESC, u.meter
$$;

GRANT EXECUTE ON FUNCTION app.refresh_usage_views() TO saas_app;
GRANT EXECUTE ON FUNCTION app.tenant_usage_monthly() TO saas_app;

-- Addresses SES must not be sent to again (hard bounces, complaints). Global, like users: an address
-- that bounced bounces for every tenant. Holds no tenant data.
CREATE TABLE email_suppressions (
    email       text PRIMARY KEY CHECK (email = lower(email) AND length(email) <= 320),
    reason      text NOT NULL CHECK (reason IN ('bounce', 'complaint', 'manual')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE UPDATE, DELETE ON email_suppressions FROM saas_app;
