from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from saascontracts import p256
from saascontracts.b64 import b64url_decode, b64url_encode
from saascontracts.keys import RsaPublicKey
from saascontracts.tokens import AudienceRule, IssuerConfig, TokenError, TokenVerifier
from tests.support.tokens import (
    AUDIENCE,
    ISSUER,
    NOW,
    EcSigningKey,
    FrozenClock,
    SigningKey,
    load_vector,
    make_ec_key,
    make_key,
    standard_claims,
)


def verifier_for(key: SigningKey, clock: FrozenClock, **issuer: Any) -> TokenVerifier:
    config = IssuerConfig(**{"issuer": ISSUER, "audiences": (AUDIENCE,), "keys": (key.public_jwk,), **issuer})
    return TokenVerifier([config], clock=clock)


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    def enc(obj: dict[str, Any]) -> str:
        return b64url_encode(json.dumps(obj).encode())

    return f"{enc(header)}.{enc(claims)}.{b64url_encode(signature)}"


def refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenError) as info:
        verifier.verify(token)
    return info.value.reason


# --- RFC 7515 Appendix A vectors, frozen clock --------------------------------------------------------


def vector_verifier(vector: dict[str, Any], now: float, **issuer: Any) -> TokenVerifier:
    config = IssuerConfig(issuer="joe", require_audience=False, leeway_seconds=0, **issuer)
    return TokenVerifier([config], clock=FrozenClock(now))


def test_rfc7515_a2_rs256_verifies_with_frozen_clock() -> None:
    vector = load_vector("A2-RS256.json")
    exp = vector["expected_payload"]["exp"]
    verifier = vector_verifier(vector, exp - 1, keys=(vector["jwk_public"],))
    assert verifier.verify(vector["token"]) == vector["expected_payload"]
    assert refused(vector_verifier(vector, exp, keys=(vector["jwk_public"],)), vector["token"]) == (
        "token expired"
    )


def test_rfc7515_a1_hs256_only_when_enabled() -> None:
    vector = load_vector("A1-HS256.json")
    secret = b64url_decode(vector["jwk_public"]["k"])
    exp = vector["expected_payload"]["exp"]
    enabled = vector_verifier(vector, exp - 1, algorithms=("HS256",), hs256_secret=secret)
    assert enabled.verify(vector["token"]) == vector["expected_payload"]
    rs_only = vector_verifier(vector, exp - 1, keys=(load_vector("A2-RS256.json")["jwk_public"],))
    assert refused(rs_only, vector["token"]) == "algorithm not accepted"


def test_rfc7515_a3_es256_verifies_with_frozen_clock() -> None:
    vector = load_vector("A3-ES256.json")
    exp = vector["expected_payload"]["exp"]
    pinned = {"keys": (vector["jwk_public"],), "algorithms": ("ES256",)}
    assert vector_verifier(vector, exp - 1, **pinned).verify(vector["token"]) == vector["expected_payload"]
    assert refused(vector_verifier(vector, exp, **pinned), vector["token"]) == "token expired"
    # The same token where only RS256 is allowed, or under a key of the other type.
    rs_key = load_vector("A2-RS256.json")["jwk_public"]
    assert (
        refused(vector_verifier(vector, exp - 1, keys=(rs_key,)), vector["token"]) == "algorithm not accepted"
    )
    both = vector_verifier(vector, exp - 1, keys=(rs_key,), algorithms=("RS256", "ES256"))
    assert refused(both, vector["token"]) == "token has no key id"


def test_rfc7515_a3_with_a_der_signature_is_refused() -> None:
    vector = load_vector("A3-ES256.json")
    header, payload, signature = vector["token"].split(".")
    raw = b64url_decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    verifier = vector_verifier(
        vector, vector["expected_payload"]["exp"] - 1, keys=(vector["jwk_public"],), algorithms=("ES256",)
    )
    assert refused(verifier, f"{header}.{payload}.{b64url_encode(der)}") == "invalid signature"


