"""Plans and their entitlements: the one table everything reads (API limits, rate limits, session claim).

Stripe prices carry a ``lookup_key``; the subscription's price lookup key selects the plan here, so prices
can change in Stripe without a deploy as long as the lookup key stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True, slots=True)
class Entitlements:
    max_projects: int | None  # None means unlimited
    max_members: int | None
    requests_per_minute: int  # per tenant; each user gets `user_share` of it
    user_share: float
    usage_soft_limit: int | None  # monthly usage events before a warning
    usage_hard_limit: int | None  # monthly usage events before refusal
    features: frozenset[str]


@dataclass(frozen=True, slots=True)
class Plan:
    key: str
    name: str
    price_lookup_key: str | None  # None: not sold through Stripe (free)
    entitlements: Entitlements


FREE: Final = "free"

PLANS: Final = MappingProxyType(
    {
        plan.key: plan
        for plan in (
            Plan(
                key=FREE,
                name="Free",
                price_lookup_key=None,
                entitlements=Entitlements(
                    max_projects=3,
                    max_members=3,
                    requests_per_minute=120,
                    user_share=0.5,
                    usage_soft_limit=800,
                    usage_hard_limit=1_000,
                    features=frozenset(),
                ),
            ),
            Plan(
                key="starter",
                name="Starter",
                price_lookup_key="starter_monthly",
                entitlements=Entitlements(
                    max_projects=25,
                    max_members=10,
                    requests_per_minute=600,
                    user_share=0.5,
                    usage_soft_limit=40_000,
                    usage_hard_limit=50_000,
                    features=frozenset({"reports"}),
                ),
            ),
            Plan(
                key="pro",
                name="Pro",
                price_lookup_key="pro_monthly",
                entitlements=Entitlements(
                    max_projects=None,
                    max_members=None,
                    requests_per_minute=3_000,
                    user_share=0.25,
                    usage_soft_limit=None,
                    usage_hard_limit=None,
                    features=frozenset({"reports", "audit_export", "sso"}),
                ),
            ),
        )
    }
)

# The trial gives the Starter entitlements until it ends (then Free unless a subscription is active).
TRIAL_PLAN: Final = "starter"
TRIAL_DAYS: Final = 14


def plan_for(key: str) -> Plan:
    """The plan named ``key``; an unknown key (config drift) falls back to Free, never to more access."""
    return PLANS.get(key, PLANS[FREE])


def plan_for_price_lookup_key(lookup_key: str | None) -> Plan | None:
    for plan in PLANS.values():
        if lookup_key is not None and plan.price_lookup_key == lookup_key:
            return plan
    return None
