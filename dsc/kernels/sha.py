"""The first 8 bytes of the sha256 of many short texts, hashed by OpenSSL from compiled code.

Content row ids (`dsc.io.rowids`) hash each row's canonical JSON, about 640 bytes a row. A Python
loop of `hashlib.sha256(slice).digest()` costs a call, an object and a bytes copy per row on top
of the hashing, and holds the GIL throughout (CPython releases it only for inputs over 2 KiB), so
nothing overlaps with it. Here a `kernel` (GIL released) calls OpenSSL's sha256 directly for each
row range, so `in_parts` spreads the rows over threads. The bytes are sha256's: the same ones
`hashlib` gives (tests/kernels/test_sha.py), since it is the same library.

**Which OpenSSL.** The libcrypto that CPython's own `_hashlib` links: `ctypes.CDLL` on
`_hashlib.__file__` returns that extension's handle, and looking a name up on a handle searches
the extension's dependencies too, so this finds the very library hashlib uses, with no
subprocess and whatever its file name or folder. `ctypes.CDLL(None)` (the process's global
names) does not see it: Python loads extensions with `RTLD_LOCAL`. Only where `_hashlib` is not
a loadable file is `ctypes.util.find_library("crypto")` tried.

**Which functions.** `SHA256_Init` / `SHA256_Update` / `SHA256_Final` on a context on the
kernel's own stack where the library has them; OpenSSL 3's one-shot `SHA256()` goes through
`EVP_Q_digest`, which looks the algorithm up and allocates a context on every call (about 250 ns
a row more here, and a lock shared by the threads). A library built without the deprecated
low-level names still has `SHA256()`, which is used then. Any library is first checked against
`hashlib` on texts around the block sizes; where none loads, lacks both, or disagrees, the
hashlib loop (`hashlib_prefixes`) runs instead: the same bytes, only slower.

**Why the addresses are arguments.** numba keeps compiled kernels on disk (`kernel`); an address
compiled into the machine code would be the address in the process that compiled it, and with
address-space randomisation the library sits elsewhere in the next process. So the kernels take
each function's address as an integer argument and call through it (`jit.call_address`), and the addresses
are looked up afresh in every process.
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator

import numpy as np
from dsc.kernels.buffers import checked_texts, packed
from dsc.kernels.jit import call_address, in_parts, kernel

__all__ = ["PREFIX", "sha256_prefixes", "hashlib_prefixes", "backend"]

#: Bytes of each digest kept.
PREFIX = 8
# Room for an SHA256_CTX (112 bytes in every OpenSSL since 0.9.8), with a margin.
_CTX_BYTES = 256
# Texts that cross sha256's padding edges (55/56 bytes) and block edges (63/64/65, 119/120...).
_PROBES = tuple(bytes((7 * j + n) % 256 for j in range(n)) for n in (0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128,
                                                                    1000, 4099))


@kernel
def _low_level(init, update, final, off, data, out, lo, hi):
    """Rows lo..hi: `SHA256_Init(ctx)`, `SHA256_Update(ctx, text, n)`, `SHA256_Final(md, ctx)`, and
    the first PREFIX bytes of md into out[PREFIX * row:]."""
    ctx = np.zeros(_CTX_BYTES, np.uint8)
    md = np.zeros(32, np.uint8)
    for r in range(lo, hi):
        a = off[r]
        call_address(init, ((ctx, 0),))
        call_address(update, ((ctx, 0), (data, a), off[r + 1] - a))
        call_address(final, ((md, 0), (ctx, 0)))
        for j in range(PREFIX):
            out[PREFIX * r + j] = md[j]


@kernel
def _one_shot(sha256, off, data, out, lo, hi):
    """Rows lo..hi by `SHA256(text, n, md)`."""
    md = np.zeros(32, np.uint8)
    for r in range(lo, hi):
        a = off[r]
        call_address(sha256, ((data, a), off[r + 1] - a, (md, 0)))
        for j in range(PREFIX):
            out[PREFIX * r + j] = md[j]


def hashlib_prefixes(off: np.ndarray, data: np.ndarray) -> bytes:
    """`sha256_prefixes` by a Python loop over `hashlib` (one call per row, no copy of the text:
    memoryview slices): where no OpenSSL can be called, and the baseline of bench_jsonout."""
    text = memoryview(np.ascontiguousarray(data, np.uint8))
    bounds = np.asarray(off).tolist()
    sha256 = hashlib.sha256
    return b"".join([sha256(text[a:b]).digest()[:PREFIX] for a, b in zip(bounds, bounds[1:])])


def sha256_prefixes(off: np.ndarray, data: np.ndarray, workers: int = 1) -> bytes:
    """The first PREFIX bytes of the sha256 of each of the texts `data[off[i]:off[i + 1]]`, one
    after another, hashed over `workers` row ranges at once.

    >>> off, data = np.array([0, 3, 3]), np.frombuffer(b"abc", np.uint8)
    >>> sha256_prefixes(off, data) == hashlib.sha256(b"abc").digest()[:8] + hashlib.sha256(b"").digest()[:8]
    True
    """
    off, data = checked_texts(off, data)
    rows = off.size - 1
    run = _runner()
    if run is None:
        return hashlib_prefixes(off, data)
    out = np.empty(PREFIX * rows, np.uint8)
    if rows:
        in_parts(lambda lo, hi: run(off, data, out, lo, hi), off, workers)
    return out.tobytes()


def backend() -> str:
    """What `sha256_prefixes` calls in this process, for benchmarks and bug reports."""
    found = _openssl()
    return "hashlib loop (no usable OpenSSL)" if found is None else f"{found[0]} in {found[1]}"


def _runner() -> Callable[[np.ndarray, np.ndarray, np.ndarray, int, int], None] | None:
    found = _openssl()
    if found is None:
        return None
    kind, _, addresses = found
    if kind == "SHA256":
        (one,) = addresses
        return lambda off, data, out, lo, hi: _one_shot(one, off, data, out, lo, hi)
    init, update, final = addresses
    return lambda off, data, out, lo, hi: _low_level(init, update, final, off, data, out, lo, hi)


@functools.cache
def _openssl() -> tuple[str, str, tuple[int, ...]] | None:
    """(functions, library, their addresses) of the first library that hashes `_PROBES` as hashlib
    does, or None; looked up once per process (the addresses differ from one process to the next)."""
    for path in _libraries():
        for names in (("SHA256_Init", "SHA256_Update", "SHA256_Final"), ("SHA256",)):
            addresses = _addresses(path, names)
            if addresses is not None and _agrees(names, addresses):
                return "/".join(names), path, addresses
    return None


def _libraries() -> Iterator[str]:
    """Where libcrypto may be, best first: the file of `_hashlib` (its dependencies are searched),
    then the system's libcrypto (looked for only when the first will not do)."""
    try:
        import _hashlib

        extension = _hashlib.__file__
    except (ImportError, AttributeError):  # no OpenSSL in this Python, or built into the executable
        extension = None
    if extension:
        yield extension
    import ctypes.util

    try:
        name = ctypes.util.find_library("crypto")
    except OSError:
        name = None
    if name:
        yield name


def _addresses(path: str, names: tuple[str, ...]) -> tuple[int, ...] | None:
    """The addresses of `names` in the library at `path` (or its dependencies), or None."""
    import ctypes

    try:
        library = ctypes.CDLL(path)
        return tuple(ctypes.cast(getattr(library, name), ctypes.c_void_p).value for name in names)
    except (OSError, AttributeError):
        return None


def _agrees(names: tuple[str, ...], addresses: tuple[int, ...]) -> bool:
    """Whether these functions give hashlib's digests of `_PROBES` (a library that is not OpenSSL's
    libcrypto but exports the names, or another ABI, must not make the ids)."""
    off, data = packed(list(_PROBES))  # writable: the type the ids' texts have
    out = np.zeros(PREFIX * len(_PROBES), np.uint8)
    try:
        if len(names) == 1:
            _one_shot(addresses[0], off, data, out, 0, len(_PROBES))
        else:
            _low_level(*addresses, off, data, out, 0, len(_PROBES))
    except Exception:  # noqa: BLE001 - a kernel that cannot be built here means the hashlib loop
        return False
    return out.tobytes() == b"".join(hashlib.sha256(p).digest()[:PREFIX] for p in _PROBES)