@pytest.mark.parametrize("name", ["A4-ES512.json", "A5-none.json"])
def test_rfc7515_other_algorithms_refused(name: str) -> None:
    vector = load_vector(name)
    rs_key = load_vector("A2-RS256.json")["jwk_public"]
    verifier = vector_verifier(vector, 1_300_000_000, keys=(rs_key,))
    assert refused(verifier, vector["token"]) in {"algorithm not accepted", "malformed token"}


def test_hs256_secret_must_be_long_and_algorithm_listed() -> None:
    with pytest.raises(ValueError, match="HS256"):
        IssuerConfig(issuer="x", audiences=("a",), algorithms=("HS256",), hs256_secret=b"short")
    with pytest.raises(ValueError, match="algorithms"):
        IssuerConfig(issuer="x", audiences=("a",), algorithms=("PS256",), jwks_url="https://x/jwks")
    with pytest.raises(ValueError, match="audiences"):
        IssuerConfig(issuer="x", jwks_url="https://x/jwks")


# --- ES256 ---------------------------------------------------------------------------------------------


def es_verifier(key: EcSigningKey, clock: FrozenClock, *extra_keys: dict[str, Any]) -> TokenVerifier:
    config = IssuerConfig(
        issuer=ISSUER,
        audiences=(AUDIENCE,),
        algorithms=("RS256", "ES256"),
        keys=(key.public_jwk, *extra_keys),
    )
    return TokenVerifier([config], clock=clock)


@pytest.mark.parametrize(
    "claims", [standard_claims(), standard_claims(aud=["x", AUDIENCE], extra={"n": [1, "é"]})]
)
def test_es256_tokens_minted_by_pyjwt_verify_identically(
    ec_key: EcSigningKey, clock: FrozenClock, claims: dict[str, Any]
) -> None:
    token = ec_key.mint(claims)
    theirs = jwt.decode(
        token,
        ec_key.private.public_key(),
        algorithms=["ES256"],
        audience=AUDIENCE,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert es_verifier(ec_key, clock).verify(token) == theirs == claims


def test_es256_tampering_and_foreign_keys_refused(ec_key: EcSigningKey, clock: FrozenClock) -> None:
    verifier = es_verifier(ec_key, clock)
    header, payload, signature = ec_key.mint(standard_claims()).split(".")
    evil = b64url_encode(json.dumps(standard_claims(role="admin")).encode())
    assert refused(verifier, f"{header}.{evil}.{signature}") == "invalid signature"
    stranger = make_ec_key(ec_key.kid).mint(standard_claims())
    assert refused(verifier, stranger) == "invalid signature"
    raw = b64url_decode(signature)
    zero_r = b"\x00" * 32 + raw[32:]
    assert refused(verifier, f"{header}.{payload}.{b64url_encode(zero_r)}") == "invalid signature"
    n_as_s = raw[:32] + p256.N.to_bytes(32, "big")
    assert refused(verifier, f"{header}.{payload}.{b64url_encode(n_as_s)}") == "invalid signature"


def test_kid_naming_a_key_of_another_type_is_refused(
    ec_key: EcSigningKey, signing_key: SigningKey, clock: FrozenClock
) -> None:
    verifier = es_verifier(ec_key, clock, signing_key.public_jwk)
    # An ES256 header naming the RSA key, and an RS256 header naming the EC key.
    assert refused(verifier, ec_key.mint(standard_claims(), kid=signing_key.kid)) == (
        "key does not match the algorithm"
    )
    assert refused(verifier, signing_key.mint(standard_claims(), kid=ec_key.kid)) == (
        "key does not match the algorithm"
    )
    assert verifier.verify(signing_key.mint(standard_claims()))["sub"] == "user-1"


def test_ec_jwks_are_validated(ec_key: EcSigningKey) -> None:
    jwk = ec_key.public_jwk
    off_curve_y = (int.from_bytes(b64url_decode(jwk["y"]), "big") + 1) % p256.P
    short_x = b64url_encode(b64url_decode(jwk["x"]).lstrip(b"\x00")[1:])
    p384 = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP384R1()).public_key()))
    for bad, message in [
        ({**jwk, "y": b64url_encode(off_curve_y.to_bytes(32, "big"))}, "not on P-256"),
        ({**jwk, "x": short_x}, "32 bytes"),
        ({**jwk, "crv": "P-384"}, "P-256"),
        (p384, "P-256"),
        ({**jwk, "alg": "RS256"}, "ES256"),
        ({**jwk, "d": jwk["x"]}, "private"),
    ]:
        with pytest.raises(ValueError, match=message):
            IssuerConfig(issuer=ISSUER, audiences=(AUDIENCE,), algorithms=("ES256",), keys=(bad,))
    with pytest.raises(ValueError, match="ES256 in algorithms"):
        IssuerConfig(issuer=ISSUER, audiences=(AUDIENCE,), keys=(jwk,))


