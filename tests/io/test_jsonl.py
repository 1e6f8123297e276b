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
    """Make Arrow refuse every block and orjson every line, so that each one takes the careful path."""

    def refuse(_line):
        raise orjson.JSONDecodeError("refused", "", 0)

    monkeypatch.setattr(jsonl, "_arrow_block", lambda *_: None)
    monkeypatch.setattr(jsonl.orjson, "loads", refuse)


def no_arrow(monkeypatch):
    """Make Arrow refuse every block, so that each one is parsed line by line (orjson first)."""
    monkeypatch.setattr(jsonl, "_arrow_block", lambda *_: None)


def arrow_blocks(monkeypatch):
    """Count the blocks Arrow read (``[read, refused]``), so a test can show the fast path ran."""
    seen = [0, 0]
    real = jsonl._arrow_block

    def counted(*args):
        block = real(*args)
        seen[block is None] += 1
        return block

    monkeypatch.setattr(jsonl, "_arrow_block", counted)
    return seen


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


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_file_is_named_as_such_with_how_to_convert_it(tmp_path, encoding):
    text = '{"q": "ä"}\n{"q": "b"}\n'
    # Python's utf-16 writes a little-endian byte-order mark; utf-16-be writes none, so one is added
    (tmp_path / "p.jsonl").write_bytes((text if encoding == "utf-16" else "\ufeff" + text).encode(encoding))
    with pytest.raises(SourceError, match=r"p.jsonl is UTF-16 text, not UTF-8; convert it first, e.g. iconv -f UTF-16"):
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


# --- The Arrow path: a whole block read by Arrow must be exactly what the per-line path makes. ---


def three_ways(tmp_path, monkeypatch, block_bytes):
    """The result with Arrow first, with orjson first (no Arrow), and the careful path's, all
    with ``block_bytes``-sized blocks but the careful one; and how many blocks Arrow read."""
    with monkeypatch.context() as patch:
        patch.setattr(jsonl, "BLOCK_BYTES", block_bytes)
        seen = arrow_blocks(patch)
        arrow = outcome(tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr(jsonl, "BLOCK_BYTES", block_bytes)
        no_arrow(patch)
        lines = outcome(tmp_path)
    with monkeypatch.context() as patch:
        careful_only(patch)
        careful = outcome(tmp_path)
    return arrow, lines, careful, seen


def same_outcome(a, b):
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
    else:
        same_result(a, b)


def test_a_plain_file_is_read_by_arrow_in_every_block(tmp_path, monkeypatch):
    rows = [{"text": f'row {i} é "q" \\ /\t', "n": i, "f": i / 4, "ok": i % 2 == 0, "z": None} for i in range(300)]
    data = "\r\n".join(json.dumps(r, ensure_ascii=i % 2 == 0) for i, r in enumerate(rows)) + "\n"
    (tmp_path / "p.jsonl").write_text(data, encoding="utf-8", newline="")
    arrow, lines, careful, seen = three_ways(tmp_path, monkeypatch, 2000)
    assert seen[0] > 5 and seen[1] == 1  # the last block is the empty one after the final newline
    same_result(arrow, lines)
    same_result(arrow, careful)
    table = arrow.table
    assert table.column_names == ["text", "n", "f", "ok", "z", "_dsc_id", "_dsc_src"]
    assert str(table.schema.field("z").type) == "null" and table.column("n").num_chunks == 1
    assert table.column("_dsc_src").to_pylist()[-1] == "p.jsonl:300"


# Each, in a block of plain lines, must send the block to the per-line path or be read the same.
ARROW_TRICKY = [
    *(line.encode() for line in TRICKY),
    b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b'{"a": Inf}',  # Arrow reads all four
    b'{"a": 1.5, "b": -0}', b'{"a": -0.0}', b'{"a": 0}',  # -0 among floats is -0.0 in Arrow
    b'{"a": 12345678901234567890.5}', b'{"a": 1e300}', b'{"a": 9007199254740992}', b'{"a": -9007199254740993}',
    b'{"a": 1, "\\u0061": 2}',  # a duplicate key spelt two ways
    b'{"a": "2020-01-01"}', b'{"a": "2020-01-01 10:00:00"}',  # Arrow takes these for timestamps
    b'{"a": 1} {"a": 2}', b'{"a":', b'1}', b' {"a": 1}', b'\t', b'{"a": 1}\x0c',  # not one object a line
    b'{"a": "\xff"}', b'{"\xc3\x28": 1}', b'{"a": "\xed\xa0\x80"}',  # invalid UTF-8 (and a raw surrogate)
    b'\xef\xbb\xbf{"a": 1}',  # a BOM inside the file
    b'{"a": {}}', b'{"a": []}', b'{"a": [1, "x"]}', b'{}', b'{"": 1}', b'{"a/b": "c"}',
    b'{"a": "x\x01"}', b'{"a": "\\u0000"}', b'{"a": "\\ud83d\\ude00"}', b'{"a": 1,}', b'{"a": 01}',
    b'{"a": true}', b'{"a": false}', b'{"a": null}', b'{"a": 1E2}', b'{"a": 4.9e-324}', b'{"a": 1e-400}',
]
# The first read covers the 8 KiB binary probe whatever the block size: a file gets more blocks
# than one only past it, so a test of how blocks meet starts with these lines.
PAD_LINES = 76
PAD = b'{"pad": "%s"}\n' % (b"x" * 100) * PAD_LINES
assert len(PAD) > 8195
_good = st.fixed_dictionaries(
    {}, optional={"a": st.text(max_size=8), "b": st.integers(-(2**53), 2**53),
                  "c": st.floats(allow_nan=False, allow_infinity=False), "d": st.booleans(), "e": st.none(),
                  # ints past 2**53 are typed apart from floats: a block of them must not join as "int"
                  "g": st.integers(-(2**63), 2**63 - 1) | st.floats(-1e20, 1e20)})
_byte_line = st.one_of(
    _good.map(lambda r: json.dumps(r, ensure_ascii=False).encode()),
    _good.map(lambda r: json.dumps(r, ensure_ascii=False).encode() + b"\r"),  # CRLF
    st.sampled_from(ARROW_TRICKY),
    st.sampled_from([b"", b"  "]),  # blank lines
)


@settings(max_examples=examples(1.5), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_byte_line, min_size=1, max_size=25), bom=st.booleans(), pad=st.booleans(),
       block_bytes=st.sampled_from([1, 60, 300, 1 << 20]))
