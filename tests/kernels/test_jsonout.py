"""dsc.kernels.jsonout writes the bytes the Python encoders write: orjson and `json.dumps`
(ensure_ascii off) for each value, `canonical_json` (the content ids) and `row_json` (the output
lines) for whole rows; and `canonical_rows` calls a text canonical only where decoding it and
writing it back with `row_json` gives the same text."""
import json
import sys

import numpy as np
import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.engines.outputs import row_json
from dsc.io.jsonscan import decode_row
from dsc.io.rowids import canonical_json
from dsc.kernels import jsonout
from hypothesis_budget import examples

CONTROLS = "".join(map(chr, range(0x20)))
# Every character the escaping treats differently, and the neighbours of each.
_CHARS = st.sampled_from(list(CONTROLS + '"\\/ !#[]{}\x7f\x80\xa0é\u2028\u2029\ufeff\uffff中\U0001f600\U0010ffff'))
_TEXT = st.one_of(st.text(_CHARS, max_size=12), st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
                  st.text(_CHARS, min_size=9, max_size=40))


def pieces(off: np.ndarray, data: np.ndarray) -> list[bytes]:
    return [bytes(data[a:b]) for a, b in zip(off[:-1].tolist(), off[1:].tolist())]


def dumps(value) -> bytes:
    """What both Python encoders write for a plain value (asserting they agree)."""
    ours = json.dumps(value, ensure_ascii=False).encode("utf-8")
    assert orjson.dumps(value) == ours
    return ours


# --- values --------------------------------------------------------------------------------------


@settings(max_examples=examples(2), deadline=None)
@given(values=st.lists(st.one_of(st.none(), _TEXT), max_size=20), large=st.booleans(), cut=st.integers(0, 3))
def test_strings_are_written_as_orjson_and_json_write_them(values, large, cut):
    arr = pa.array(values, pa.large_string() if large else pa.string()).slice(min(cut, len(values)))
    assert pieces(*jsonout.json_values(arr)) == [dumps(v) for v in arr.to_pylist()]


def test_every_code_point_is_written_as_the_encoders_write_it():
    """Every code point but the surrogates, 64 to a string, and each control character alone,
    between other characters and at both ends."""
    points = [*range(0xD800), *range(0xE000, sys.maxunicode + 1)]
    texts = ["".join(map(chr, points[i:i + 64])) for i in range(0, len(points), 64)]
    texts += [c for c in CONTROLS] + [f"a{c}b" for c in CONTROLS] + [c * 9 for c in CONTROLS + '"\\']
    texts += ["", "\u2028\u2029", "x" * 7 + '"', "x" * 8 + "\\", "x" * 15 + "\n"]
    assert pieces(*jsonout.json_values(pa.array(texts))) == [dumps(t) for t in texts]


def test_arrow_strings_cannot_hold_a_lone_surrogate():
    """So the one spelling where orjson and json differ never reaches the writer."""
    with pytest.raises((UnicodeEncodeError, pa.ArrowInvalid)):
        pa.array(["\ud800"], pa.string())


_INTS = [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()]


@pytest.mark.parametrize("type_", _INTS, ids=str)
def test_integers_at_their_bounds_are_written_in_decimal(type_):
    info = np.iinfo(type_.to_pandas_dtype())
    values = [int(info.min), int(info.min) + 1, -1 if info.min < 0 else 0, 0, 1, None, int(info.max) - 1,
              int(info.max)]
    assert pieces(*jsonout.json_values(pa.array(values, type_))) == [dumps(v) for v in values]


@settings(max_examples=examples(1), deadline=None)
@given(ints=st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=10),
       bools=st.lists(st.one_of(st.none(), st.booleans()), max_size=10))
def test_integers_booleans_and_nulls_are_written_as_the_encoders_write_them(ints, bools):
    assert pieces(*jsonout.json_values(pa.array(ints, pa.int64()))) == [dumps(v) for v in ints]
    assert pieces(*jsonout.json_values(pa.array(bools, pa.bool_()))) == [dumps(v) for v in bools]
    assert pieces(*jsonout.json_values(pa.nulls(len(ints)))) == [b"null"] * len(ints)


def test_other_types_are_not_written():
    assert not any(jsonout.plain(t) for t in (pa.float64(), pa.list_(pa.int64()), pa.binary(), pa.date32()))
    with pytest.raises(TypeError):
        jsonout.json_values(pa.array([1.5]))


# --- rows ----------------------------------------------------------------------------------------

