"""Billing domain: plans and entitlements, the subscription state machine (no Stripe or AWS imports)."""