def test_es256_verified_tokens_are_cached(
    ec_key: EcSigningKey, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = es_verifier(ec_key, clock)
    token = ec_key.mint(standard_claims(exp=NOW + 60))
    calls: list[bytes] = []
    original = p256.verify_digest

    def counting(digest: bytes, signature: bytes, table: tuple[p256.Affine, ...]) -> bool:
        calls.append(digest)
        return original(digest, signature, table)

    monkeypatch.setattr(p256, "verify_digest", counting)
    assert verifier.verify(token)["sub"] == verifier.verify(token)["sub"] == "user-1"
    assert len(calls) == 1
    clock.now = NOW + 91
    assert refused(verifier, token) == "token expired"


# --- one issuer, several token uses (Cognito access + ID tokens) -------------------------------------------


def cognito_verifier(key: SigningKey, clock: FrozenClock) -> TokenVerifier:
    config = IssuerConfig(
        issuer=ISSUER,
        keys=(key.public_jwk,),
        token_uses=(
            AudienceRule(token_use="access", client_ids=("client-a",)),
            AudienceRule(token_use="id", audiences=("client-a",)),
        ),
    )
    return TokenVerifier([config], clock=clock)


def test_one_issuer_accepts_access_and_id_tokens_each_by_its_own_rule(
    signing_key: SigningKey, clock: FrozenClock
) -> None:
    verifier = cognito_verifier(signing_key, clock)
    access = signing_key.mint(standard_claims(aud=None, client_id="client-a", token_use="access"))
    id_token = signing_key.mint(standard_claims(aud="client-a", token_use="id"))
    assert verifier.verify(access)["token_use"] == "access"
    assert verifier.verify(id_token)["token_use"] == "id"
    for claims, reason in [
        # An access token is checked by client_id only, an ID token by aud only.
        (standard_claims(aud="client-a", token_use="access"), "client not accepted"),
        (standard_claims(aud=None, client_id="client-a", token_use="id"), "audience not accepted"),
        (standard_claims(aud="client-b", token_use="id"), "audience not accepted"),
        (standard_claims(aud="client-a", token_use="refresh"), "token_use not accepted"),
        (standard_claims(aud="client-a"), "token_use not accepted"),
        (standard_claims(aud="client-a", token_use=["id"]), "token_use not accepted"),
    ]:
        assert refused(verifier, signing_key.mint(claims)) == reason


def test_token_uses_must_be_distinct_bound_and_not_mixed_with_the_shorthand(signing_key: SigningKey) -> None:
    keys = (signing_key.public_jwk,)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"token_uses": (AudienceRule("id", ("a",)), AudienceRule("id", ("b",)))}, "distinct"),
        ({"token_uses": (AudienceRule(None, ("a",)), AudienceRule("id", ("b",)))}, "distinct"),
        ({"token_uses": (AudienceRule("access"),)}, "audiences or client_ids"),
        ({"token_uses": (AudienceRule("id", ("a",)),), "audiences": ("a",)}, "not both"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            IssuerConfig(issuer=ISSUER, keys=keys, **kwargs)


# --- numeric claims ------------------------------------------------------------------------------------


def signed_raw_payload(key: SigningKey, payload_json: bytes) -> str:
    """A validly signed token whose payload is exactly `payload_json` (numbers JSON allows but Python would
    not serialise this way, e.g. 1e400)."""
    header = b64url_encode(json.dumps({"alg": "RS256", "kid": key.kid}).encode())
    payload = b64url_encode(payload_json)
    signature = key.private.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{b64url_encode(signature)}"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("exp", "1" + "0" * 400),
        ("exp", "1e400"),
        ("exp", "-1e400"),
        ("exp", "-5"),
        ("exp", "253402300800"),
        ("nbf", "1" + "0" * 400),
        ("nbf", "-1e400"),
        ("iat", "1e400"),
        ("iat", "-1"),
    ],
)
def test_numeric_dates_out_of_range_are_refused_not_crashing(
    signing_key: SigningKey, clock: FrozenClock, name: str, value: str
) -> None:
    claims = {key: claim for key, claim in standard_claims().items() if key != name}
    text = json.dumps(claims)[:-1] + f', "{name}": {value}}}'
    token = signed_raw_payload(signing_key, text.encode())
    assert refused(verifier_for(signing_key, clock), token) == f"claim {name} is out of range"


