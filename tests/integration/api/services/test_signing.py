from __future__ import annotations

import boto3
from moto import mock_aws

from api.services.signing import KmsSigner, sign_jws
from saascontracts.tokens import IssuerConfig, TokenVerifier


def test_kms_signed_session_tokens_verify_with_the_published_jwk(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        kms = boto3.client("kms", region_name="eu-west-1")
        key_id = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        signer = KmsSigner(key_id, region="eu-west-1")
        token = sign_jws(
            signer, {"iss": "https://api.example", "aud": "saas-api", "sub": "u", "exp": 4_000_000_000}
        )
    verifier = TokenVerifier(
        [IssuerConfig(issuer="https://api.example", audiences=("saas-api",), keys=(signer.public_jwk,))]
    )
    assert verifier.verify(token)["sub"] == "u"
