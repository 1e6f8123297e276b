"""The block-wise jsonl reader: its fast path must give exactly what the careful path gives."""

import hashlib
import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsc.io import SourceError, SourceSpec, read_source
from dsc.io import jsonl
from hypothesis_budget import examples


def read(tmp_path, name="p.jsonl"):
    return read_source(SourceSpec("s", files=(name,)), tmp_path)


def careful_only(monkeypatch):
    """Make orjson refuse every line, so that each one takes the careful path."""

    def refuse(_line):
        raise orjson.JSONDecodeError("refused", "", 0)

    monkeypatch.setattr(jsonl.orjson, "loads", refuse)


def same_result(a, b):
    assert a.table.schema == b.table.schema
    assert a.table.equals(b.table)
    # How columns are cut into chunks shows in the bytes of parquet files written from them.
    assert [c.num_chunks for c in a.table.columns] == [c.num_chunks for c in b.table.columns]
    assert a.rejects == b.rejects
    assert a.inputs == b.inputs


def both_ways(tmp_path, monkeypatch, block_bytes):
    """The result with the fast path and small blocks, and the careful path's in one block."""
    with monkeypatch.context() as patch:
        patch.setattr(jsonl, "BLOCK_BYTES", block_bytes)
        fast = outcome(tmp_path)
    with monkeypatch.context() as patch:
        careful_only(patch)
        careful = outcome(tmp_path)
    return fast, careful


def outcome(tmp_path):
    """The read's result, or the message of the SourceError it raised."""
    try:
        return read(tmp_path)
    except SourceError as error:
        return str(error)


# Lines that the fast parser might read differently from the careful one, if it were not checked.
TRICKY = [
    '{"a": 1, "a": 2}',  # duplicate key: orjson keeps the last silently
    '{"a" : 1, "a"\t: 2}',  # ... written with space before the colon
    '{"m": {"k": 1, "k": 2}}',  # ... inside a nested object
    '{"a\\"": 1, "a\\"": 2}',  # ... a key ending in an escaped quote
    '{"a": "say \\": hi", "b": 1}',  # a quote and colon inside a string: not a key
    '{"a": 123456789012345678901234567890}',  # orjson would read a float
    '{"a": -9223372036854775809}',
    '{"a": 18446744073709551615}',
    '{"a": 1e400}',  # infinity: orjson refuses, json reads inf
    '{"a": NaN}',
    '{"a": "\\ud800"}',  # lone surrogate
    '{"a": "\\ud83d\\ude00"}',
    '{"a": ' + "[" * 70 + "]" * 70 + "}",  # deeper than MAX_DEPTH
    '{"a": 9007199254740993}',  # beyond 2**53: cannot join floats
    '{"a": 2.5}',
    '{"a": true}',
    '{"a": "x"}',
    '{"a": null, "b": "y"}',
    "[1, 2]",
    "{broken",
    '{"a": "x"}\r',
    "",
    "   ",
]


@pytest.mark.parametrize("block_bytes", [1, 40, 1 << 20])
def test_tricky_lines_read_the_same_fast_or_careful(tmp_path, monkeypatch, block_bytes):
    (tmp_path / "p.jsonl").write_text("\n".join(TRICKY) + "\n", encoding="utf-8")
    fast, careful = both_ways(tmp_path, monkeypatch, block_bytes)
    same_result(fast, careful)
    assert {r.source: r.reason for r in fast.rejects}["p.jsonl:1"] == "malformed JSON: duplicate key 'a'"


def test_a_block_that_disagrees_with_the_column_majority_is_typed_row_by_row(tmp_path, monkeypatch):
    # Each block holds one kind per column, so each is read as Arrow columns first; the string
    # block loses to the int majority and is read again to reject its rows one by one.
    lines = [json.dumps({"n": "s"})] * 3 + [json.dumps({"n": i}) for i in range(5)] + [json.dumps({"n": 1.5})]
    (tmp_path / "p.jsonl").write_text("\n".join(lines), encoding="utf-8")
    fast, careful = both_ways(tmp_path, monkeypatch, 20)
    same_result(fast, careful)
    assert [r.reason for r in fast.rejects] == ["column 'n': expected number, got string"] * 3
    assert fast.table.column("n").to_pylist() == [0.0, 1.0, 2.0, 3.0, 4.0, 1.5]


def test_columns_first_seen_in_any_block_keep_read_order(tmp_path, monkeypatch):
    lines = ['{"b": 1}', '{"a": "x", "b": 2}', '{"c": null}', '{"a": "y", "d": true}']
    (tmp_path / "p.jsonl").write_text("\n".join(lines), encoding="utf-8")
    fast, careful = both_ways(tmp_path, monkeypatch, 1)
    same_result(fast, careful)
    assert fast.table.column_names == ["b", "a", "c", "d", "_dsc_id", "_dsc_src"]


def test_the_file_is_hashed_as_read_and_blocks_keep_line_numbers(tmp_path, monkeypatch):
    data = b"\xef\xbb\xbf" + b"\n".join(json.dumps({"q": str(i)}).encode() for i in range(50)) + b"\n\n"
    (tmp_path / "p.jsonl").write_bytes(data)
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 64)
    result = read(tmp_path)
    assert result.inputs[0].sha256 == hashlib.sha256(data).hexdigest()
    assert result.inputs[0].bytes == len(data) and result.inputs[0].rows == 50
    assert result.table.column("_dsc_src").to_pylist() == [f"p.jsonl:{i}" for i in range(1, 51)]
    assert result.table.column("q").num_chunks == 1


def test_small_blocks_still_probe_the_start_of_the_file_for_binary(tmp_path, monkeypatch):
    (tmp_path / "p.jsonl").write_bytes(b"{}\n" + bytes(range(256)) * 40)
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 16)
    with pytest.raises(SourceError, match="looks like a binary file"):
        read(tmp_path)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from("pq"), inner, max_size=2),
    max_leaves=4,
)
# Mostly flat rows with one kind per column, so that whole blocks take the columnar path.
_flat = st.fixed_dictionaries({}, optional={"a": st.text(max_size=5), "b": st.integers(-5, 5), "c": st.booleans()})
_row = st.one_of(_flat, _flat, st.dictionaries(st.sampled_from("abc"), _values, max_size=3))


def _spelt(row: dict, spacing: str) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(", ", spacing))


_line = st.one_of(
    st.builds(_spelt, _row, st.sampled_from([": ", ":", " : "])),
    st.sampled_from(TRICKY),
)


@settings(max_examples=examples(1.2), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_line, min_size=1, max_size=30), block_bytes=st.sampled_from([1, 30, 200, 1 << 20]))
def test_any_file_reads_the_same_fast_or_careful(tmp_path, monkeypatch, lines, block_bytes):
    (tmp_path / "p.jsonl").write_text("\n".join(lines), encoding="utf-8")
    fast, careful = both_ways(tmp_path, monkeypatch, block_bytes)
    if isinstance(fast, str) or isinstance(careful, str):
        assert fast == careful
    else:
        same_result(fast, careful)
