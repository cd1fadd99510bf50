-- Cross-tenant look-ups the request path needs before a tenant is known (sign-in, tenant picker).
-- They are SECURITY DEFINER functions owned by the migration owner, each answering one narrow question;
-- the owner-only `owner_directory` policies below exist for them alone (the application role, which
-- calls the functions, gets no such policy). Tests keep the list of these policies closed.

DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_directory ON users FOR ALL TO %I USING (true) WITH CHECK (true)',
                   current_user);
    EXECUTE format('CREATE POLICY owner_directory ON tenants FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_directory ON memberships FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_directory ON roles FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- Find or create the user behind a verified IdP token; refreshes email/name when they changed.
CREATE FUNCTION app.upsert_idp_user(p_issuer text, p_subject text, p_email text, p_display_name text)
RETURNS uuid
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    INSERT INTO users (idp_issuer, idp_subject, email, display_name)
    VALUES (p_issuer, p_subject, p_email, p_display_name)
    ON CONFLICT (idp_issuer, idp_subject) DO UPDATE
        SET email = EXCLUDED.email,
            display_name = COALESCE(EXCLUDED.display_name, users.display_name)
    RETURNING id
$$;

CREATE FUNCTION app.find_idp_user(p_issuer text, p_subject text)
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$ SELECT id FROM users WHERE idp_issuer = p_issuer AND idp_subject = p_subject AND deleted_at IS NULL $$;

-- The tenants a user belongs to, for the tenant picker and GET /me.
CREATE FUNCTION app.user_tenants(p_user_id uuid)
RETURNS TABLE (tenant_id uuid, name text, slug text, role_key text, status text)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT t.id, t.name, t.slug, r.key, m.status
    FROM memberships m
    JOIN tenants t ON t.id = m.tenant_id AND t.deleted_at IS NULL
    JOIN roles r ON r.id = m.role_id
    WHERE m.user_id = p_user_id
    ORDER BY t.name
$$;

CREATE FUNCTION app.tenant_id_by_slug(p_slug text)
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$ SELECT id FROM tenants WHERE slug = p_slug AND deleted_at IS NULL $$;

GRANT EXECUTE ON FUNCTION app.upsert_idp_user(text, text, text, text) TO saas_app;
GRANT EXECUTE ON FUNCTION app.find_idp_user(text, text) TO saas_app;
GRANT EXECUTE ON FUNCTION app.user_tenants(uuid) TO saas_app;
GRANT EXECUTE ON FUNCTION app.tenant_id_by_slug(text) TO saas_app;
