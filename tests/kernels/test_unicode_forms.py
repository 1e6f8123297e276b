"""dsc.kernels.unicode_forms: the compiled normaliser is ``unicodedata.normalize``, exactly, for
every code point alone, every code point before a combining mark, every decomposable code point
among marks and jamo, and random strings; and its tables are what ``unicodedata`` says."""
from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsc.kernels import jit
from dsc.kernels import unicode_forms as uf
from hypothesis_budget import examples

FORMS = uf.FORMS
ALL = [chr(c) for c in range(1, 0x110000) if not 0xD800 <= c < 0xE000]
# marks of many combining classes (1, 7, 9, 202, 216, 220, 230, 232, 240), and starters that
# compose with what precedes them (Hangul vowel and trailing jamo, Indic length marks)
MARKS = ["\u0334", "\u093c", "\u094d", "\u0327", "\u031b", "\u0323", "\u0301", "\u0308", "\u0315",
         "\u0345", "\u3099", "\U0001d165", "\u1161", "\u11a8", "\u0b3e", "\u0cd5", "\u0dcf"]
DECOMPOSABLE = [c for c in ALL if unicodedata.decomposition(c) or 0xAC00 <= ord(c) <= 0xD7A3]


def compiled(strings: list[str | None], form: str, type_=pa.large_string()) -> list[str | None]:
    out = uf.normalize_array(pa.array(strings, type_), form)
    out.validate(full=True)
    return out.to_pylist()


def expected(strings, form):
    return [None if s is None else unicodedata.normalize(form, s) for s in strings]


def assert_same(strings, form):
    got, want = compiled(strings, form), expected(strings, form)
    wrong = [(s, g, w) for s, g, w in zip(strings, got, want) if g != w]
    assert not wrong, (form, len(wrong), [tuple(map(ascii, x)) for x in wrong[:5]])


@pytest.mark.parametrize("form", FORMS)
def test_every_code_point_alone(form):
    assert_same(ALL, form)


@pytest.mark.parametrize("form", FORMS)
def test_every_code_point_before_a_combining_mark(form):
    assert_same([c + "\u0301" for c in ALL], form)
    assert_same([c + MARKS[i % len(MARKS)] for i, c in enumerate(ALL)], form)


@pytest.mark.parametrize("form", FORMS)
def test_every_decomposable_code_point_among_marks_and_jamo(form):
    strings = [p + c + m for c in DECOMPOSABLE for p, m in (("", ""), ("a", "\u0301"), ("\u1100", ""),
                                                            ("", "\u0323\u0301"), ("\u0301", "\u0327"))]
    strings += [c + m for c in DECOMPOSABLE for m in MARKS]
    assert_same(strings, form)


def test_boundaries_are_what_the_windows_need():
    # a code point without the unsafe flag starts a window: class 0, its own form, and the
    # first code point of its decomposition has no class and (NFC, NFKC) joins nothing before it
    seconds = set(uf._tables()["pair_second"].tolist()) | set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    for form in FORMS:
        unsafe = uf.unsafe_table(form)
        full = "NFKD" if form.startswith("NFK") else "NFD"
        for c in ALL:
            if unsafe[ord(c)]:
                continue
            assert unicodedata.combining(c) == 0 and unicodedata.normalize(form, c) == c, (form, ascii(c))
            first = unicodedata.normalize(full, c)[0]
            assert unicodedata.combining(first) == 0, (form, ascii(c))
            assert form in ("NFD", "NFKD") or ord(first) not in seconds, (form, ascii(c))
        assert not unsafe[:0x80].any()  # ASCII is passed over eight bytes at a time


def test_tables_match_unicodedata():
    t = uf._tables()
    ccc = uf.tables("NFC").ccc
    assert all(ccc[ord(c)] == unicodedata.combining(c) for c in ALL)
    for first, second, value in zip(t["pair_first"], t["pair_second"], t["pair_value"]):
        pair = chr(first) + chr(second)
        assert unicodedata.normalize("NFC", pair) == chr(value)
        assert unicodedata.normalize("NFD", chr(value)) == unicodedata.normalize("NFD", pair)


