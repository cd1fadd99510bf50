-- Stripe events that cannot be routed yet: their customer is linked to no tenant and nothing in them names
-- one (an invoice.paid that overtakes checkout.session.completed, a customer created outside the API).
-- They wait here, outside every tenant, until the customer is linked; the processor then applies them in
-- `created` order with the event that linked it. The application role has no privilege on the table: it
-- parks, takes and lists through the SECURITY DEFINER functions below, which hold a transaction-scoped
-- advisory lock per customer so an event cannot be parked while its customer's parked events are taken.

CREATE TABLE stripe_parked_events (
    id                  text PRIMARY KEY,
    stripe_customer_id  text NOT NULL,
    type                text NOT NULL,
    stripe_created      timestamptz NOT NULL,
    livemode            boolean NOT NULL,
    reason              text NOT NULL,
    payload             jsonb NOT NULL,
    deliveries          integer NOT NULL DEFAULT 1,
    parked_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_parked_events_customer_idx ON stripe_parked_events (stripe_customer_id, stripe_created);
ALTER TABLE stripe_parked_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE stripe_parked_events FORCE ROW LEVEL SECURITY;
REVOKE ALL ON stripe_parked_events FROM saas_app;
DO $$
BEGIN
    EXECUTE format(
        'CREATE POLICY owner_directory ON stripe_parked_events FOR ALL TO %I USING (true) WITH CHECK (true)',
        current_user);
END
$$;

-- Park an event of an unlinked customer (a redelivery only counts). When the customer was linked in the
-- meantime nothing is parked and the owning tenant is returned, so the caller applies the event now.
CREATE FUNCTION app.park_stripe_event(
    p_event_id text, p_customer_id text, p_type text, p_created timestamptz, p_livemode boolean,
    p_reason text, p_payload jsonb)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    owner_tenant uuid;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('stripe_customer:' || p_customer_id, 0));
    SELECT tenant_id INTO owner_tenant FROM billing_customers WHERE stripe_customer_id = p_customer_id;
    IF owner_tenant IS NOT NULL THEN
        RETURN owner_tenant;
    END IF;
    INSERT INTO stripe_parked_events AS parked
        (id, stripe_customer_id, type, stripe_created, livemode, reason, payload)
    VALUES (p_event_id, p_customer_id, p_type, p_created, p_livemode, p_reason, p_payload)
    ON CONFLICT (id) DO UPDATE SET deliveries = parked.deliveries + 1;
    RETURN NULL;
END
$$;

-- Remove and return the parked events of a customer the current tenant owns (none for anyone else's),
-- oldest `created` first. Called in the tenant transaction that applies them, so a rollback parks them
-- again.
CREATE FUNCTION app.take_parked_stripe_events(p_customer_id text)
RETURNS TABLE (event_id text, event_payload jsonb)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('stripe_customer:' || p_customer_id, 0));
    IF NOT EXISTS (SELECT FROM billing_customers b
                   WHERE b.stripe_customer_id = p_customer_id AND b.tenant_id = app.current_tenant()) THEN
        RETURN;
    END IF;
    RETURN QUERY
        WITH taken AS (
            DELETE FROM stripe_parked_events p WHERE p.stripe_customer_id = p_customer_id
            RETURNING p.id, p.payload, p.stripe_created, p.parked_at
        )
        SELECT taken.id, taken.payload FROM taken ORDER BY taken.stripe_created, taken.parked_at, taken.id;
END
$$;

-- What is parked, for `saas webhooks parked` (no payloads: they may carry customer details).
CREATE FUNCTION app.parked_stripe_events(p_limit integer)
RETURNS TABLE (event_id text, stripe_customer_id text, event_type text, stripe_created timestamptz,
               reason text, deliveries integer, parked_at timestamptz)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT id, stripe_customer_id, type, stripe_created, reason, deliveries, parked_at
    FROM stripe_parked_events ORDER BY stripe_created, id LIMIT p_limit
$$;

-- One parked event's payload, for `saas webhooks replay <event-id>`.
CREATE FUNCTION app.parked_stripe_event(p_event_id text)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$ SELECT payload FROM stripe_parked_events WHERE id = p_event_id $$;

GRANT EXECUTE ON FUNCTION app.park_stripe_event(text, text, text, timestamptz, boolean, text, jsonb) TO saas_app;
GRANT EXECUTE ON FUNCTION app.take_parked_stripe_events(text) TO saas_app;
GRANT EXECUTE ON FUNCTION app.parked_stripe_events(integer) TO saas_app;
GRANT EXECUTE ON FUNCTION app.parked_stripe_event(text) TO saas_app;
