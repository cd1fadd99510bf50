"""The public document the edge reads at run time (`edge.remote_config`): the issuers it should trust."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class EdgeIssuer(BaseModel):
    """One issuer, in the edge config's `issuers[]` shape (`edge.config.load_config` parses it)."""

    model_config = ConfigDict(extra="forbid")

    issuer: str
    audiences: list[str] = []
    client_ids: list[str] = []
    token_use: str | None = None
    # A path (starting with `/`) names the distribution the edge runs in.
    jwks_url: str | None = None
    keys: list[dict[str, Any]] = []


class EdgeConfigDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    issuers: list[EdgeIssuer]