def test_arrow_blocks_read_exactly_as_the_per_line_path(tmp_path, monkeypatch, lines, bom, pad, block_bytes):
    # Mostly plain lines, so that some blocks pass Arrow's checks and others are refused.
    data = (b"\xef\xbb\xbf" if bom else b"") + (PAD if pad else b"") + b"\n".join(lines)
    (tmp_path / "p.jsonl").write_bytes(data)
    arrow, by_line, careful, _ = three_ways(tmp_path, monkeypatch, block_bytes)
    same_outcome(arrow, by_line)
    same_outcome(arrow, careful)


@pytest.mark.parametrize("plain", [{"p": "x", "q": 2}, {"a": 0.5}], ids=["apart", "same-column"])
@pytest.mark.parametrize("line", ARROW_TRICKY, ids=range(len(ARROW_TRICKY)))
def test_one_tricky_line_among_plain_ones_reads_the_same(tmp_path, monkeypatch, line, plain):
    # "apart": the tricky line's columns are new, so only the checks meant for it can refuse it;
    # then a second block of floats in "a" shows whether an int column joined with the right shape.
    plain = [json.dumps(plain).encode()] * 4
    floats = b"\n".join([b'{"a": 0.25}'] * 4)
    (tmp_path / "p.jsonl").write_bytes(PAD + b"\n".join([*plain[:2], line, *plain[2:]]) + b"\n" + floats)
    arrow, by_line, careful, _ = three_ways(tmp_path, monkeypatch, 100 + len(line))
    same_outcome(arrow, by_line)
    same_outcome(arrow, careful)


@pytest.mark.parametrize("data", [
    b'{"a": 1} {"a": 2}\n{"a":\n3}',  # two objects on a line, one over two: as many rows as lines
    b'{"a": 1} {"a": 2}\n\n{"a": 3}',  # ... and a blank line
    b'{"a": 1}\n{"a":\n 2} {"a": 3}',
])
def test_rows_that_match_the_line_count_by_chance_are_still_refused(tmp_path, monkeypatch, data):
    assert jsonl._arrow_block(data, 1, "f", frozenset()) is None
    (tmp_path / "p.jsonl").write_bytes(data)
    arrow, by_line, careful, _ = three_ways(tmp_path, monkeypatch, 1 << 20)
    same_outcome(arrow, by_line)
    same_outcome(arrow, careful)


