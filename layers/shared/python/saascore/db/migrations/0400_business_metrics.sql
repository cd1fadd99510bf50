-- Business metrics from our own tables: sign-ups, trials, trial -> paid, MRR and its movements, daily active
-- users per tenant. Materialized views owned by the owner in the `app` schema (no RLS on views, no grant to
-- the application role), refreshed by the existing `refresh_reporting_views` schedule and read by platform
-- operators only: the read functions answer only inside a transaction whose tenant is a registered
-- platform-operator tenant (decision 0091).

-- Tenants whose owners and admins are platform operators. Owner-managed (`saas ops operators`); the
-- application role cannot read or change it.
CREATE TABLE app.platform_operators (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON app.platform_operators FROM saas_app;

-- The refresh reads every tenant's sessions (RLS is forced on the owner too); tenants and stripe_events
-- already have their owner policies (0004, 0200).
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_directory ON sessions FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- Monthly recurring revenue of one Stripe subscription object, in minor units of its currency: licensed
-- recurring items normalized to a month, only while the subscription is paying (active or past_due; a
-- trialing, paused or canceled subscription is 0). Discounts and taxes are not applied.
CREATE FUNCTION app.subscription_mrr(subscription jsonb)
RETURNS bigint
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, public
AS $$
    SELECT CASE WHEN subscription->>'status' IN ('active', 'past_due') THEN coalesce((
        SELECT round(sum(
            (item->'price'->>'unit_amount')::numeric
            * coalesce((item->>'quantity')::numeric, 1)
            * CASE item->'price'->'recurring'->>'interval'
                  WHEN 'month' THEN 1 WHEN 'year' THEN 1.0 / 12 WHEN 'week' THEN 52.0 / 12
                  WHEN 'day' THEN 365.0 / 12 ELSE 0 END
            / coalesce(nullif((item->'price'->'recurring'->>'interval_count')::numeric, 0), 1)))
        FROM jsonb_array_elements(coalesce(subscription->'items'->'data', '[]'::jsonb)) AS item
        WHERE coalesce(item->'price'->'recurring'->>'usage_type', 'licensed') = 'licensed'
    ), 0)::bigint ELSE 0 END
$$;

-- Per tenant and UTC month: MRR at the start and at the end of the month, from every applied subscription
-- event (the latest state of each subscription before the boundary, summed over the tenant's subscriptions).
CREATE MATERIALIZED VIEW app.mrr_monthly AS
    WITH changes AS (
        SELECT e.tenant_id, e.stripe_created AS at, e.id AS event_id,
               e.payload->'data'->'object'->>'id' AS subscription_id,
               app.subscription_mrr(e.payload->'data'->'object') AS mrr
        FROM stripe_events e
        WHERE e.outcome = 'applied' AND e.type LIKE 'customer.subscription.%'
    ),
    months AS (
        SELECT f.tenant_id, m::date AS month
        FROM (SELECT tenant_id, min(at) AS first_at FROM changes GROUP BY tenant_id) f,
             generate_series(date_trunc('month', f.first_at AT TIME ZONE 'UTC'),
                             date_trunc('month', now() AT TIME ZONE 'UTC'), interval '1 month') AS m
    ),
    month_end AS (
        SELECT mo.tenant_id, mo.month, coalesce(sum(latest.mrr), 0)::bigint AS mrr
        FROM months mo
        LEFT JOIN LATERAL (
            SELECT DISTINCT ON (c.subscription_id) c.mrr
            FROM changes c
            WHERE c.tenant_id = mo.tenant_id AND c.at < (mo.month + interval '1 month') AT TIME ZONE 'UTC'
            ORDER BY c.subscription_id, c.at DESC, c.event_id DESC
        ) latest ON true
        GROUP BY mo.tenant_id, mo.month
    )
    SELECT tenant_id, month,
           lag(mrr, 1, 0::bigint) OVER (PARTITION BY tenant_id ORDER BY month) AS start_mrr,
           mrr AS end_mrr
    FROM month_end
WITH DATA;
CREATE UNIQUE INDEX mrr_monthly_key ON app.mrr_monthly (tenant_id, month);

-- Per UTC day: sign-ups (each starts the platform trial), Stripe trials started (subscriptions whose first
-- applied event is trialing), first payments (a tenant's first change to MRR > 0) and, per sign-up day, how
-- many of those sign-ups have paid since (the cohort's trial -> paid conversions).
CREATE MATERIALIZED VIEW app.business_daily AS
    WITH subscription_events AS (
        SELECT e.tenant_id, e.stripe_created AS at, e.id AS event_id,
               e.payload->'data'->'object'->>'id' AS subscription_id,
               e.payload->'data'->'object'->>'status' AS status,
               app.subscription_mrr(e.payload->'data'->'object') AS mrr
        FROM stripe_events e
        WHERE e.outcome = 'applied' AND e.type LIKE 'customer.subscription.%'
    ),
    first_paid AS (
        SELECT tenant_id, min(at) AS at FROM subscription_events WHERE mrr > 0 GROUP BY tenant_id
    ),
    stripe_trials AS (
        SELECT DISTINCT ON (subscription_id) subscription_id, at, status
        FROM subscription_events ORDER BY subscription_id, at, event_id
    ),
    days AS (
        SELECT d::date AS day
        FROM generate_series(
            (least((SELECT min(created_at) FROM tenants), (SELECT min(at) FROM subscription_events))
                AT TIME ZONE 'UTC')::date,
            (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d
    ),
    signups AS (
        SELECT (t.created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS signups,
               count(p.tenant_id) AS signups_converted
        FROM tenants t LEFT JOIN first_paid p ON p.tenant_id = t.id
        GROUP BY 1
    ),
    trials AS (
        SELECT (at AT TIME ZONE 'UTC')::date AS day, count(*) AS trials
        FROM stripe_trials WHERE status = 'trialing' GROUP BY 1
    ),
    payments AS (
        SELECT (at AT TIME ZONE 'UTC')::date AS day, count(*) AS first_payments FROM first_paid GROUP BY 1
    )
    SELECT d.day,
           coalesce(s.signups, 0)::bigint AS signups,
           coalesce(tr.trials, 0)::bigint AS stripe_trials_started,
           coalesce(p.first_payments, 0)::bigint AS first_payments,
           coalesce(s.signups_converted, 0)::bigint AS signups_converted
    FROM days d
    LEFT JOIN signups s ON s.day = d.day
    LEFT JOIN trials tr ON tr.day = d.day
    LEFT JOIN payments p ON p.day = d.day
WITH DATA;
CREATE UNIQUE INDEX business_daily_key ON app.business_daily (day);

-- Per tenant and UTC day: distinct users who signed in (a session created) or refreshed a session that day.
-- A session row keeps only its latest refresh, so a user active on several days of one long session counts
-- on the first and the last of them.
CREATE MATERIALIZED VIEW app.active_users_daily AS
    SELECT tenant_id, day, count(DISTINCT user_id)::bigint AS active_users
    FROM (
        SELECT tenant_id, user_id, (created_at AT TIME ZONE 'UTC')::date AS day FROM sessions
        UNION ALL
        SELECT tenant_id, user_id, (last_refreshed_at AT TIME ZONE 'UTC')::date FROM sessions
        WHERE last_refreshed_at IS NOT NULL
    ) activity
    GROUP BY tenant_id, day
WITH DATA;
CREATE UNIQUE INDEX active_users_daily_key ON app.active_users_daily (tenant_id, day);

REVOKE ALL ON app.mrr_monthly, app.business_daily, app.active_users_daily FROM saas_app;

-- Refreshes the views and returns the last complete UTC day's totals for the alarms (aggregates only; the
-- job runs without a tenant, and a tenant transaction is refused).
CREATE FUNCTION app.refresh_business_views()
RETURNS TABLE (day date, signups bigint, first_payments bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF NULLIF(current_setting('app.tenant_id', true), '') IS NOT NULL THEN
        RAISE EXCEPTION 'the business views are refreshed without a tenant' USING ERRCODE = 'insufficient_privilege';
    END IF;
    REFRESH MATERIALIZED VIEW CONCURRENTLY app.mrr_monthly;
    REFRESH MATERIALIZED VIEW CONCURRENTLY app.business_daily;
    REFRESH MATERIALIZED VIEW CONCURRENTLY app.active_users_daily;
    RETURN QUERY
        SELECT y.day, coalesce(b.signups, 0::bigint), coalesce(b.first_payments, 0::bigint)
        FROM (SELECT ((now() AT TIME ZONE 'UTC')::date - 1) AS day) y
        LEFT JOIN app.business_daily b ON b.day = y.day;
END
$$;

-- Whether the transaction's tenant is a platform-operator tenant (false without a tenant).
CREATE FUNCTION app.is_platform_operator()
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT EXISTS (SELECT 1 FROM app.platform_operators
                   WHERE tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
$$;

CREATE FUNCTION app.require_platform_operator()
RETURNS void
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF NOT app.is_platform_operator() THEN
        RAISE EXCEPTION 'business metrics are readable by platform operators only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

CREATE FUNCTION app.ops_business_daily(p_from date, p_to date)
RETURNS TABLE (day date, signups bigint, stripe_trials_started bigint, first_payments bigint,
               signups_converted bigint)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    PERFORM app.require_platform_operator();
    RETURN QUERY SELECT b.day, b.signups, b.stripe_trials_started, b.first_payments, b.signups_converted
                 FROM app.business_daily b WHERE b.day BETWEEN p_from AND p_to ORDER BY b.day;
END
$$;

CREATE FUNCTION app.ops_mrr_monthly(p_month date)
RETURNS TABLE (tenant_id uuid, start_mrr bigint, end_mrr bigint)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    PERFORM app.require_platform_operator();
    RETURN QUERY SELECT m.tenant_id, m.start_mrr, m.end_mrr FROM app.mrr_monthly m
                 WHERE m.month = p_month ORDER BY m.tenant_id;
END
$$;

CREATE FUNCTION app.ops_active_users_daily(p_from date, p_to date)
RETURNS TABLE (tenant_id uuid, day date, active_users bigint)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    PERFORM app.require_platform_operator();
    RETURN QUERY SELECT a.tenant_id, a.day, a.active_users FROM app.active_users_daily a
                 WHERE a.day BETWEEN p_from AND p_to ORDER BY a.day, a.tenant_id;
END
$$;

REVOKE ALL ON FUNCTION app.subscription_mrr(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.refresh_business_views() TO saas_app;
GRANT EXECUTE ON FUNCTION app.is_platform_operator() TO saas_app;
GRANT EXECUTE ON FUNCTION app.ops_business_daily(date, date) TO saas_app;
GRANT EXECUTE ON FUNCTION app.ops_mrr_monthly(date) TO saas_app;
GRANT EXECUTE ON FUNCTION app.ops_active_users_daily(date, date) TO saas_app;