def test_numeric_dates_at_the_bounds_are_accepted(signing_key: SigningKey, clock: FrozenClock) -> None:
    token = signing_key.mint(standard_claims(exp=253_402_300_799, nbf=0, iat=0.5))
    assert verifier_for(signing_key, clock).verify(token)["exp"] == 253_402_300_799


def test_max_lifetime_bounds_exp_from_iat_and_from_now(signing_key: SigningKey, clock: FrozenClock) -> None:
    verifier = verifier_for(signing_key, clock, max_lifetime_seconds=900)
    assert verifier.verify(signing_key.mint(standard_claims(iat=NOW - 10, exp=NOW + 890)))["sub"]
    long_lived = signing_key.mint(standard_claims(iat=NOW - 10, exp=NOW + 891))
    assert refused(verifier, long_lived) == "token lifetime too long"
    # Without iat the bound still holds, from now (plus leeway).
    assert verifier.verify(signing_key.mint(standard_claims(iat=None, exp=NOW + 930)))["sub"]
    assert refused(verifier, signing_key.mint(standard_claims(iat=None, exp=NOW + 931))) == (
        "token lifetime too long"
    )
    with pytest.raises(ValueError, match="max_lifetime_seconds"):
        IssuerConfig(
            issuer=ISSUER, audiences=(AUDIENCE,), keys=(signing_key.public_jwk,), max_lifetime_seconds=10
        )


# --- PyJWT as the independent implementation -----------------------------------------------------------