def test_strings_arrow_takes_for_timestamps_are_read_as_strings():
    block = jsonl._arrow_block(b'{"d": "2020-01-01", "n": 1}\n{"d": "2021-02-03 04:05:06"}', 7, "f", frozenset())
    assert block.columns["d"].to_pylist() == ["2020-01-01", "2021-02-03 04:05:06"]
    assert block.shapes == {"d": "string", "n": "int"} and block.sources.to_pylist() == ["f:7", "f:8"]


@settings(max_examples=examples(1.5), deadline=None)
@given(number=st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,3})?", fullmatch=True),
))
def test_arrow_reads_every_number_it_keeps_as_orjson_does(number):
    # The acceptance checks trust Arrow's number parsing for values within 2**53; so must this.
    block = f'{{"x": {number}}}\n{{"x": 0.5}}'.encode()
    read = jsonl._arrow_block(block, 1, "f", frozenset())
    if read is not None:
        value = orjson.loads(f'{{"x": {number}}}')["x"]
        got = read.columns["x"].to_pylist()[0]
        assert got == float(value) and str(got) == str(float(value))


def test_a_verbatim_column_of_strings_or_nulls_is_read_by_arrow(tmp_path, monkeypatch):
    blocks = {}
    for name, rows in {"text": [{"v": "1.50"}, {"v": None}], "nulls": [{"v": None, "w": 1}] * 2,
                       "numbers": [{"v": 1.50}, {"v": 2}]}.items():
        block = "\n".join(json.dumps(r) for r in rows).encode()
        blocks[name] = jsonl._arrow_block(block, 1, "f", frozenset({"v"}))
    assert blocks["text"].shapes["v"] == "string"
    assert blocks["nulls"].shapes["v"] == "string" and blocks["nulls"].columns["v"].type == "string"
    assert blocks["numbers"] is None  # a number needs its literal: the per-line path keeps it


@pytest.mark.parametrize("block_bytes", [1, 40, 1 << 20])
def test_ints_past_2_53_in_a_block_of_their_own_do_not_join_floats(tmp_path, monkeypatch, block_bytes):
    # An int column within 2**53 joins a float one; past it, the rows meeting floats are rejected.
    (tmp_path / "p.jsonl").write_bytes(PAD + b'{"a": 9007199254740993}\n{"a": -9007199254740995}\n'
                                       b'{"a": 9007199254740992}\n{"a": 0.5}\n{"a": 1.5}\n')
    arrow, by_line, careful, seen = three_ways(tmp_path, monkeypatch, block_bytes)
    same_outcome(arrow, by_line)
    same_outcome(arrow, careful)
    assert [r.source for r in arrow.rejects] == [f"p.jsonl:{PAD_LINES + 4}", f"p.jsonl:{PAD_LINES + 5}"]
    assert jsonl._arrow_block(b'{"a": 9007199254740992}', 1, "f", frozenset()).shapes == {"a": "int"}


def test_the_result_is_the_same_with_any_number_of_arrow_threads(tmp_path, monkeypatch):
    # Blocks are read ahead by a pool, some by Arrow and some line by line; they come back in order.
    lines = [json.dumps({"t": f"r{i}", "n": i}) if i % 40 else '{"t": NaN}' for i in range(400)]
    (tmp_path / "p.jsonl").write_bytes(PAD + "\n".join(lines).encode())
    results = []
    for threads in (1, 3):
        with monkeypatch.context() as patch:
            patch.setattr(jsonl, "BLOCK_BYTES", 300)
            patch.setattr(jsonl, "ARROW_THREADS", threads)
            seen = arrow_blocks(patch)
            results.append(read(tmp_path))
        assert seen[0] > 10 and seen[1] >= 10  # a block with a NaN line is read line by line
    same_result(*results)
    assert len(results[0].rejects) == 10 and results[0].table.num_rows == PAD_LINES + 400 - 10
