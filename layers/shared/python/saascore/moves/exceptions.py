"""Why a move is refused or stopped; each message says what to do next."""

from __future__ import annotations

from saascore.exceptions import SaasError


class MoveError(SaasError):
    """Base of the move's errors."""


class MoveRefusedError(MoveError):
    """The move cannot start (or continue) as asked; nothing was changed by this call."""


class MoveVerificationError(MoveError):
    """The copy differs from the source: it was deleted and the source unfrozen (the move rolled back)."""