@pytest.mark.parametrize(
    "claims",
    [
        standard_claims(),
        standard_claims(aud=["other", AUDIENCE]),
        standard_claims(nbf=NOW - 5, extra={"nested": [1, 2.5, None, "é"]}),
        standard_claims(iat=None),
    ],
)
def test_pyjwt_minted_tokens_verify_identically(
    signing_key: SigningKey, clock: FrozenClock, claims: dict[str, Any]
) -> None:
    token = signing_key.mint(claims)
    ours = verifier_for(signing_key, clock).verify(token)
    theirs = jwt.decode(
        token,
        signing_key.private.public_key(),
        algorithms=["RS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert ours == theirs == claims


def test_multiple_issuers_each_use_only_their_own_keys(
    signing_key: SigningKey, other_key: SigningKey, clock: FrozenClock
) -> None:
    verifier = TokenVerifier(
        [
            IssuerConfig(issuer=ISSUER, audiences=(AUDIENCE,), keys=(signing_key.public_jwk,)),
            IssuerConfig(issuer="https://idp.test", audiences=("client",), keys=(other_key.public_jwk,)),
        ],
        clock=clock,
    )
    assert verifier.verify(other_key.mint(standard_claims(iss="https://idp.test", aud="client")))["sub"]
    # A key trusted for one issuer cannot sign for another, even with a matching kid.
    forged = other_key.mint(standard_claims(), kid=signing_key.kid)
    assert refused(verifier, forged) == "invalid signature"


# --- the classic attacks ------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", ""])
def test_alg_none_refused(signing_key: SigningKey, clock: FrozenClock, alg: str) -> None:
    token = unsigned({"alg": alg, "kid": signing_key.kid}, standard_claims())
    assert refused(verifier_for(signing_key, clock), token) == "algorithm not accepted"


def test_rs256_to_hs256_confusion_refused(signing_key: SigningKey, clock: FrozenClock) -> None:
    public_pem = signing_key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64url_encode(json.dumps({"alg": "HS256", "kid": signing_key.kid}).encode())
    payload = b64url_encode(json.dumps(standard_claims()).encode())
    for secret in (
        public_pem,
        json.dumps(signing_key.public_jwk).encode(),
        b64url_decode(signing_key.public_jwk["n"]),
    ):
        signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        token = f"{header}.{payload}.{b64url_encode(signature)}"
        assert refused(verifier_for(signing_key, clock), token) == "algorithm not accepted"
        # Even where HS256 is enabled, only the configured secret is ever the HMAC key.
        both = verifier_for(signing_key, clock, algorithms=("RS256", "HS256"), hs256_secret=b"s" * 32)
        assert refused(both, token) == "invalid signature"


@pytest.mark.parametrize("kid", ["unknown", "../../../../dev/null", "' OR 1=1 --", "x" * 300])
def test_unknown_or_injected_kid_refused(
    signing_key: SigningKey, other_key: SigningKey, clock: FrozenClock, kid: str
) -> None:
    token = other_key.mint(standard_claims(), kid=kid)
    assert refused(verifier_for(signing_key, clock), token) in {"unknown signing key", "malformed token"}


def test_jku_x5u_and_embedded_jwk_ignored(
    signing_key: SigningKey, other_key: SigningKey, clock: FrozenClock
) -> None:
    fetched: list[str] = []

    def fetch(url: str, timeout: float) -> bytes:
        fetched.append(url)
        return json.dumps({"keys": [other_key.public_jwk]}).encode()

    config = IssuerConfig(issuer=ISSUER, audiences=(AUDIENCE,), keys=(signing_key.public_jwk,))
    verifier = TokenVerifier([config], clock=clock, fetch=fetch)
    for extra in (
        {"jku": "https://attacker.test/jwks.json"},
        {"x5u": "https://attacker.test/cert.pem"},
        {"jwk": other_key.public_jwk},
    ):
        token = jwt.encode(standard_claims(), other_key.private, algorithm="RS256", headers=extra)
        assert refused(verifier, token) == "invalid signature"
    assert fetched == []


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (standard_claims(exp=NOW - 31), "token expired"),
        (standard_claims(exp=None), "token has no expiry"),
        (standard_claims(nbf=NOW + 31), "token not yet valid"),
        (standard_claims(iat=NOW + 31), "token issued in the future"),
        (standard_claims(iss="https://evil.test"), "issuer not accepted"),
        (standard_claims(iss=None), "issuer not accepted"),
        (standard_claims(aud="other"), "audience not accepted"),
        (standard_claims(aud=["other", "more"]), "audience not accepted"),
        (standard_claims(aud=None), "audience not accepted"),
        (standard_claims(exp=True), "claim exp is not a number"),
        (standard_claims(exp="1900000000"), "claim exp is not a number"),
    ],
)
def test_claims_refused(
    signing_key: SigningKey, clock: FrozenClock, claims: dict[str, Any], reason: str
) -> None:
    assert refused(verifier_for(signing_key, clock), signing_key.mint(claims)) == reason


def test_leeway_accepts_small_skew(signing_key: SigningKey, clock: FrozenClock) -> None:
    verifier = verifier_for(signing_key, clock, leeway_seconds=30)
    assert verifier.verify(signing_key.mint(standard_claims(exp=NOW - 29, nbf=NOW + 29)))["sub"] == "user-1"


