"""Edge benchmarks: token verification vs PyJWT+cryptography, flags vs the growthbook SDK, the warm
viewer-request + origin-request path, and the handler's import cost. Ratios to baselines measured here,
in this run; nothing fails on speed (only the flag-equality assertion can fail)."""

from __future__ import annotations

import compileall
import hashlib
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from growthbook import GrowthBook, InMemoryStickyBucketService

from bench.timing import fmt_us
from edge import handler
from edge.flags import EvalContext, FlagEngine
from edge.sticky import StickyBuckets
from saascontracts import libcrypto
from saascontracts.tokens import IssuerConfig, TokenVerifier

ISSUER = "https://api.bench.example"
AUDIENCE = "saas-api"
FEATURE_COUNT = 30
USERS = 200
PLANS = ("free", "pro", "enterprise")
ROLES = ("owner", "admin", "member", "viewer")
COUNTRIES = ("US", "DE", "FR", "GB", "JP", "BR")
DEVICES = ("desktop", "mobile", "tablet")
SDK_PER_USER = 0.0


def interleaved(
    ours: Callable[[], object], baseline: Callable[[], object], *, rounds: int = 9, number: int = 100
) -> tuple[float, float, float]:
    """(ours, baseline, median ratio) per call, in process CPU time; the two alternate within each round,
    so load on this shared machine hits both alike and the ratio stays meaningful when absolute times
    do not (wall time here includes waiting for a core)."""
    ours_times, base_times, ratios = [], [], []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(number):
            ours()
        mine = (time.process_time() - started) / number
        started = time.process_time()
        for _ in range(number):
            baseline()
        theirs = (time.process_time() - started) / number
        ours_times.append(mine)
        base_times.append(theirs)
        ratios.append(mine / theirs)
    return statistics.median(ours_times), statistics.median(base_times), statistics.median(ratios)


def report(label: str, result: tuple[float, float, float], baseline_label: str, target: str) -> None:
    ours, baseline, ratio = result
    print(f"{label}: {fmt_us(ours)} | {baseline_label}: {fmt_us(baseline)} | ratio {ratio:.2f}x ({target})")


def flags_payload() -> dict[str, Any]:
    """30 features: targeting conditions, percentage rollouts (hash v1/v2), experiments (weights,
    conditions, namespaces, a fallbackAttribute). Inputs on which the Python SDK 4.0 knowingly differs
    from the JS reference (missing attributes under comparison operators, number-vs-string comparisons,
    coverage exactly equal to a bucket) are kept out so the equality assertion is meaningful."""
    features: dict[str, Any] = {}
    for index in range(10):
        condition = [
            {"plan": "pro"},
            {"country": {"$in": ["DE", "FR"]}},
            {"role": {"$ne": "viewer"}},
            {"$or": [{"plan": "enterprise"}, {"seats": {"$gt": 50}}]},
            {"deviceType": "mobile", "loggedIn": True},
            {"tenantId": {"$regex": "^t-1"}},
            {"seats": {"$gte": 10, "$lt": 100}},
            {"$and": [{"plan": {"$nin": ["free"]}}, {"country": {"$ne": "JP"}}]},
            {"role": {"$in": ["owner", "admin"]}, "plan": {"$ne": "free"}},
            {"$not": {"country": "US"}},
        ][index]
        features[f"target-{index}"] = {
            "defaultValue": False,
            "rules": [{"condition": condition, "force": True}],
        }
    for index in range(10):
        features[f"rollout-{index}"] = {
            "defaultValue": "off",
            "rules": [
                {
                    "force": "on",
                    "coverage": [0.10005, 0.25005, 0.50005, 0.75005, 0.33335][index % 5],
                    "hashAttribute": "id",
                    "hashVersion": 2 if index % 2 else 1,
                }
            ],
        }
    for index in range(10):
        rule: dict[str, Any] = {
            "key": f"exp-{index}",
            "variations": ["control", "treatment", "other"][: 2 + index % 2],
            "hashAttribute": "id",
            "hashVersion": 2 if index % 2 else 1,
        }
        if index % 3 == 0:
            rule["weights"] = [0.5, 0.5] if index % 2 == 0 else [0.2, 0.3, 0.5]
        if index % 4 == 1:
            rule["condition"] = {"plan": {"$in": ["pro", "enterprise"]}}
        if index % 5 == 2:
            rule["namespace"] = ["checkout", 0, 0.5]
        if index % 3 == 2:
            rule["coverage"] = 0.80005
        if index >= 8:
            # Signed-out visitors have no userId: without sticky bucketing the SDK ignores the fallback.
            rule.update(hashAttribute="userId", fallbackAttribute="anonymousId")
            rule["meta"] = [{"key": str(position)} for position in range(len(rule["variations"]))]
        features[f"experiment-{index}"] = {"defaultValue": "control", "rules": [rule]}
    assert len(features) == FEATURE_COUNT
    return {"features": features}