_NAMES = st.sampled_from(["a", "b", "", "é", "Z", 'k"ey', "k\\y", "\n", "中", "\U0001f600", "aa", "a\x00"])
_COLUMNS = [
    (st.one_of(st.none(), _TEXT), pa.string()),
    (st.one_of(st.none(), _TEXT), pa.large_string()),
    (st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), pa.int64()),
    (st.one_of(st.none(), st.integers(0, 2**64 - 1)), pa.uint64()),
    (st.one_of(st.none(), st.integers(-128, 127)), pa.int8()),
    (st.one_of(st.none(), st.booleans()), pa.bool_()),
    (st.none(), pa.null()),
]


@st.composite
def plain_tables(draw):
    names = draw(st.lists(_NAMES, min_size=1, max_size=5, unique=True))
    rows = draw(st.integers(0, 12))
    columns = {}
    for name in names:
        values, type_ = draw(st.sampled_from(_COLUMNS))
        columns[name] = pa.array([draw(values) for _ in range(rows)], type_)
    return pa.table(columns)


@settings(max_examples=examples(2), deadline=None)
@given(table=plain_tables())
def test_rows_with_nulls_dropped_are_canonical_json(table):
    names = sorted(table.column_names)
    off, data = jsonout.join_rows(table.num_rows, names, [table.column(n) for n in names],
                                  sep=b",", colon=b":", drop_nulls=True)
    expected = [canonical_json(row).encode("utf-8") for row in table.to_pylist()]
    assert pieces(off, data) == expected
    sorted_orjson = [orjson.dumps({k: v for k, v in row.items() if v is not None}, option=orjson.OPT_SORT_KEYS)
                     for row in table.to_pylist()]
    assert expected == sorted_orjson


@settings(max_examples=examples(2), deadline=None)
@given(table=plain_tables())
def test_rows_with_nulls_kept_are_row_json_lines(table):
    names = sorted(table.column_names)
    # one column given as values already written, as the rejects' row is
    columns = [table.column(n) for n in names]
    columns[0] = jsonout.json_values(columns[0])
    off, data = jsonout.join_rows(table.num_rows, names, columns, sep=b", ", colon=b": ", drop_nulls=False,
                                  close=b"}\n")
    assert pieces(off, data) == [(row_json(row) + "\n").encode("utf-8") for row in table.to_pylist()]


def test_a_column_of_another_length_is_refused():
    with pytest.raises(ValueError, match="2 values for 3 rows"):
        jsonout.join_rows(3, ["a"], [pa.array(["x", "y"])], sep=b",", colon=b":", drop_nulls=True)


# --- canonical rejected rows ---------------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), _TEXT, st.floats(),
                     st.sampled_from([0.1, -0.0, 1e22, 1e-7, 5e-324, 1.5]))
_JSON = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(_TEXT, inner, max_size=3)), max_leaves=12)
_ROWS = st.dictionaries(st.one_of(_NAMES, _TEXT), _JSON, max_size=5)


