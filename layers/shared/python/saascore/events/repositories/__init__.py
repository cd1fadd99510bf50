"""Plain SQL of the event log and outbound webhooks, in the caller's tenant transaction."""