def users(count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    people = [
        {
            "id": f"user-{rng.getrandbits(64):016x}",
            "anonymousId": f"{rng.getrandbits(64):016x}",
            "tenantId": f"t-{rng.randrange(1000)}",
            "plan": rng.choice(PLANS),
            "role": rng.choice(ROLES),
            "country": rng.choice(COUNTRIES),
            "deviceType": rng.choice(DEVICES),
            "loggedIn": True,
            "seats": rng.randrange(1, 200),
        }
        for _ in range(count)
    ]
    for person in people[::2]:
        person["userId"] = person["id"]
    return people


def _token_case(private: Any, public: Any, algorithm: str, jwk: dict[str, Any]) -> tuple[str, IssuerConfig]:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "tid": "t", "iat": now, "exp": now + 3600}
    token = jwt.encode(claims, private, algorithm=algorithm, headers={"kid": "k1"})
    config = IssuerConfig(
        issuer=ISSUER,
        audiences=(AUDIENCE,),
        algorithms=(algorithm,),
        keys=({**jwk, "kid": "k1", "alg": algorithm, "use": "sig"},),
    )
    theirs = jwt.decode(token, public, algorithms=[algorithm], audience=AUDIENCE, issuer=ISSUER)
    assert TokenVerifier([config], cache_size=0).verify(token) == theirs
    return token, config


def bench_tokens() -> None:
    """First-seen = full verification of a token the cache does not hold (the key is already parsed, as
    it is after the first request of a container)."""
    rsa_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_public = rsa_private.public_key()
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_public))
    rs_token, rs_config = _token_case(rsa_private, rsa_public, "RS256", rsa_jwk)
    ec_private = ec.generate_private_key(ec.SECP256R1())
    ec_public = ec_private.public_key()
    ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_public))
    es_token, es_config = _token_case(ec_private, ec_public, "ES256", ec_jwk)

    def decoder(token: str, public: Any, algorithm: str) -> Callable[[], object]:
        return lambda: jwt.decode(token, public, algorithms=[algorithm], audience=AUDIENCE, issuer=ISSUER)

    rs_pyjwt = decoder(rs_token, rsa_public, "RS256")
    es_pyjwt = decoder(es_token, ec_public, "ES256")
    rs_uncached = TokenVerifier([rs_config], cache_size=0)
    es_uncached = TokenVerifier([es_config], cache_size=0)
    es_uncached.verify(es_token)  # builds the key's and the generator's P-256 tables, once per process
    rs_cached = TokenVerifier([rs_config])
    es_cached = TokenVerifier([es_config])
    backend = "OpenSSL modexp via ctypes" if libcrypto.library() is not None else "pure Python pow"

    report(
        f"RS256 2048 first-seen (ours, {backend})",
        interleaved(lambda: rs_uncached.verify(rs_token), rs_pyjwt, number=100),
        "PyJWT+cryptography",
        "target ≤ 2x",
    )
    libcrypto.use_libcrypto(False)
    pure = TokenVerifier([rs_config], cache_size=0)
    report(
        "RS256 2048 first-seen (ours, pure Python pow: the fallback)",
        interleaved(lambda: pure.verify(rs_token), rs_pyjwt, number=50),
        "PyJWT+cryptography",
        "fallback, no target",
    )
    libcrypto.use_libcrypto(True)
    es_result = interleaved(lambda: es_uncached.verify(es_token), es_pyjwt, rounds=7, number=20)
    report("ES256 P-256 first-seen (ours, pure Python)", es_result, "PyJWT+cryptography", "target ≤ 2 ms")
    started = time.process_time()
    table_key = TokenVerifier([es_config], cache_size=0)
    table_key.verify(es_token)
    print(f"ES256 first token of a new key (builds its P-256 table): {fmt_us(time.process_time() - started)}")
    report(
        "RS256 2048 cached (ours)",
        interleaved(lambda: rs_cached.verify(rs_token), rs_pyjwt, number=100),
        "PyJWT+cryptography",
        "target ≤ 0.3x",
    )
    report(
        "ES256 cached (ours)",
        interleaved(lambda: es_cached.verify(es_token), es_pyjwt, number=100),
        "PyJWT+cryptography",
        "target ≤ 0.3x",
    )