def _spellings(row: dict) -> list[str]:
    """The row as row_json writes it, and as other encoders and people write the same object."""
    return [row_json(row), json.dumps(row), json.dumps(row, ensure_ascii=False), row_json(row).replace(", ", ",", 1),
            json.dumps(row, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
            json.dumps(row, ensure_ascii=False, indent=1, sort_keys=True), row_json(row) + " ", " " + row_json(row),
            row_json(row).replace("1", "01", 1), row_json(row).replace(": ", ":", 1),
            row_json(row).replace('"', "'", 1), row_json(row)[:-1], row_json(row).replace("e", "E"),
            row_json(row).replace("0.", "-0.", 1), row_json(row).replace("\\n", "\\u000a"),
            row_json(row).replace("é", "\\u00e9"), row_json(row).replace("\\\\", "\\/")]


def _escaped_key(value) -> bool:
    """Whether some key of `value`, at any depth, is written with an escape."""
    if isinstance(value, dict):
        return any(json.dumps(k, ensure_ascii=False) != f'"{k}"' or _escaped_key(v) for k, v in value.items())
    return isinstance(value, list) and any(map(_escaped_key, value))


def _settled(text):
    return row_json(decode_row(text)).encode("utf-8")


@settings(max_examples=examples(3), deadline=None)
@given(rows=st.lists(_ROWS, min_size=1, max_size=3), junk=st.lists(st.one_of(st.none(), _TEXT), max_size=3))
def test_a_text_is_called_canonical_only_when_row_json_writes_it_back(rows, junk):
    texts = [t for row in rows for t in _spellings(row)] + junk
    status = jsonout.canonical_rows(pa.array(texts, pa.string()))
    for text, s in zip(texts, status.tolist()):
        if s == jsonout.CANONICAL:
            assert text is None or _settled(text) == text.encode("utf-8"), text
        elif s == jsonout.TEXT:
            assert decode_row(text) == text
        else:
            assert s == jsonout.OTHER
    # what row_json writes is found canonical (but where a key has an escape, left to Python)
    plain_keys = [jsonout.OTHER if _escaped_key(row) else jsonout.CANONICAL for row in rows]
    assert status[: len(texts) - len(junk): len(_spellings({}))].tolist() == plain_keys
    assert pieces(*jsonout.row_values(pa.array(texts, pa.string()), _settled)) == [_settled(t) for t in texts]


@pytest.mark.parametrize("text, status", [
    ('{}', jsonout.CANONICAL), ('{"a": {}, "b": []}', jsonout.CANONICAL), ('{"a": -0}', jsonout.OTHER),
    ('{"a": 1, "a": 2}', jsonout.OTHER), ('{"b": 1, "a": 2}', jsonout.OTHER), ('{"a": NaN}', jsonout.CANONICAL),
    ('{"a": [Infinity, -Infinity]}', jsonout.CANONICAL), ('{"a": -NaN}', jsonout.OTHER), ('{"a": Inf}', jsonout.OTHER),
    ('{"a": "\\ud800"}', jsonout.OTHER), ('{"a": "\\u001f\\b"}', jsonout.CANONICAL),
    ('{"a": "\\u0008"}', jsonout.OTHER), ('{"a": "\\u001F"}', jsonout.OTHER), ('{"a\\n": 1}', jsonout.OTHER),
    ('{"a": 1e400}', jsonout.OTHER), ('{"a": 1.0}', jsonout.CANONICAL), ('{"a": 1.10}', jsonout.OTHER),
    ('{"a": ' + "1" * 4001 + "}", jsonout.OTHER), ('{"a": ' + "9" * 4000 + "}", jsonout.CANONICAL),
    ('{"a": ' + "[" * 31 + "]" * 31 + "}", jsonout.CANONICAL), ('{"a": ' + "[" * 32 + "]" * 32 + "}", jsonout.OTHER),
    ('{"a": 1}}', jsonout.OTHER), ('{"a": [1, ]}', jsonout.OTHER), ("[1]", jsonout.TEXT), ("", jsonout.TEXT),
    ('{"a": "x\x01"}', jsonout.OTHER), ('{"a": tru}', jsonout.OTHER), ('{"a": "', jsonout.OTHER),
])
def test_canonical_rows_at_the_edges(text, status):
    assert jsonout.canonical_rows(pa.array([text])).tolist() == [status]
    if status == jsonout.CANONICAL:
        assert _settled(text) == text.encode("utf-8")


@settings(max_examples=examples(2), deadline=None)
@given(rows=st.lists(_ROWS, max_size=3), junk=st.lists(st.one_of(st.none(), _TEXT), max_size=3),
       similarity=st.one_of(st.none(), st.floats(0, 1)), batch=st.sampled_from([1, 2, 8192]))
def test_rejects_jsonl_is_row_json_of_the_decoded_rows(rows, junk, similarity, batch):
    """The whole rejects writer (`decode_row=True`): each line is `row_json` of the reject with its
    row text decoded, whichever way the text was written."""
    import io

    from dsc.engines import outputs

    texts = [t for row in rows for t in _spellings(row)] + junk
    n = len(texts)
    table = pa.table({"_dsc_id": [f"r{i}" for i in range(n)], "_dsc_line": pa.array(range(n), pa.int64()),
                      "_dsc_similarity": pa.array([similarity] * n, pa.float64()),
                      "_dsc_cluster": pa.nulls(n, pa.string()), "_dsc_row": pa.array(texts, pa.string())})
    saved, outputs.BATCH_ROWS = outputs.BATCH_ROWS, batch
    try:
        sink = io.BytesIO()
        outputs._write_table_jsonl(sink, table, decode_row=True)
    finally:
        outputs.BATCH_ROWS = saved
    expected = "".join(row_json({**r, "_dsc_row": decode_row(r["_dsc_row"])}) + "\n" for r in table.to_pylist())
    assert sink.getvalue() == expected.encode("utf-8")
