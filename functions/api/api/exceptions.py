"""Domain errors of the API. Services raise these; ``api.problems`` maps each to one problem+json."""

from __future__ import annotations

from typing import Any, ClassVar

from saascore.exceptions import SaasError


class ApiError(SaasError):
    """Base: a refusal with an HTTP status, a stable problem slug and a client-safe detail."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extensions = extensions
        self.headers: dict[str, str] = {}


class MalformedRequestError(ApiError):
    status, slug, title = 400, "malformed-request", "Malformed request"


class UnauthenticatedError(ApiError):
    status, slug, title = 401, "unauthenticated", "Authentication required"


class PermissionDeniedError(ApiError):
    status, slug, title = 403, "permission-denied", "Permission denied"


class TenantAccessError(ApiError):
    status, slug, title = 403, "tenant-access-restricted", "The tenant's access is restricted"


class TenantSuspendedError(TenantAccessError):
    """The platform operator suspended the tenant: every request is refused until it is reactivated."""

    slug, title = "tenant-suspended", "The tenant is suspended"


class TenantOffboardingError(TenantAccessError):
    """The tenant is being offboarded: its data can still be read (and exported) until it is erased."""

    slug, title = "tenant-offboarding", "The tenant is being offboarded"


class PlanLimitError(ApiError):
    status, slug, title = 402, "plan-limit-reached", "Plan limit reached"


class UsageLimitExceededError(PlanLimitError):
    """Recording this usage would pass the plan's hard limit; nothing was recorded."""

    def __init__(self, *, used: int, hard_limit: int) -> None:
        super().__init__(
            f"the plan allows {hard_limit} units a month; {used} are used",
            limit="usage",
            used=used,
            hard_limit=hard_limit,
        )


class NotFoundError(ApiError):
    status, slug, title = 404, "not-found", "Not found"


class ConflictError(ApiError):
    status, slug, title = 409, "conflict", "Conflict"


class LifecycleTransitionError(ConflictError):
    """An operator's lifecycle action does not start from the tenant's state; the problem names it."""

    slug, title = "lifecycle-transition-not-allowed", "Not allowed from the tenant's lifecycle state"


class UsageKeyConflictError(ConflictError):
    """The usage idempotency key was used before for a different meter or quantity."""


class IdempotencyInProgressError(ApiError):
    status, slug, title = 409, "idempotency-in-progress", "A request with this Idempotency-Key is in progress"


class PreconditionFailedError(ApiError):
    status, slug, title = 412, "precondition-failed", "The resource changed (ETag mismatch)"


class PayloadTooLargeError(ApiError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class IdempotencyMismatchError(ApiError):
    status, slug, title = 422, "idempotency-key-reused", "Idempotency-Key reused with a different request"


class FieldValidationError(ApiError):
    """A body field that is well-formed but not acceptable now; the problem points at it like a 422 from
    request validation does."""

    status, slug, title = 422, "validation-failed", "Validation failed"

    def __init__(self, detail: str, *, pointer: str) -> None:
        super().__init__("the request is not valid", errors=[{"detail": detail, "pointer": pointer}])


class PreconditionRequiredError(ApiError):
    status, slug, title = 428, "precondition-required", "If-Match header required"


class RateLimitedError(ApiError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class AlreadySubscribedError(ConflictError):
    slug, title = "billing-already-subscribed", "The tenant already has a subscription"


class NoSubscriptionError(ConflictError):
    slug, title = "billing-no-subscription", "The tenant has no subscription"


class SamePlanError(ConflictError):
    slug, title = "billing-same-plan", "The subscription is already on this plan"


class NoCustomerError(NotFoundError):
    slug, title = "billing-no-customer", "The tenant has no billing account yet"


class PaymentProviderError(ApiError):
    """Stripe refused or could not be reached; nothing was changed on our side."""

    status, slug, title = 502, "billing-provider-error", "The payment provider could not complete the request"


class PriceNotFoundError(PaymentProviderError):
    """Stripe has no active price with the plan's lookup key (configuration drift)."""


class OutboundFetchError(SaasError):
    """A document a tenant named could not be fetched safely; the message is client-safe."""


class SamlMetadataError(SaasError):
    """SAML metadata that Cognito could not use; the message says what is wrong."""


class OidcDiscoveryError(SaasError):
    """An OIDC issuer whose discovery document is unreachable or unusable; the message is client-safe."""


class IdentityProviderRejectedError(ApiError):
    """Cognito refused the provider's settings (e.g. metadata it could not use); nothing was kept."""

    status, slug, title = 422, "identity-provider-rejected", "The identity service refused the settings"


class IdentityProviderError(ApiError):
    """Cognito or Secrets Manager refused or could not be reached; every partial change was undone."""

    status, slug, title = (
        502,
        "identity-provider-error",
        "The identity service could not complete the request",
    )


class DomainNotVerifiedError(ApiError):
    """The domain's DNS does not (yet) carry the claim's TXT record."""

    status, slug, title = 422, "domain-not-verified", "The domain could not be verified"


class DnsLookupError(ApiError):
    """The DNS lookup itself failed (timeout, no name server answered); nothing was changed."""

    status, slug, title = 503, "dns-lookup-failed", "The DNS lookup failed"


class SsoRequiredError(PermissionDeniedError):
    """The tenant enforces SSO for the user's e-mail domain; password sign-in is refused."""

    slug, title = "sso-required", "Sign in through your organisation's identity provider"


class IdempotentReplay(SaasError):
    """Raised by the idempotency dependency: answer with a stored response instead of running the route."""

    def __init__(self, *, status: int, headers: dict[str, str], body: bytes) -> None:
        super().__init__("idempotent replay")
        self.status = status
        self.headers = headers
        self.body = body


class ScimError(SaasError):
    """A refusal on ``/scim/v2``: rendered as RFC 7644 §3.12 ``Error`` (``application/scim+json``), with a
    ``scimType`` where the RFC defines one (``invalidFilter``, ``invalidPath``, ``uniqueness`` …)."""

    def __init__(self, detail: str, *, status: int, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.scim_type = scim_type
        self.headers: dict[str, str] = {}


class UnsafeUrlRefusedError(FieldValidationError):
    """A webhook URL the SSRF guard refuses (not HTTPS, credentials, non-public address)."""

    slug, title = "unsafe-url", "The URL is not allowed"