CORPUS = (
    Path(__file__).resolve().parents[1] / "tests" / "unit" / "edge" / "conformance" / "growthbook-cases.json"
)


def bench_corpus() -> None:
    """Every `feature`, `contextualBandit` and `stickyBucket` case of the shared cross-SDK corpus,
    evaluated by the edge engine and by the growthbook SDK 4.0 (its InMemoryStickyBucketService for
    sticky buckets): the results must be identical."""
    # The SDK logs every skipped rule the corpus exercises on purpose.
    logging.getLogger("growthbook").setLevel(logging.ERROR)
    raw = CORPUS.read_bytes()
    cases = json.loads(raw)
    compared = 0
    for name, data, key, _ in cases["feature"] + cases["contextualBandit"]:
        ctx = EvalContext(
            data.get("attributes", {}),
            forced_variations=data.get("forcedVariations", {}),
            qa_mode=data.get("qaMode", False),
            enabled=data.get("enabled", True),
            url=data.get("url"),
            contextual_bandits=data.get("contextualBandits"),
        )
        ours = FlagEngine(data).eval_feature(key, ctx).to_dict()
        sdk = GrowthBook(
            attributes=data.get("attributes", {}),
            features=data.get("features", {}),
            forced_variations=data.get("forcedVariations", {}),
            qa_mode=data.get("qaMode", False),
            enabled=data.get("enabled", True),
            url=data.get("url", ""),
            saved_groups=data.get("savedGroups", {}),
            contextual_bandits=data.get("contextualBandits"),
        )
        assert _comparable(ours) == _comparable(sdk.eval_feature(key).to_dict()), name
        compared += 1
    for name, data, stored, key, _, _ in cases["stickyBucket"]:
        engine = FlagEngine(data)
        docs = StickyBuckets(engine, max_cookie_bytes=3072).select(stored, data["attributes"], validate=False)
        ours = engine.eval_feature(key, EvalContext(data["attributes"], sticky_docs=docs)).to_dict()
        service = InMemoryStickyBucketService()
        for doc in stored:
            service.save_assignments(doc)
        sdk = GrowthBook(
            attributes=data["attributes"], features=data["features"], sticky_bucket_service=service
        )
        assert _comparable(ours) == _comparable(sdk.eval_feature(key).to_dict()), name
        assert docs == sdk._sticky_bucket_assignment_docs, name
        compared += 1
    digest = hashlib.sha256(raw).hexdigest()[:12]
    print(
        f"shared corpus (growthbook-cases.json sha256 {digest}…): {compared} feature, contextualBandit and "
        "stickyBucket cases, results identical to the growthbook SDK 4.0"
    )


def _comparable(result: dict[str, Any]) -> dict[str, Any]:
    """What both return alike: value, source, rule and the experiment result (the SDK's `experiment`
    dict spells out defaults the engine leaves out)."""
    return {key: result.get(key) for key in ("value", "source", "ruleId", "experimentResult")}


