"""Which route module serves which paths. A new route module is one line here (a test fails until it is).

The modules are imported on first use (see ``api.route_loader``), so the table names them as strings.
A prefix is a whole path or a path that continues with ``/``; no two modules may share a path.
"""

from __future__ import annotations

ROUTE_MODULES: dict[str, tuple[str, ...]] = {
    "api.routes.health": ("/api/v1/health",),
    "api.routes.well_known": ("/.well-known/jwks.json",),
    "api.routes.edge_config": ("/.well-known/saas-edge-config.json",),
    "api.routes.sessions": ("/api/v1/signup", "/api/v1/sessions"),
    "api.routes.api_keys": ("/api/v1/api-keys",),
    "api.routes.scim": ("/scim/v2",),
    "api.routes.scim_tokens": ("/api/v1/scim-tokens",),
    "api.routes.scim_groups": ("/api/v1/scim-groups",),
    "api.routes.tenancy": ("/api/v1/me", "/api/v1/tenant"),
    "api.routes.members": ("/api/v1/members",),
    "api.routes.roles": ("/api/v1/roles", "/api/v1/permissions"),
    "api.routes.audit": ("/api/v1/audit-logs",),
    "api.routes.projects": ("/api/v1/projects",),
    "api.routes.billing": ("/api/v1/billing",),
    "api.routes.jobs": ("/api/v1/reports", "/api/v1/jobs"),
    "api.routes.usage": ("/api/v1/usage",),
    "api.routes.sso": ("/api/v1/sso",),
    "api.routes.ops": ("/api/v1/ops",),
    "api.routes.exports": ("/api/v1/exports",),
    "api.routes.webhook_endpoints": ("/api/v1/webhook-endpoints",),
    "api.routes.events": ("/api/v2/events",),
}
