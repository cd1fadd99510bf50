"""AWS clients of the jobs function: created on first use and cached for the container's life."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@lru_cache(maxsize=1)
def get_s3_client() -> S3Client:
    import boto3
    from botocore.config import Config

    # SigV4 so presigned URLs work for KMS-encrypted objects and in every region.
    return boto3.client("s3", config=Config(signature_version="s3v4"))


@lru_cache(maxsize=1)
def get_ses_client() -> Any:
    import boto3

    return boto3.client("ses")


def clear_clients() -> None:
    """Tests call this after switching AWS endpoints or credentials."""
    get_s3_client.cache_clear()
    get_ses_client.cache_clear()