def bench_flags() -> None:
    payload = flags_payload()
    people = users(USERS)
    engine = FlagEngine(payload)
    for person in people:
        evaluation = engine.evaluate(person)
        sdk = GrowthBook(attributes=person, features=payload["features"])
        results = {key: sdk.eval_feature(key) for key in payload["features"]}
        theirs = {key: result.value for key, result in results.items()}
        mine = evaluation.flags
        assert mine == theirs, (person, {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]})
        exposures = tuple(
            (result.experiment.key, result.experimentResult.key)
            for result in results.values()
            if result.source == "experiment" and result.experiment and result.experimentResult
        )
        assert evaluation.experiments == exposures, (person, evaluation.experiments, exposures)
    print(
        f"flags: {FEATURE_COUNT} features x {USERS} users, values and exposures identical to the growthbook SDK"
    )

    def ours_all() -> None:
        for person in people:
            engine.evaluate(person)

    def sdk_all() -> None:
        for person in people:
            sdk = GrowthBook(attributes=person, features=payload["features"])
            for key in payload["features"]:
                sdk.eval_feature(key)

    ours, baseline, ratio = interleaved(ours_all, sdk_all, rounds=7, number=1)
    report(
        f"flags, {FEATURE_COUNT} features, per user (ours)",
        (ours / USERS, baseline / USERS, ratio),
        "growthbook SDK 4.0",
        f"speed-up {1 / ratio:.1f}x, target ≥ 10x",
    )
    global SDK_PER_USER  # noqa: PLW0603 - the handler figure is scaled by this same-run measurement
    SDK_PER_USER = baseline / USERS
    bench_sticky(payload, people)


def bench_sticky(payload: dict[str, Any], people: list[dict[str, Any]]) -> None:
    """Sticky bucketing on: ours reads and rewrites the visitor's cookie; the SDK uses its
    InMemoryStickyBucketService. Both start from the documents of a first visit."""
    store = StickyBuckets(FlagEngine(payload), max_cookie_bytes=3072)
    cookies = {person["id"]: store.updated_cookie(None, person) for person in people}
    services: dict[str, InMemoryStickyBucketService] = {}
    for person in people:
        service = services[person["id"]] = InMemoryStickyBucketService()
        first_visit = GrowthBook(
            attributes=person, features=payload["features"], sticky_bucket_service=service
        )
        for key in payload["features"]:
            first_visit.eval_feature(key)
    engine = store.engine
    for person in people:
        docs = store.load(cookies[person["id"]], person)
        mine = engine.evaluate(person, sticky_docs=docs).flags
        sdk = GrowthBook(
            attributes=person, features=payload["features"], sticky_bucket_service=services[person["id"]]
        )
        theirs = {key: sdk.eval_feature(key).value for key in payload["features"]}
        assert mine == theirs, person

    def ours_all() -> None:
        for person in people:
            cookie = cookies[person["id"]]
            engine.evaluate(person, sticky_docs=store.load(cookie, person))
            store.updated_cookie(cookie, person)

    def sdk_all() -> None:
        for person in people:
            sdk = GrowthBook(
                attributes=person, features=payload["features"], sticky_bucket_service=services[person["id"]]
            )
            for key in payload["features"]:
                sdk.eval_feature(key)

    ours, baseline, ratio = interleaved(ours_all, sdk_all, rounds=5, number=1)
    report(
        "flags with sticky bucketing, per user (ours: cookie read, evaluate, cookie rewrite check)",
        (ours / USERS, baseline / USERS, ratio),
        "growthbook SDK 4.0 + InMemoryStickyBucketService",
        f"speed-up {1 / ratio:.1f}x",
    )


