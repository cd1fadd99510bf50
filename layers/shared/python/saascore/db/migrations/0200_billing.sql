-- Billing: the tenant's Stripe customer, its subscriptions and every Stripe event applied.
-- Billing state is a cache of Stripe (the source of truth); the tenant's summary (plan, billing_status,
-- access_level, trial_ends_at, billing_grace_ends_at) lives on `tenants` so the API and the session token
-- read one row.

ALTER TABLE tenants ADD COLUMN billing_grace_ends_at timestamptz;

-- One Stripe customer per tenant, ever: UNIQUE (tenant_id) plus the Stripe idempotency key the API uses
-- when it creates the customer, so two concurrent checkouts cannot create two customers.
CREATE TABLE billing_customers (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    stripe_customer_id  text NOT NULL,
    livemode            boolean NOT NULL DEFAULT false,
    email               text,
    last_event_created  timestamptz,
    deleted_at          timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX billing_customers_tenant_key ON billing_customers (tenant_id);
CREATE UNIQUE INDEX billing_customers_stripe_key ON billing_customers (stripe_customer_id);
SELECT app.enable_tenant_rls('billing_customers');
CREATE TRIGGER billing_customers_touch BEFORE UPDATE ON billing_customers
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

CREATE TABLE subscriptions (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id               uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    stripe_subscription_id  text NOT NULL,
    stripe_customer_id      text NOT NULL,
    status                  text NOT NULL CHECK (status IN (
                                'trialing', 'active', 'past_due', 'unpaid', 'canceled', 'incomplete',
                                'incomplete_expired', 'paused')),
    plan                    text NOT NULL,
    price_lookup_key        text,
    stripe_price_id         text,
    stripe_item_id          text,
    current_period_end      timestamptz,
    trial_end               timestamptz,
    cancel_at_period_end    boolean NOT NULL DEFAULT false,
    canceled_at             timestamptz,
    cancellation_reason     text,
    latest_invoice_status   text,
    stripe_created          timestamptz NOT NULL,
    -- `created` of the newest event applied: an older event never overwrites a newer state.
    last_event_created      timestamptz NOT NULL,
    last_event_id           text NOT NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX subscriptions_stripe_key ON subscriptions (stripe_subscription_id);
-- At most one live subscription per tenant: a second checkout or a plan change done by creating a new
-- subscription (the double-charge bug) fails here instead of billing the tenant twice.
CREATE UNIQUE INDEX subscriptions_one_live_per_tenant ON subscriptions (tenant_id)
    WHERE status NOT IN ('canceled', 'incomplete_expired');
CREATE INDEX subscriptions_tenant_created_idx ON subscriptions (tenant_id, stripe_created DESC);
SELECT app.enable_tenant_rls('subscriptions');
CREATE TRIGGER subscriptions_touch BEFORE UPDATE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- Every event processed, recorded in the same transaction as its effect: the primary key makes the
-- effect exactly-once; the payload lets `saas webhooks replay` re-apply it.
CREATE TABLE stripe_events (
    id                  text PRIMARY KEY,
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type                text NOT NULL,
    stripe_created      timestamptz NOT NULL,
    livemode            boolean NOT NULL,
    stripe_customer_id  text,
    object_id           text,
    outcome             text NOT NULL DEFAULT 'applied'
                        CHECK (outcome IN ('applied', 'stale', 'ignored', 'conflict', 'failed')),
    detail              text,
    attempts            integer NOT NULL DEFAULT 1,
    payload             jsonb NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_events_tenant_created_idx ON stripe_events (tenant_id, stripe_created DESC);
CREATE INDEX stripe_events_tenant_outcome_idx ON stripe_events (tenant_id, outcome)
    WHERE outcome IN ('conflict', 'failed');
SELECT app.enable_tenant_rls('stripe_events');
CREATE TRIGGER stripe_events_touch BEFORE UPDATE ON stripe_events
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- Directory look-ups for the webhook processor and `saas webhooks replay`, which learn the tenant from
-- Stripe identifiers before any tenant is set (see 0004 for the pattern): the owner-only policies exist
-- for these SECURITY DEFINER functions alone.
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_directory ON billing_customers FOR SELECT TO %I USING (true)',
                   current_user);
    EXECUTE format('CREATE POLICY owner_directory ON stripe_events FOR SELECT TO %I USING (true)',
                   current_user);
END
$$;

-- The tenant that owns a Stripe customer (deleted customers included: their late events still belong).
CREATE FUNCTION app.tenant_id_by_stripe_customer(p_customer_id text)
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$ SELECT tenant_id FROM billing_customers WHERE stripe_customer_id = p_customer_id $$;

-- The tenant a stored Stripe event belongs to (operator replay by event id).
CREATE FUNCTION app.tenant_id_by_stripe_event(p_event_id text)
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$ SELECT tenant_id FROM stripe_events WHERE id = p_event_id $$;

GRANT EXECUTE ON FUNCTION app.tenant_id_by_stripe_customer(text) TO saas_app;
GRANT EXECUTE ON FUNCTION app.tenant_id_by_stripe_event(text) TO saas_app;
