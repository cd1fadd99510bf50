-- Verified e-mail domains per tenant (issue 17): home-realm discovery and optional enforced SSO.
--
-- A tenant claims a domain and proves control with a DNS TXT record carrying the claim's token. A domain is
-- verified by at most one tenant (partial unique index); until then several tenants may hold pending claims.
-- A verified domain may name the connection sign-in should use and may enforce SSO for its users.

CREATE TABLE sso_domains (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- Lower-case ASCII (IDNA) name, at least two labels.
    domain              text NOT NULL CHECK (
                            length(domain) <= 253
                            AND domain ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    verification_token  text NOT NULL CHECK (length(verification_token) BETWEEN 16 AND 100),
    verified_at         timestamptz,
    connection_id       uuid,
    enforce_sso         boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, domain),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES sso_connections (tenant_id, id)
        ON DELETE SET NULL (connection_id),
    -- Enforcing SSO needs a verified domain and a connection to send its users to.
    CHECK (NOT enforce_sso OR (verified_at IS NOT NULL AND connection_id IS NOT NULL))
);
CREATE UNIQUE INDEX sso_domains_verified_key ON sso_domains (domain) WHERE verified_at IS NOT NULL;
CREATE INDEX sso_domains_tenant_created_idx ON sso_domains (tenant_id, created_at, id);
SELECT app.enable_tenant_rls('sso_domains');
CREATE TRIGGER sso_domains_touch BEFORE UPDATE ON sso_domains
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- Removing a connection that a domain enforces SSO with would leave the domain's users with no way in;
-- the FK sets connection_id to NULL, and this turns enforcement off with it (the CHECK would refuse).
CREATE FUNCTION app.sso_domains_release_connection()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.connection_id IS NULL THEN
        NEW.enforce_sso := false;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER sso_domains_release_connection BEFORE UPDATE OF connection_id ON sso_domains
    FOR EACH ROW EXECUTE FUNCTION app.sso_domains_release_connection();

-- The cross-tenant questions, each a narrow SECURITY DEFINER function (decision 0003).
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_directory ON sso_domains FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_directory ON sso_connections FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- Has another tenant than the transaction's verified this domain? (Claiming and verifying refuse it.)
CREATE FUNCTION app.sso_domain_verified_elsewhere(p_domain text)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT EXISTS (
        SELECT 1 FROM sso_domains
        WHERE domain = p_domain AND verified_at IS NOT NULL
          AND tenant_id IS DISTINCT FROM NULLIF(current_setting('app.tenant_id', true), '')::uuid)
$$;

-- Home-realm discovery before a tenant is known: for a verified domain with a connection, the provider to
-- preselect and whether password sign-in is refused. Nothing else (no tenant id, no other column).
CREATE FUNCTION app.sso_discover(p_domain text)
RETURNS TABLE (provider_name text, enforce_sso boolean)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT c.provider_name, d.enforce_sso
    FROM sso_domains d
    JOIN sso_connections c ON c.tenant_id = d.tenant_id AND c.id = d.connection_id
    JOIN tenants t ON t.id = d.tenant_id AND t.deleted_at IS NULL
    WHERE d.domain = p_domain AND d.verified_at IS NOT NULL
$$;

GRANT EXECUTE ON FUNCTION app.sso_domain_verified_elsewhere(text) TO saas_app;
GRANT EXECUTE ON FUNCTION app.sso_discover(text) TO saas_app;