def bench_handler() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key())), "kid": "k1"}
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "tid": "t-1",
        "role": "owner",
        "plan": "pro",
        "sid": "s",
        "iat": now,
        "exp": now + 3600,
    }
    token = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k1"})
    handler.configure(
        {
            "issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "keys": [jwk]}],
            "flags": {"payload": flags_payload()},
        }
    )

    def viewer_event() -> dict[str, Any]:
        return {
            "Records": [
                {
                    "cf": {
                        "config": {"eventType": "viewer-request", "requestId": "req-1"},
                        "request": {
                            "method": "GET",
                            "uri": "/api/v1/projects",
                            "querystring": "",
                            "clientIp": "203.0.113.1",
                            "headers": {
                                "host": [{"key": "Host", "value": "app.example.com"}],
                                "authorization": [{"key": "Authorization", "value": f"Bearer {token}"}],
                                "cookie": [{"key": "Cookie", "value": "aid=0123456789abcdef"}],
                                "user-agent": [{"key": "User-Agent", "value": "bench"}],
                            },
                        },
                    }
                }
            ]
        }

    country = [{"key": "CloudFront-Viewer-Country", "value": "DE"}]

    def one_request() -> None:
        request = handler.viewer_request(viewer_event())
        request["headers"]["cloudfront-viewer-country"] = country
        handler.origin_request(
            {"Records": [{"cf": {"config": {"eventType": "origin-request"}, "request": request}}]}
        )

    def event_only() -> dict[str, Any]:
        request = viewer_event()["Records"][0]["cf"]["request"]
        request["headers"]["cloudfront-viewer-country"] = country
        return {"Records": [{"cf": {"config": {"eventType": "origin-request"}, "request": request}}]}

    one_request()
    request = handler.viewer_request(viewer_event())
    assert request["headers"]["x-auth-user"][0]["value"] == "user-1"
    with_events, construction, _ = interleaved(one_request, event_only, number=1000)
    total = with_events - construction
    # The issue's budget assumes a machine where the SDK takes ≈ 0.5 ms per user; scale by this run's SDK.
    slowdown = SDK_PER_USER / 500e-6 if SDK_PER_USER else 1.0
    print(
        f"warm viewer-request + origin-request (cached session, {FEATURE_COUNT} flags): {fmt_us(total)} here; "
        f"{fmt_us(total / slowdown)} scaled to the reference machine (this machine {slowdown:.1f}x slower by the "
        f"SDK's same-run time; target ≤ 40 µs; event construction {fmt_us(construction)} subtracted)"
    )
    handler.configure(None)


def bench_import() -> None:
    """CPU time of `import edge.handler` in a bare interpreter (-S -I), from source and from .pyc
    (ship compiled files in the asset: Lambda's read-only file system cannot cache them)."""
    packages = {
        "edge": Path(handler.__file__).resolve().parent,
        "saascontracts": Path(libcrypto.__file__).resolve().parent,
    }
    with tempfile.TemporaryDirectory() as root:
        for name, package in packages.items():
            shutil.copytree(package, Path(root) / name, ignore=shutil.ignore_patterns("__pycache__"))
        source = _import_cpu(root, compiled=False)
        for name in packages:
            compileall.compile_dir(str(Path(root) / name), quiet=1)
        compiled = _import_cpu(root, compiled=True)
    base, ours = compiled
    print(
        f"import edge.handler: {ours * 1000:.1f} ms CPU from .pyc, {source[1] * 1000:.1f} ms from source | "
        f"import json (+re, same interpreter): {base * 1000:.1f} ms | ratio {ours / base:.2f}x "
        "(target ≤ 15 ms on an idle machine)"
    )


def _import_cpu(root: str, *, compiled: bool) -> tuple[float, float]:
    probe = (
        "import sys, time\n"
        f"sys.path.insert(0, {root!r})\n"
        "t = time.process_time(); import json; base = time.process_time() - t\n"
        "t = time.process_time(); import edge.handler; ours = time.process_time() - t\n"
        "print(base, ours)\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    flags = [] if compiled else ["-B"]
    samples = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-S", "-I", *flags, "-c", probe],
            capture_output=True,
            text=True,
            check=True,
            env=environment,
        )
        base, ours = (float(x) for x in out.stdout.split())
        samples.append((base, ours))
    return min(samples, key=lambda pair: pair[1])


def main() -> None:
    bench_tokens()
    bench_corpus()
    bench_flags()
    bench_handler()
    bench_import()