def test_tampered_payload_or_signature_refused(signing_key: SigningKey, clock: FrozenClock) -> None:
    token = signing_key.mint(standard_claims())
    header, payload, signature = token.split(".")
    evil_payload = b64url_encode(json.dumps(standard_claims(role="admin")).encode())
    assert refused(verifier_for(signing_key, clock), f"{header}.{evil_payload}.{signature}") == (
        "invalid signature"
    )
    raw = bytearray(b64url_decode(signature))
    raw[-1] ^= 1
    assert refused(verifier_for(signing_key, clock), f"{header}.{payload}.{b64url_encode(bytes(raw))}") == (
        "invalid signature"
    )


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c.d",
        "....",
        "eyJhbGciOiJSUzI1NiJ9.e30",
        "eyJhbGciOiJSUzI1NiJ9=.e30.AA",
        "eyJhbGciOiJSUzI1NiJ9.e30=.AA",
        "eyJhbGciOiJSUzI1NiJ9.e3+.AA",
        "eyJhbGciOiJSUzI1NiJ9.e31.AA",
        "bm90IGpzb24.e30.AA",
        "WzFd.e30.AA",
        "eyJhbGciOiJSUzI1NiJ9.WzFd.AA",
        "eyJhbGciOiJSUzI1NiJ9.bnVsbA.AA",
        "eyJhbGciOiJSUzI1NiJ9.e30.A",
        "eyJhbGciOiJSUzI1NiJ9.e30.AA\u00e9",
    ],
)
def test_malformed_compact_serialization_refused(
    signing_key: SigningKey, clock: FrozenClock, token: str
) -> None:
    assert refused(verifier_for(signing_key, clock), token) == "malformed token"


def test_duplicate_members_and_json_constants_refused(signing_key: SigningKey, clock: FrozenClock) -> None:
    header = b64url_encode(b'{"alg":"RS256","alg":"none"}')
    assert refused(verifier_for(signing_key, clock), f"{header}.e30.AA") == "malformed token"
    payload = b64url_encode(b'{"exp":NaN}')
    assert (
        refused(verifier_for(signing_key, clock), f"eyJhbGciOiJSUzI1NiJ9.{payload}.AA") == "malformed token"
    )


def test_oversized_token_refused_before_parsing(signing_key: SigningKey, clock: FrozenClock) -> None:
    token = signing_key.mint(standard_claims(padding="x" * 9000))
    assert refused(verifier_for(signing_key, clock), token) == "token too large"
    assert refused(verifier_for(signing_key, clock), "") == "missing token"


def test_crit_header_refused(signing_key: SigningKey, clock: FrozenClock) -> None:
    token = signing_key.mint(standard_claims(), crit=["urn:example:ext"], **{"urn:example:ext": 1})
    assert refused(verifier_for(signing_key, clock), token) == "critical header not understood"


def test_cognito_access_and_id_tokens(signing_key: SigningKey, clock: FrozenClock) -> None:
    access = verifier_for(signing_key, clock, audiences=(), client_ids=("client-a",), token_use="access")
    ok = signing_key.mint(standard_claims(aud=None, client_id="client-a", token_use="access"))
    assert access.verify(ok)["client_id"] == "client-a"
    wrong_client = signing_key.mint(standard_claims(aud=None, client_id="client-b", token_use="access"))
    assert refused(access, wrong_client) == "client not accepted"
    id_token = signing_key.mint(standard_claims(aud="client-a", token_use="id"))
    assert refused(access, id_token) == "token_use not accepted"
    id_verifier = verifier_for(signing_key, clock, audiences=("client-a",), token_use="id")
    assert id_verifier.verify(id_token)["token_use"] == "id"


# --- RSASSA-PKCS1-v1_5 strictness ---------------------------------------------------------------------


