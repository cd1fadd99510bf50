"""Why an archive is refused; every message says what to do about it."""

from __future__ import annotations

from saascore.exceptions import SaasError


class ArchiveError(SaasError):
    """Base: the archive cannot be written or restored; nothing was changed."""


class ArchiveRefusedError(ArchiveError):
    """The archive (or the target) is not acceptable: wrong format, checksum, schema or an existing tenant."""
