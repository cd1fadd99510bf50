"""Every router of the API. Other areas add theirs here with a one-line edit once their module works."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import billing, health, jobs, projects, sessions, tenancy, usage, well_known

ROUTERS: list[APIRouter] = [
    health.router,
    well_known.router,
    sessions.router,
    tenancy.router,
    projects.router,
    billing.router,
    jobs.router,
    usage.router,
]