def raw_sign(key: SigningKey, encoded_message: bytes) -> bytes:
    numbers = key.private.private_numbers()
    n = numbers.public_numbers.n
    k = (n.bit_length() + 7) // 8
    return pow(int.from_bytes(encoded_message, "big"), numbers.d, n).to_bytes(k, "big")


def test_pkcs1_full_encoding_compared(signing_key: SigningKey) -> None:
    public = signing_key.private.public_key().public_numbers()
    key = RsaPublicKey(n=public.n, e=public.e, size_bytes=256)
    message = b"header.payload"
    digest = hashlib.sha256(message).digest()
    prefix = bytes.fromhex("3031300d060960864801650304020105000420")
    good = b"\x00\x01" + b"\xff" * (256 - 3 - 51) + b"\x00" + prefix + digest
    assert key.verify_sha256(message, raw_sign(signing_key, good))
    sha1_prefix = bytes.fromhex("3021300906052b0e03021a05000414")
    variants = [
        # Bleichenbacher 2006: short padding, garbage after the hash.
        b"\x00\x01" + b"\xff" * 8 + b"\x00" + prefix + digest + b"\x00" * (256 - 3 - 8 - 51),
        # DigestInfo without the NULL parameters.
        b"\x00\x01"
        + b"\xff" * (256 - 3 - 49)
        + b"\x00"
        + bytes.fromhex("302f300b0609608648016503040201")
        + digest[:32]
        + b"\x00" * 2,
        # A different hash algorithm's DigestInfo.
        b"\x00\x01" + b"\xff" * (256 - 3 - 15 - 32) + b"\x00" + sha1_prefix + digest,
        # Block type 2 (encryption padding).
        b"\x00\x02" + b"\xff" * (256 - 3 - 51) + b"\x00" + prefix + digest,
    ]
    for encoded in variants:
        assert len(encoded) == 256
        assert not key.verify_sha256(message, raw_sign(signing_key, encoded))
    signature = raw_sign(signing_key, good)
    assert not key.verify_sha256(message, signature[1:])
    assert not key.verify_sha256(message, b"\x00" + signature)
    # s >= n: the same residue plus n would otherwise verify.
    assert not key.verify_sha256(message, public.n.to_bytes(256, "big"))
    assert not key.verify_sha256(message, b"\xff" * 256)


def test_weak_rsa_keys_refused() -> None:
    weak = make_key("weak", bits=1024)
    with pytest.raises(ValueError, match="modulus"):
        IssuerConfig(issuer=ISSUER, audiences=(AUDIENCE,), keys=(weak.public_jwk,))


# --- verified-token cache ------------------------------------------------------------------------------


def test_cache_skips_rsa_on_repeat_and_never_serves_past_exp(
    signing_key: SigningKey, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = verifier_for(signing_key, clock, leeway_seconds=30)
    token = signing_key.mint(standard_claims(exp=NOW + 60))
    calls: list[bytes] = []
    original = RsaPublicKey.verify_sha256

    def counting(self: RsaPublicKey, message: bytes, signature: bytes) -> bool:
        calls.append(message)
        return original(self, message, signature)

    monkeypatch.setattr(RsaPublicKey, "verify_sha256", counting)
    first = verifier.verify(token)
    first["role"] = "mutated"
    assert verifier.verify(token)["role"] == "owner"
    assert len(calls) == 1
    clock.now = NOW + 60
    # Past exp the cache is bypassed: within leeway the token is fully re-verified, after it refused.
    assert verifier.verify(token)["sub"] == "user-1"
    assert len(calls) == 2
    clock.now = NOW + 90
    assert refused(verifier, token) == "token expired"


def test_cache_is_bounded(signing_key: SigningKey, clock: FrozenClock) -> None:
    config = IssuerConfig(issuer=ISSUER, audiences=(AUDIENCE,), keys=(signing_key.public_jwk,))
    verifier = TokenVerifier([config], clock=clock, cache_size=2)
    for index in range(5):
        verifier.verify(signing_key.mint(standard_claims(sub=f"user-{index}")))
    assert len(verifier._cache) == 2
