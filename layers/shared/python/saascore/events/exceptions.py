"""Errors raised by the event log and the outbound webhook machinery."""

from __future__ import annotations

from saascore.exceptions import SaasError


class EventError(SaasError):
    """Base class of event and webhook errors."""


class UnknownEventTypeError(EventError, ValueError):
    """The event type is not in the catalogue (``saascore.events.catalog.EVENT_TYPES``)."""


class UnsafeUrlError(EventError, ValueError):
    """An outbound URL is refused: not HTTPS, credentials in it, or its host resolves to a forbidden address."""


class OutboundRequestError(EventError):
    """An outbound call failed before a complete answer (connect, TLS, timeout, oversized response)."""


class SecretUnavailableError(EventError):
    """An endpoint secret could not be encrypted or decrypted (KMS refused or is unreachable)."""