_pieces = st.one_of(
    st.sampled_from(list("abcxyz AEIOU09.-\t")),
    st.sampled_from(MARKS + ["\u0300", "\u0302", "\u0303", "\u030a", "\u0328", "\u0338", "\u05b0", "\u05bc",
                             "\u0344", "\u0f73", "\u0f75", "\u1dc0"]),
    st.sampled_from(list("éÅçøñǖǘẛṩḝ\u212b\u212a\u2126\u0958\u2adc\u1e9b\ufb2c\U0001d160")),
    st.integers(0x1100, 0x1112).map(chr), st.integers(0x1161, 0x1175).map(chr), st.integers(0x11A7, 0x11C3).map(chr),
    st.integers(0xAC00, 0xD7A3).map(chr),
    st.sampled_from(list("ﬁ①²ＡｱＡ\u00a0\u00a8\u3000\ufdfa\u1e9b\u0149")),
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
)
_strings = st.lists(st.one_of(st.none(), st.lists(_pieces, max_size=30).map("".join)), max_size=20)


@settings(max_examples=examples(5), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strings=_strings, large=st.booleans())
def test_random_strings_of_letters_marks_and_jamo(strings, large):
    type_ = pa.large_string() if large else pa.string()
    for form in FORMS:
        assert compiled(strings, form, type_) == expected(strings, form)


def test_long_windows_and_lengthening_rows_grow_the_buffers():
    # a window of hundreds of marks (reordered) outgrows the scratch buffer, and NFKC of U+FDFA
    # (18 code points) outgrows the output: the kernel stops at that row and goes on with more room
    strings = ["a" + "\u0301\u0323" * 400 + "b", "x", "\ufdfa" * 3000, None, "e\u0301" * 5000, "\U0001d160" * 999]
    for form in FORMS:
        for type_ in (pa.string(), pa.large_string()):
            assert compiled(strings, form, type_) == expected(strings, form)


def test_nulls_slices_and_unchanged_arrays():
    data = "ab".encode() + b"\xff\xfe" + "e\u0301".encode()  # a null slot over invalid bytes is never read
    arr = pa.Array.from_buffers(pa.string(), 3, [pa.py_buffer(np.packbits([1, 0, 1], bitorder="little")),
                                                 pa.py_buffer(np.array([0, 2, 4, len(data)], np.int32)),
                                                 pa.py_buffer(data)])
    assert uf.normalize_array(arr, "NFC").to_pylist() == ["ab", None, "\u00e9"]
    values = pa.array(["x", "e\u0301", None, "\u212b", "plain"])
    assert uf.normalize_array(values.slice(1), "NFC").to_pylist() == ["\u00e9", None, "\u00c5", "plain"]
    plain = pa.array(["already normal", "\u00e9t\u00e9", None])
    assert uf.normalize_array(plain, "NFC") is plain
    assert uf.normalize_array(pa.array([], pa.string()), "NFD").to_pylist() == []
    with pytest.raises(ValueError, match="unknown normal form"):
        uf.normalize_array(plain, "NFX")


def test_tables_kept_on_disk_are_the_tables_built(tmp_path, monkeypatch):
    built = uf._build()
    monkeypatch.setattr(jit.numba.config, "CACHE_DIR", str(tmp_path))
    uf._tables.cache_clear()
    try:
        written = uf._tables()
        [path] = tmp_path.glob("unicode_forms.*.npz")
        uf._tables.cache_clear()
        read = uf._tables()
        path.write_bytes(b"not a table")
        uf._tables.cache_clear()
        rebuilt = uf._tables()
    finally:
        uf._tables.cache_clear()
    for tables in (written, read, rebuilt):
        assert tables.keys() == built.keys()
        assert all(np.array_equal(tables[k], built[k]) for k in built)
    assert not list(tmp_path.glob("*.tmp"))
