"""The RSA public-key operation (s^e mod n) through OpenSSL's libcrypto, when the interpreter has it.

CPython's `_hashlib` is linked against libcrypto (the Lambda and Lambda@Edge Python runtimes ship both),
so its handle resolves libcrypto's `BN_*` symbols through ctypes without any third-party package. Only
the modular exponentiation moves to OpenSSL: the caller still checks the length and `s < n`, builds the
complete EMSA-PKCS1-v1_5 encoding itself and compares in constant time (see `keys.RsaPublicKey`), so
nothing about what a valid signature is depends on OpenSSL. When anything is missing (no `_hashlib`, no
ctypes, a libcrypto without a symbol) `rsa_public_op` returns None and the caller uses Python's `pow`;
a differential test keeps the two equal.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_UNSET: Any = object()
_library: Any = _UNSET


def _load() -> Any:
    """The bound BN_* functions, or None; ctypes is imported only here (milliseconds of cold start)."""
    try:
        import _hashlib
        import ctypes

        lib = ctypes.CDLL(_hashlib.__file__)
        pointer = ctypes.c_void_p
        signatures = {
            "BN_CTX_new": (pointer, []),
            "BN_CTX_free": (None, [pointer]),
            "BN_new": (pointer, []),
            "BN_free": (None, [pointer]),
            "BN_bin2bn": (pointer, [ctypes.c_char_p, ctypes.c_int, pointer]),
            "BN_bn2binpad": (ctypes.c_int, [pointer, ctypes.c_char_p, ctypes.c_int]),
            "BN_MONT_CTX_new": (pointer, []),
            "BN_MONT_CTX_free": (None, [pointer]),
            "BN_MONT_CTX_set": (ctypes.c_int, [pointer, pointer, pointer]),
            "BN_mod_exp_mont": (ctypes.c_int, [pointer, pointer, pointer, pointer, pointer, pointer]),
        }
        for name, (restype, argtypes) in signatures.items():
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = argtypes
    except (ImportError, OSError, AttributeError):
        return None
    return lib, ctypes.create_string_buffer


def library() -> Any:
    global _library  # noqa: PLW0603 - loaded once per process, on first RSA verification
    if _library is _UNSET:
        _library = _load()
    return _library


def use_libcrypto(enabled: bool) -> None:
    """Force the pure-Python path (False) or reload libcrypto (True): tests and benchmarks only."""
    global _library  # noqa: PLW0603 - a process-wide switch
    _library = _load() if enabled else None


class RsaPublicOp:
    """s ↦ s^e mod n as k big-endian bytes for one key; n, e and its Montgomery context live in OpenSSL."""

    __slots__ = ("_bn", "_buffer", "_e", "_mont", "_n", "size_bytes")

    def __init__(self, bound: Any, n: int, e: int, size_bytes: int) -> None:
        self._bn, self._buffer = bound
        self.size_bytes = size_bytes
        self._n = self._e = self._mont = None
        bn = self._bn
        self._n = bn.BN_bin2bn(n.to_bytes(size_bytes, "big"), size_bytes, None)
        e_bytes = e.to_bytes((e.bit_length() + 7) // 8, "big")
        self._e = bn.BN_bin2bn(e_bytes, len(e_bytes), None)
        self._mont = bn.BN_MONT_CTX_new()
        ctx = bn.BN_CTX_new()
        try:
            ready = (
                bool(self._n and self._e and self._mont and ctx)
                and bn.BN_MONT_CTX_set(self._mont, self._n, ctx) == 1
            )
        finally:
            bn.BN_CTX_free(ctx)
        if not ready:
            raise MemoryError("libcrypto could not hold the RSA key")

    def __call__(self, signature: bytes) -> bytes | None:
        """The k-byte result, or None if OpenSSL failed (the caller then computes it with `pow`)."""
        bn = self._bn
        k = self.size_bytes
        ctx = bn.BN_CTX_new()
        s = bn.BN_bin2bn(signature, len(signature), None)
        result = bn.BN_new()
        try:
            if not (ctx and s and result):
                return None
            if bn.BN_mod_exp_mont(result, s, self._e, self._n, ctx, self._mont) != 1:
                return None
            out = self._buffer(k)
            if bn.BN_bn2binpad(result, out, k) != k:
                return None
            raw: bytes = out.raw
            return raw
        finally:
            bn.BN_free(result)
            bn.BN_free(s)
            bn.BN_CTX_free(ctx)

    def __del__(self) -> None:
        bn = self._bn
        bn.BN_MONT_CTX_free(self._mont)
        bn.BN_free(self._e)
        bn.BN_free(self._n)


def rsa_public_op(n: int, e: int, size_bytes: int) -> Callable[[bytes], bytes | None] | None:
    """An OpenSSL-backed s^e mod n for this key, or None when libcrypto is not usable here."""
    bound = library()
    if bound is None:
        return None
    try:
        return RsaPublicOp(bound, n, e, size_bytes)
    except MemoryError:
        return None
