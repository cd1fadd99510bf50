"""Refusals of the lifecycle: each names the tenant's current state, so the caller knows what to do."""

from __future__ import annotations

from uuid import UUID

from saascore.exceptions import SaasError


class LifecycleError(SaasError):
    """Base of the lifecycle's refusals."""


class UnknownTenantError(LifecycleError):
    def __init__(self, tenant: str) -> None:
        super().__init__(f"no tenant {tenant!r}: pass its id or slug")
        self.tenant = tenant


class TransitionNotAllowedError(LifecycleError):
    """The requested transition does not start from the tenant's current state (a 409 to a client)."""

    def __init__(self, *, tenant_id: UUID, current: str, hold: str | None, action: str, hint: str) -> None:
        held = f" (held by {hold})" if hold else ""
        super().__init__(f"cannot {action} tenant {tenant_id}: it is {current}{held}; {hint}")
        self.tenant_id = tenant_id
        self.current = current
        self.hold = hold
        self.action = action
