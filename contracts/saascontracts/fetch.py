"""Bounded HTTPS GET for JWKS documents and flag payloads (plain HTTP only to loopback: tests, local stack)."""

from __future__ import annotations

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class FetchError(OSError):
    """The URL is not allowed or the document is too large."""


def http_get(url: str, timeout: float, *, max_bytes: int) -> bytes:
    # Imported here: urllib pulls in http.client, email and ssl (milliseconds of cold start).
    from urllib.parse import urlsplit
    from urllib.request import Request, urlopen

    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        raise FetchError("URL must be https")
    request = Request(url, headers={"Accept": "application/json"})  # noqa: S310 - scheme checked above
    with urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
        body: bytes = response.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise FetchError(f"document larger than {max_bytes} bytes")
    return body
