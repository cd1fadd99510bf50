"""Billing data access shared by the webhook processor and the jobs (plain SQL, keyword-only functions)."""
