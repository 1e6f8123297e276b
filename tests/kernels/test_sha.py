"""dsc.kernels.sha gives hashlib's sha256 prefixes, byte for byte: through OpenSSL from compiled
code, with any number of threads, and through the hashlib loop it falls back to; its kernels are
disk-cached without the process's function addresses in them; and the content ids it makes are
those of the row-by-row definition."""
import ctypes
import ctypes.util
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.corpus import make_corpus
from dsc.io import rowids
from dsc.io.rowids import content_ids, table_content_ids
from dsc.kernels import sha
from dsc.kernels.buffers import packed
from hypothesis_budget import examples

ROOT = Path(__file__).resolve().parents[2]
# sha256 pads to 64-byte blocks with at least 9 bytes: 55/56 and 63/64/65 cross those edges.
EDGES = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 2047, 2048, 2049]


def expected(texts: list[bytes]) -> bytes:
    return b"".join(hashlib.sha256(t).digest()[:sha.PREFIX] for t in texts)


def openssl_only() -> None:
    if sha._openssl() is None:
        pytest.skip("no libcrypto that this test can call here: the hashlib loop is tested on its own")


_texts = st.lists(st.one_of(st.binary(max_size=200), st.sampled_from(EDGES).flatmap(
    lambda n: st.binary(min_size=n, max_size=n))), max_size=40)


@settings(max_examples=examples(2))
@given(_texts, st.integers(1, 4))
def test_prefixes_are_hashlibs(texts, workers):
    off, data = packed(texts)
    assert sha.sha256_prefixes(off, data, workers) == expected(texts)
    assert sha.hashlib_prefixes(off, data) == expected(texts)


def test_block_edges_and_a_large_text_with_threads():
    openssl_only()
    rng = np.random.default_rng(0)
    texts = [rng.bytes(n) for n in EDGES + [1 << 20, 3 * 1000 + 7]] * 3 + [b""] * 5
    off, data = packed(texts)
    for workers in (1, 2, 7, 64):
        assert sha.sha256_prefixes(off, data, workers) == expected(texts)


def test_offsets_into_a_larger_buffer_and_readonly_bytes():
    """Offsets need not start at 0 nor end at the buffer's end, and bytes need not be writable."""
    data = np.frombuffer(b"xxhello world!yy", np.uint8)
    off = np.array([2, 7, 7, 14])
    assert sha.sha256_prefixes(off, data) == expected([b"hello", b"", b" world!"])
    assert sha.sha256_prefixes(np.array([0]), data) == b""


@pytest.mark.parametrize("off", [[0, 5, 3], [-1, 2], [0, 17], []])
def test_offsets_outside_the_bytes_are_refused_before_any_read(off):
    with pytest.raises(ValueError, match="offsets must rise"):
        sha.sha256_prefixes(np.array(off, np.int64), np.zeros(16, np.uint8))


def test_fallback_when_no_openssl_gives_the_same_bytes(monkeypatch):
    texts = [b"", b"a", b"x" * 64, bytes(range(256)) * 5]
    off, data = packed(texts)
    monkeypatch.setattr(sha, "_openssl", lambda: None)
    assert sha.backend().startswith("hashlib loop")
    assert sha.sha256_prefixes(off, data, workers=2) == expected(texts)
    table = pa.table({"t": ["a", None, "a", "b"], "n": [1, 2, 1, None]})
    assert table_content_ids(table, workers=2).to_pylist() == content_ids(table.to_pylist())


def test_one_shot_sha256_is_used_where_the_low_level_names_are_missing(monkeypatch):
    """A libcrypto built without the deprecated SHA256_Init/Update/Final still has SHA256()."""
    openssl_only()
    library = sha._openssl()[1]
    real = sha._addresses
    monkeypatch.setattr(sha, "_libraries", lambda: iter([library]))
    monkeypatch.setattr(sha, "_addresses", lambda path, names: None if len(names) == 3 else real(path, names))
    found = sha._openssl.__wrapped__()
    assert found[0] == "SHA256"
    monkeypatch.setattr(sha, "_openssl", lambda: found)
    texts = [bytes([i % 256]) * i for i in EDGES]
    off, data = packed(texts)
    assert sha.sha256_prefixes(off, data, workers=3) == expected(texts)


