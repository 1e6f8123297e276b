"""dsc.kernels.xxh: the compiled hashing is the xxhash package's, row for row; the split stage
places rows the same whichever way it hashes."""
import numpy as np
import pyarrow as pa
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.engines import splits
from dsc.kernels import xxh
from dsc.kernels.buffers import packed
from tests.hypothesis_budget import examples


@settings(max_examples=examples(2), deadline=None)
@given(texts=st.lists(st.binary(max_size=300), max_size=20), prefix=st.binary(max_size=16),
       seed=st.integers(0, 2**64 - 1), workers=st.integers(1, 3))
def test_same_hashes_as_the_package(texts, prefix, seed, workers):
    got = xxh.xxh3_prefixed(*packed(texts), prefix, seed, workers)
    assert got is not None and got.dtype == np.uint64
    assert got.tolist() == [xxhash.xxh3_64_intdigest(prefix + t, seed) for t in texts]


def test_lengths_around_the_algorithms_edges():
    texts = [bytes(range(n % 256)) * (n // 256 + 1) for n in (0, 1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241, 5000)]
    texts = [t[:n] for t, n in zip(texts, (0, 1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241, 5000))]
    assert xxh.xxh3_prefixed(*packed(texts), b"dsc-split\x00", 42).tolist() == \
        [xxhash.xxh3_64_intdigest(b"dsc-split\x00" + t, 42) for t in texts]


def test_offsets_that_would_read_outside_are_refused():
    with pytest.raises(ValueError):
        xxh.xxh3_prefixed(np.array([0, 5]), np.zeros(3, np.uint8), b"", 0)


def test_no_library_means_none(monkeypatch):
    monkeypatch.setattr(xxh, "_function", lambda: None)
    assert xxh.xxh3_prefixed(*packed([b"a"]), b"", 0) is None


@pytest.mark.parametrize("compiled", [True, False])
def test_split_hashes_are_the_same_either_way(monkeypatch, compiled):
    rng = np.random.default_rng(3)
    rows = splits._KEYS_AT_ONCE + 500
    keys = [None if rng.random() < 0.01 else f"key {rng.integers(0, rows // 3)} " + "é" * int(rng.integers(0, 5))
            for _ in range(rows)]
    column = pa.chunked_array([pa.array(keys[:700]), pa.array(keys[700:])])  # one short chunk, one long
    if not compiled:
        monkeypatch.setattr(xxh, "_function", lambda: None)
    salt = 9
    null = xxhash.xxh3_64_intdigest(splits._DOMAIN + splits._NULL, salt)
    want = [null if k is None else xxhash.xxh3_64_intdigest(splits._DOMAIN + k.encode(), salt) for k in keys]
    assert splits._key_hashes(column, salt).tolist() == want
