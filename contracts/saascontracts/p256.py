"""ECDSA P-256 (secp256r1) signature verification in pure Python, for ES256 (RFC 7518 §3.4).

Verification only, so nothing here is secret and nothing needs to run in constant time. The curve
constants are those of SEC 2 §2.4.2 / FIPS 186-5. Points are validated when a key is built (coordinates
below p, on the curve; P-256 has cofactor 1, so that also puts them in the prime-order group).

Speed: big-integer `%` dominates in CPython, so a verification avoids doublings altogether. u1·G + u2·Q
is a sum of table look-ups: each scalar is recoded in signed radix 32 (52 digits in -15..16) and each
digit d at position i selects the precomputed affine point d·32^i·P, added to a Jacobian accumulator
(mixed additions, 11 multiplications). That is about 100 additions per token. The comb table of a point
(52 by 16 affine points, ≈ 150 KB) is built once: for G on the first ES256 verification in the process,
for a public key on its first use (≈ 14,000 multiplications, milliseconds).
"""

from __future__ import annotations

P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
COORDINATE_BYTES = 32
SIGNATURE_BYTES = 2 * COORDINATE_BYTES

_WINDOW_BITS = 5
_DIGIT_MAX = 1 << (_WINDOW_BITS - 1)
# Digits of a scalar below n (256 bits) plus the final carry of the signed recoding.
_POSITIONS = (256 + _WINDOW_BITS) // _WINDOW_BITS

Affine = tuple[int, int]


def on_curve(x: int, y: int) -> bool:
    """y² = x³ - 3x + b over GF(p), with both coordinates reduced."""
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x - 3 * x + B)) % P == 0


def _double(x: int, y: int, z: int) -> tuple[int, int, int]:
    # dbl-2001-b (a = -3): 3M + 5S.
    delta = z * z % P
    gamma = y * y % P
    beta = x * gamma % P
    alpha = 3 * (x - delta) * (x + delta) % P
    x3 = (alpha * alpha - 8 * beta) % P
    z3 = ((y + z) * (y + z) - gamma - delta) % P
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % P
    return x3, y3, z3


def _add_affine(x1: int, y1: int, z1: int, x2: int, y2: int) -> tuple[int, int, int]:
    """Jacobian (x1, y1, z1) + affine (x2, y2); z1 == 0 is the point at infinity."""
    if z1 == 0:
        return x2, y2, 1
    # madd-2007-bl: 7M + 4S.
    z1z1 = z1 * z1 % P
    u2 = x2 * z1z1 % P
    s2 = y2 * z1 * z1z1 % P
    h = (u2 - x1) % P
    r = 2 * (s2 - y1) % P
    if h == 0:
        return _double(x1, y1, z1) if r == 0 else (1, 1, 0)
    hh = h * h % P
    i = 4 * hh % P
    j = h * i % P
    v = x1 * i % P
    x3 = (r * r - j - 2 * v) % P
    y3 = (r * (v - x3) - 2 * y1 * j) % P
    z3 = ((z1 + h) * (z1 + h) - z1z1 - hh) % P
    return x3, y3, z3


def _to_affine(x: int, y: int, z: int) -> Affine:
    inverse = pow(z, -1, P)
    inverse2 = inverse * inverse % P
    return x * inverse2 % P, y * inverse2 * inverse % P


def comb_table(x: int, y: int) -> tuple[Affine, ...]:
    """Affine j·32^i·(x, y) at index 16·i + j - 1, for i < 52 and j = 1..16 (one batch inversion)."""
    jacobian: list[tuple[int, int, int]] = []
    base_x, base_y = x, y
    for _ in range(_POSITIONS):
        jx, jy, jz = base_x, base_y, 1
        jacobian.append((jx, jy, jz))
        for _ in range(_DIGIT_MAX - 1):
            jx, jy, jz = _add_affine(jx, jy, jz, base_x, base_y)
            jacobian.append((jx, jy, jz))
        # The next position's base is 32·B = 2·(16·B).
        base_x, base_y = _to_affine(*_double(jx, jy, jz))
    # Montgomery's trick: one inversion for every Z.
    prefix = []
    running = 1
    for _, _, z in jacobian:
        running = running * z % P
        prefix.append(running)
    inverse = pow(running, -1, P)
    table: list[Affine] = [(0, 0)] * len(jacobian)
    for index in range(len(jacobian) - 1, -1, -1):
        jx, jy, z = jacobian[index]
        z_inverse = inverse * prefix[index - 1] % P if index else inverse
        inverse = inverse * z % P
        z_inverse2 = z_inverse * z_inverse % P
        table[index] = (jx * z_inverse2 % P, jy * z_inverse2 * z_inverse % P)
    return tuple(table)


def signed_digits(scalar: int) -> list[int]:
    """Radix-32 digits in -15..16, least significant first; sum(d·32^i) == scalar for 0 <= scalar < 2^256."""
    digits = []
    for _ in range(_POSITIONS):
        digit = scalar & 31
        scalar >>= _WINDOW_BITS
        if digit > _DIGIT_MAX:
            digit -= 32
            scalar += 1
        digits.append(digit)
    return digits


_generator_comb: tuple[Affine, ...] | None = None


def _generator_table() -> tuple[Affine, ...]:
    global _generator_comb  # noqa: PLW0603 - built once per process, on first use (not at import)
    if _generator_comb is None:
        _generator_comb = comb_table(GX, GY)
    return _generator_comb


def _accumulate(x: int, y: int, z: int, digits: list[int], table: tuple[Affine, ...]) -> tuple[int, int, int]:
    offset = -1
    for digit in digits:
        if digit > 0:
            px, py = table[offset + digit]
            x, y, z = _add_affine(x, y, z, px, py)
        elif digit < 0:
            px, py = table[offset - digit]
            x, y, z = _add_affine(x, y, z, px, P - py)
        offset += _DIGIT_MAX
    return x, y, z


def verify_digest(digest: bytes, signature: bytes, key_table: tuple[Affine, ...]) -> bool:
    """ECDSA verification (SEC 1 §4.1.4) of a SHA-256 digest and a raw R‖S signature of 64 bytes;
    `key_table` is `comb_table(x, y)` of the public key."""
    if len(signature) != SIGNATURE_BYTES or len(digest) != COORDINATE_BYTES:
        return False
    r = int.from_bytes(signature[:COORDINATE_BYTES], "big")
    s = int.from_bytes(signature[COORDINATE_BYTES:], "big")
    if not (0 < r < N and 0 < s < N):
        return False
    w = pow(s, -1, N)
    u1 = int.from_bytes(digest, "big") * w % N
    u2 = r * w % N
    x, y, z = _accumulate(1, 1, 0, signed_digits(u1), _generator_table())
    x, y, z = _accumulate(x, y, z, signed_digits(u2), key_table)
    if z == 0:
        return False
    # x(R) mod n == r without an inversion: X == r'·Z² for r' in {r, r + n} below p.
    z2 = z * z % P
    if x == r * z2 % P:
        return True
    return r + N < P and x == (r + N) * z2 % P
