"""Errors the shared layer raises; adapters map them to HTTP problems or retries."""

from __future__ import annotations


class SaasError(Exception):
    """Base class of every error raised on purpose by this code base."""


class ConfigurationError(SaasError):
    """Settings are missing or contradictory; raised once, at first use."""


class DatabaseUnavailableError(SaasError):
    """The database could not be reached (after the one reconnect attempt)."""


class StatementTimeoutError(SaasError):
    """A statement ran longer than the configured statement timeout and was cancelled."""


class TenantMovingError(SaasError):
    """The tenant is being moved to another cell and is read-only until the move completes (retry)."""

    retry_after_seconds = 5


class TenantNotInCellError(TenantMovingError):
    """The write was routed to a cell the tenant has left (a stale route: it moved, or was erased, after
    the caller picked the cell). Nothing was written; route again (the API: refresh the session)."""


class MigrationError(SaasError):
    """A migration could not be applied, or an applied migration file was edited."""


class InvalidPeriodError(SaasError, ValueError):
    """A report period that is not a month written YYYY-MM."""