def test_libraries_that_are_missing_lack_the_names_or_disagree_are_passed_over(monkeypatch):
    assert sha._addresses("/nonexistent/libcrypto.so.3", ("SHA256",)) is None
    libc = ctypes.util.find_library("c")
    if libc:
        assert sha._addresses(libc, ("SHA256",)) is None  # loads, has no such function
    monkeypatch.setattr(sha, "_libraries", lambda: ["/nonexistent/libcrypto.so.3", *([libc] if libc else [])])
    assert sha._openssl.__wrapped__() is None
    openssl_only()
    # Functions of the same shape that hash otherwise (MD5) are not taken for sha256.
    md5 = sha._addresses(sha._openssl()[1], ("MD5_Init", "MD5_Update", "MD5_Final"))
    if md5 is not None:
        assert not sha._agrees(("SHA256_Init", "SHA256_Update", "SHA256_Final"), md5)


_CHILD = """
import hashlib, json, numpy as np
from dsc.kernels import sha
texts = [bytes([i % 256]) * i for i in range(0, 300, 7)]
off = np.zeros(len(texts) + 1, np.int64); np.cumsum([len(t) for t in texts], out=off[1:])
data = np.frombuffer(b"".join(texts), np.uint8).copy()
ok = sha.sha256_prefixes(off, data, 2) == b"".join(hashlib.sha256(t).digest()[:8] for t in texts)
kind, _, addresses = sha._openssl()
kernel = sha._one_shot if kind == "SHA256" else sha._low_level
print(json.dumps({"ok": ok, "address": addresses[0], "hits": sum(kernel.stats.cache_hits.values()),
                  "misses": sum(kernel.stats.cache_misses.values())}))
"""


def test_disk_cached_kernel_runs_in_fresh_processes(tmp_path):
    """The first process compiles the kernel into an empty cache, the second loads that machine
    code; both hash right, though the library may sit at another address in each (ASLR)."""
    openssl_only()
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    runs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", _CHILD], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first, second = runs
    assert first["ok"] and second["ok"]
    assert first["misses"] > 0 and first["hits"] == 0
    assert second["hits"] > 0 and second["misses"] == 0
    assert any(tmp_path.rglob("*.nbc"))


def test_content_ids_of_the_bench_corpus_are_unchanged(monkeypatch):
    """`table_content_ids` through the kernel (1 and 2 threads) = through the hashlib loop it
    replaced = the row-by-row definition, on the pipeline benchmark's rows."""
    text = pa.array(make_corpus(3000, seed=0)["text"], pa.string())
    n = len(text)
    rng = np.random.default_rng(0)
    mixed = pa.table({"text": text, "n": pa.array(rng.integers(-2**40, 2**40, n)), "ok": pa.array(rng.random(n) < 0.5),
                      "lang": pa.array(np.where(rng.random(n) < 0.3, None, "en").tolist(), pa.string())})
    for table in (pa.table({"text": text}), mixed):
        new = table_content_ids(table).to_pylist()
        assert table_content_ids(table, workers=2).to_pylist() == new
        with monkeypatch.context() as patch:
            patch.setattr(sha, "sha256_prefixes", lambda off, data, workers=1: sha.hashlib_prefixes(off, data))
            assert table_content_ids(table).to_pylist() == new
        assert new == content_ids(table.to_pylist())
    assert any("~" in i for i in table_content_ids(pa.table({"text": text})).to_pylist())  # repeats numbered too
    assert rowids._digests(*packed([b"{}"])) == hashlib.sha256(b"{}").digest()[:8]
