"""Seeded XXH3-64 of many texts, each behind the same prefix, hashed by the xxhash library from
compiled code.

The split stage (`dsc.engines.splits`) places each row by `xxh3_64(domain + key, seed)`. In
Python that is a bytes object, a concatenation and a call per row, under the GIL: 0.7 s of a
1M-row run whose keys are 640-byte texts. Here a `kernel` copies the prefix and each key into
one scratch buffer and calls the very `XXH3_64bits_withSeed` that the `xxhash` package's
extension exports, so the hashes are the package's, bit for bit (checked on probes before
use, and by tests/kernels/test_xxh.py). Where the extension cannot be loaded, lacks the
function or disagrees, `xxh3_prefixed` returns None and the caller hashes in Python.
"""
from __future__ import annotations

import functools

import numpy as np
import xxhash

from dsc.kernels.buffers import checked_texts, packed
from dsc.kernels.jit import call_address, copy_bytes, in_parts, kernel

__all__ = ["xxh3_prefixed"]

_PROBES = tuple(bytes((11 * j + n) % 256 for j in range(n)) for n in (0, 1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241,
                                                                     1000, 4099))


def xxh3_prefixed(off: np.ndarray, data: np.ndarray, prefix: bytes, seed: int, workers: int = 1) -> np.ndarray | None:
    """`xxhash.xxh3_64_intdigest(prefix + data[off[i]:off[i + 1]], seed)` for every row, as uint64,
    over `workers` row ranges at once; None where the library cannot be called.

    >>> off, data = np.array([0, 2, 2]), np.frombuffer(b"ab", np.uint8)
    >>> xxh3_prefixed(off, data, b"k:", 7).tolist() == [xxhash.xxh3_64_intdigest(b"k:ab", 7),
    ...                                                 xxhash.xxh3_64_intdigest(b"k:", 7)]
    True
    """
    off, data = checked_texts(off, data)
    address = _function()
    if address is None:
        return None
    return _hashed(address, off, data, prefix, seed % 2**64, workers)


def _hashed(address: int, off: np.ndarray, data: np.ndarray, prefix: bytes, seed: int, workers: int) -> np.ndarray:
    head = np.frombuffer(prefix, np.uint8)
    longest = int(np.diff(off).max(initial=0))
    out = np.empty(off.size - 1, np.uint64)

    def part(lo: int, hi: int) -> None:
        scratch = np.zeros(head.size + longest + 1, np.uint8)  # one per thread
        scratch[:head.size] = head
        _hash_rows(address, off, data, head.size, np.uint64(seed), scratch, out, lo, hi)

    if out.size:
        in_parts(part, off, workers)
    return out


@kernel
def _hash_rows(address, off, data, start, seed, scratch, out, lo, hi):  # pragma: no cover - compiled
    """Rows lo..hi: the row's bytes copied behind the prefix in `scratch`, and the whole hashed."""
    for r in range(lo, hi):
        a = off[r]
        size = off[r + 1] - a
        copy_bytes(scratch, start, data, a, size)
        out[r] = call_address(address, ((scratch, 0), start + size, seed))


@functools.cache
def _function() -> int | None:
    """The address of `XXH3_64bits_withSeed` in the xxhash package's extension, once it hashes the
    probes as the package does; None otherwise (looked up once per process)."""
    import ctypes

    try:
        from xxhash import _xxhash

        address = ctypes.cast(ctypes.CDLL(_xxhash.__file__).XXH3_64bits_withSeed, ctypes.c_void_p).value
    except (ImportError, OSError, AttributeError):
        return None
    if not address:
        return None
    off, data = packed(list(_PROBES))
    try:
        got = _hashed(address, off, data, b"probe\x00", 2**64 - 5, 1)
    except Exception:  # noqa: BLE001 - a kernel that cannot be built here means hashing in Python
        return None
    want = [xxhash.xxh3_64_intdigest(b"probe\x00" + p, 2**64 - 5) for p in _PROBES]
    return address if got.tolist() == want else None
