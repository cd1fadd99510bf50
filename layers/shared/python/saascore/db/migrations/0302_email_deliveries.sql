-- The send_email delivery ledger, SES feedback on it, and the one write the SES event consumer makes to
-- the global suppression list.

-- One row per (job, recipient). A row is committed as `sending` before the SES call and moved to `sent`
-- (with the SES MessageId), `rejected` or `suppressed` after it, each in its own transaction; a retried
-- job skips every recipient whose row is no longer `sending`. SES has no idempotency key, so a row left
-- `sending` by a crash is sent again: `attempts` > 1 on a `sent` row marks a possible duplicate.
CREATE TABLE email_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    job_id          uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    recipient       text NOT NULL CHECK (recipient = lower(recipient) AND length(recipient) <= 320),
    status          text NOT NULL CHECK (status IN ('sending', 'sent', 'rejected', 'suppressed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ses_message_id  text CHECK (length(ses_message_id) <= 255),
    error           text CHECK (length(error) <= 500),
    -- What SES reported later (configuration set events); never downgraded, see app.email_feedback_rank.
    feedback        text CHECK (feedback IN ('delivered', 'soft_bounce', 'bounce', 'complaint')),
    feedback_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, job_id, recipient)
);
CREATE UNIQUE INDEX email_deliveries_tenant_message_key ON email_deliveries (tenant_id, ses_message_id)
    WHERE ses_message_id IS NOT NULL;
SELECT app.enable_tenant_rls('email_deliveries');
-- The ledger is the record of what was sent: rows go only with their job or tenant (cascades).
REVOKE DELETE ON email_deliveries FROM saas_app;
CREATE TRIGGER email_deliveries_touch BEFORE UPDATE ON email_deliveries
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- SES publishes without ordering guarantees: a late Delivery must not hide an earlier Complaint.
CREATE FUNCTION app.email_feedback_rank(feedback text)
RETURNS integer
LANGUAGE sql
IMMUTABLE
AS $$ SELECT COALESCE(array_position(ARRAY['delivered', 'soft_bounce', 'bounce', 'complaint'], feedback), 0) $$;
GRANT EXECUTE ON FUNCTION app.email_feedback_rank(text) TO saas_app;

ALTER TABLE email_suppressions
    ADD COLUMN detail text CHECK (length(detail) <= 200),
    ADD COLUMN last_event_at timestamptz;

-- The application may INSERT suppressions but not UPDATE them (0301), so refreshing one goes through this
-- narrow definer function: add an address, or refresh its reason from a newer event. A `manual`
-- suppression (an operator's decision) keeps its reason. Nothing here removes an address.
CREATE FUNCTION app.suppress_email(p_email text, p_reason text, p_detail text, p_event_at timestamptz)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF p_reason NOT IN ('bounce', 'complaint') THEN
        RAISE EXCEPTION 'suppression reason must be bounce or complaint, not %', p_reason
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO email_suppressions AS s (email, reason, detail, last_event_at)
    VALUES (lower(p_email), p_reason, left(p_detail, 200), p_event_at)
    ON CONFLICT (email) DO UPDATE
        SET reason = CASE WHEN s.reason = 'manual' THEN s.reason ELSE EXCLUDED.reason END,
            detail = CASE WHEN s.reason = 'manual' THEN s.detail ELSE EXCLUDED.detail END,
            last_event_at = EXCLUDED.last_event_at,
            updated_at = now()
        WHERE s.last_event_at IS NULL OR s.last_event_at <= EXCLUDED.last_event_at;
END
$$;
GRANT EXECUTE ON FUNCTION app.suppress_email(text, text, text, timestamptz) TO saas_app;
