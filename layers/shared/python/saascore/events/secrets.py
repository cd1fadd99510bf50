"""Endpoint signing secrets: generated here, shown once, stored encrypted with KMS (decision 0100).

Each ciphertext is bound to its tenant and endpoint by the KMS encryption context, so a ciphertext copied
to another row (or tenant) does not decrypt. Decrypted secrets are cached per container for a few
minutes: a delivery burst costs one `kms:Decrypt` per endpoint, not one per message.
"""

from __future__ import annotations

import base64
import secrets
import time
from functools import lru_cache
from typing import Any, Final
from uuid import UUID

from saascore.events.exceptions import SecretUnavailableError
from saascore.events.settings import get_webhook_settings
from saascore.exceptions import ConfigurationError

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the Standard Webhooks secret prefix, not a secret
SECRET_BYTES: Final = 32  # Standard Webhooks: 24 to 64 random bytes
CACHE_SECONDS: Final = 300
CACHE_SIZE: Final = 1000

_cache: dict[bytes, tuple[float, str]] = {}


@lru_cache(maxsize=1)
def get_kms_client() -> Any:
    import boto3

    return boto3.client("kms")


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _context(tenant_id: UUID, endpoint_id: UUID) -> dict[str, str]:
    return {"tenant_id": str(tenant_id), "webhook_endpoint_id": str(endpoint_id)}


def encrypt_secret(secret: str, *, tenant_id: UUID, endpoint_id: UUID) -> bytes:
    from botocore.exceptions import BotoCoreError, ClientError

    key_id = get_webhook_settings().secrets_key_id
    if not key_id:
        raise ConfigurationError("WEBHOOK_SECRETS_KMS_KEY_ID is not set")
    try:
        response = get_kms_client().encrypt(
            KeyId=key_id, Plaintext=secret.encode(), EncryptionContext=_context(tenant_id, endpoint_id)
        )
    except (BotoCoreError, ClientError) as exc:
        raise SecretUnavailableError(f"KMS Encrypt failed: {exc}") from exc
    return bytes(response["CiphertextBlob"])


def decrypt_secret(ciphertext: bytes, *, tenant_id: UUID, endpoint_id: UUID) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    cached = _cache.get(ciphertext)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    try:
        response = get_kms_client().decrypt(
            CiphertextBlob=ciphertext, EncryptionContext=_context(tenant_id, endpoint_id)
        )
    except (BotoCoreError, ClientError) as exc:
        raise SecretUnavailableError(f"KMS Decrypt failed: {exc}") from exc
    secret = bytes(response["Plaintext"]).decode()
    if len(_cache) >= CACHE_SIZE:
        _cache.clear()
    _cache[ciphertext] = (time.monotonic() + CACHE_SECONDS, secret)
    return secret


def clear_secret_cache() -> None:
    _cache.clear()
