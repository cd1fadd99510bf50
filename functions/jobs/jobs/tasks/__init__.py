"""Job handlers, one module per concern; each exposes functions ``(JobContext) -> dict | None``."""
