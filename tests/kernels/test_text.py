"""Tests for dsc.kernels.text.normalize."""

from __future__ import annotations

import itertools
import re
import unicodedata

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsc.kernels.text import NORMALIZE_STEPS, normalize
from hypothesis_budget import examples

# The steps this module defines and `reference` states; `fix_text` (ftfy's repairs, run before
# them) is dsc.kernels.repair's and is tested there.
STEPS = tuple(s for s in NORMALIZE_STEPS if s != "fix_text")

# Characters that exercise every branch: ASCII and Unicode whitespace,
# controls kept and removed, format characters, combining marks, and letters
# whose case folding differs from lowercasing or changes byte length.
SPECIAL = list(
    " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
    "\x00\x01\x1b\x7f\x9f\u00ad\u200b\u200d\u2060\ufeff\U000e0041"
    "\u0301\u0345\u030cßẞΣσςİıﬁﬀŉǰǅ\u212b\u212a\u2126①²ⅫＡａ\u00a8\u037aAZaz09"
)


def reference(s: str | None, steps) -> str | None:
    """Plain-Python statement of the documented behaviour."""
    if s is None:
        return None
    form = "NFKC" if "nfkc" in steps else "NFC" if "nfc" in steps else None
    if form:
        s = unicodedata.normalize(form, s)
    if "strip_control" in steps:
        s = "".join(c for c in s if c in "\t\n" or unicodedata.category(c) not in ("Cc", "Cf"))
        if form:
            s = unicodedata.normalize(form, s)
    if "collapse_whitespace" in steps:
        s = re.sub(r"\s+", " ", s)
    if "strip" in steps:
        s = s.strip()
    if "casefold" in steps:
        s = s.casefold()
        if form:
            s = unicodedata.normalize(form, s)
    return s


def norm(values, steps, type_=pa.large_string()):
    out = normalize(pa.array(values, type_), steps)
    out.validate(full=True)
    return out.to_pylist()


@pytest.mark.parametrize(
    "steps, given_, expected",
    [
        (["nfc"], "e\u0301 A\u030a", "é Å"),
        (["nfc"], "ﬁ", "ﬁ"),  # NFC keeps compatibility characters
        (["nfkc"], "ﬁ ① x² Ａ", "fi 1 x2 A"),
        (["nfkc"], "a\u00a0b", "a b"),
        (["strip_control"], "a\x00b\x7fc\x9fd\u200be\u00adf\ufeffg", "abcdefg"),
        (["strip_control"], "line\r\n\tindent", "line\n\tindent"),  # \t and \n are kept
        # a row both normalised and stripped of ASCII and other controls
        (["nfc", "strip_control"], "e\u0301 \x00x\x07", "\u00e9 x"),
        (["strip_control"], "flag\U000e0067\U000e007f", "flag"),  # tag characters are Cf
        (["collapse_whitespace"], "a \u00a0\t\n b\u3000\u2003c", "a b c"),
        (["collapse_whitespace"], "\n\n a  b \t", " a b "),  # ends are kept, as one space
        (["collapse_whitespace"], "x\x1c\x1dy\x85z", "x y z"),  # str.isspace whitespace
        (["collapse_whitespace"], "zero\u200bwidth", "zero\u200bwidth"),  # not whitespace
        (["strip"], " \t a  b \n\u2003", "a  b"),
        (["strip"], "\u3000\u00a0x\u0085", "x"),
        (["casefold"], "Straße", "strasse"),
        (["casefold"], "ẞ ΣΑΣ ς ﬁ", "ss σασ σ fi"),
        (["casefold"], "İstanbul", "i\u0307stanbul"),
        (["casefold"], "\u01c5 \u212a \u2126 \u01f0", "\u01c6 k \u03c9 j\u030c"),
        (["casefold"], "MIXED ascii", "mixed ascii"),
        # folding un-normalises ('ss\u0301'), so NFC is applied again: 's' + 'ś'
        (["nfc", "casefold"], "ß\u0301", "s\u015b"),
        (["collapse_whitespace", "strip", "casefold"], "  Hello,\n\n  WORLD\t ", "hello, world"),
    ],
)
def test_step_examples(steps, given_, expected):
    assert norm([given_], steps) == [expected]
    assert norm([given_], steps, pa.string()) == [expected]


def test_steps_apply_in_canonical_order_whatever_the_argument_order():
    values = ["  ＡＢ\u00a0\u00a0Ç\u200b\tß\u0301 ", "Ｘ\x00 Ｙ", None, ""]
    results = {tuple(norm(values, perm)) for perm in itertools.permutations(STEPS)}
    assert results == {tuple(reference(v, STEPS) for v in values)}


def test_no_steps_and_nothing_to_do_return_the_input():
    arr = pa.array(["already plain text", "x y"])
    assert normalize(arr, []) is arr
    assert normalize(arr, ["collapse_whitespace", "strip", "strip_control", "nfc"]) is arr


def test_nulls_stay_null_and_types_are_kept():
    for type_ in (pa.string(), pa.large_string()):
        arr = pa.array([None, " A\tB ", None, "", "c"], type_)
        out = normalize(arr, NORMALIZE_STEPS)
        assert out.type == type_
        assert out.to_pylist() == [None, "a b", None, "", "c"]
        assert out.null_count == 2
    assert normalize(pa.array([None, None], pa.string()), ["casefold"]).to_pylist() == [None, None]
    assert normalize(pa.array([], pa.string()), ["casefold"]).to_pylist() == []


def test_sliced_input():
    arr = pa.array(["skip\n me", " Two\t Words ", None, "ÉCOLE  x"]).slice(1, 3)
    assert normalize(arr, ["collapse_whitespace", "strip", "casefold"]).to_pylist() == [
        "two words", None, "école x"
    ]


def test_chunked_array_keeps_its_chunks():
    chunks = [pa.array(["A  b", None]), pa.array([], pa.string()), pa.array(["\tC\u00a0D"])]
    out = normalize(pa.chunked_array(chunks), ["collapse_whitespace", "strip", "casefold"])
    assert isinstance(out, pa.ChunkedArray)
    assert [len(c) for c in out.chunks] == [2, 0, 1]
    assert out.to_pylist() == ["a b", None, "c d"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown normalisation steps"):
        normalize(pa.array(["x"]), ["lowercase"])
    with pytest.raises(TypeError):
        normalize(pa.array(["x"]), "casefold")
    with pytest.raises(TypeError):
        normalize(pa.array([1, 2]), ["casefold"])


def test_row_boundaries_and_slices():
    # The compiled pass walks rows end to end over one byte buffer: a whitespace run or a
    # multi-byte character at a row's end must not leak into the next row, at any slice offset.
    values = ["  A\u3000\u3000b\n\n", "ß\u00a0\u00a0é", "", None, "x\x00  y\u200b", "\t\t", "\u3000"] * 3
    arr = pa.array(values, pa.string())
    for start in range(len(values)):
        out = normalize(arr.slice(start), STEPS)
        out.validate(full=True)
        assert out.to_pylist() == [reference(v, STEPS) for v in values[start:]]


def test_bytes_under_a_null_are_never_read():
    # Arrow lets a null slot span any bytes, even invalid UTF-8: they are dropped, not decoded.
    data = "ab ".encode() + b"\xff\xfe\xf4" + " c\u3000".encode()
    offsets = np.array([0, 3, 6, len(data)], np.int32)
    validity = np.packbits([1, 0, 1], bitorder="little")
    arr = pa.Array.from_buffers(pa.string(), 3, [pa.py_buffer(validity), pa.py_buffer(offsets), pa.py_buffer(data)])
    out = normalize(arr, ["nfc", "strip_control", "collapse_whitespace", "strip"])
    out.validate(full=True)
    assert out.to_pylist() == ["ab", None, "c"]


def test_mostly_non_ascii_rows_take_the_whole_array_path():
    values = ["ΣΟΦΙΑ  Straße", "ÀB\u00a0C", "İi", "plain"]
    assert norm(values, STEPS) == [reference(v, STEPS) for v in values]


# Any code point but the surrogates, unassigned ones too: the normal forms are this Python's
# unicodedata (dsc.kernels.unicode_forms builds its tables from it), whatever Arrow's utf8proc knows.
_chars = st.one_of(
    st.sampled_from(SPECIAL),
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
)
_rows = st.lists(st.one_of(st.none(), st.text(alphabet=_chars, max_size=24)), max_size=8)
_steps = st.lists(st.sampled_from(STEPS), unique=True)


@settings(max_examples=examples(3), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows, steps=_steps, large=st.booleans())
def test_matches_reference_and_is_idempotent(rows, steps, large):
    type_ = pa.large_string() if large else pa.string()
    out = norm(rows, steps, type_)
    assert out == [reference(r, steps) for r in rows]
    assert norm(out, steps, type_) == out


def test_normal_forms_row_by_row_when_the_form_lengthens_the_text():
    # the compiled normaliser writes rows one after another into a buffer the size of the input
    # and grows it when a form lengthens the text (U+FDFA is 18 code points in NFKC, U+0958 two
    # in NFC): no row's windows may leak into the next, whatever the buffer's size
    values = ["e\u0301 x\u0327", None, "", "\u212b\u200b\u0301", "plain", "\u1100\u1161\u11a8 a\u0308",
              "\ufdfa" * 50, "\u0958" * 30, "a\u0301"] * 3
    for type_ in (pa.string(), pa.large_string()):
        for steps in (["nfc"], ["nfkc"], ["nfkc", "strip_control", "collapse_whitespace"], STEPS):
            assert norm(values, steps, type_) == [reference(v, steps) for v in values]


# The compiled pass takes a word and the run of ASCII whitespace and controls after it in one
# step, from bit masks over eight bytes, and reads a row's last bytes as a word with the next
# row's bytes masked off: every run of up to three separator characters, after words of every
# length (so at every byte of the word), at a row's end or before more text, against the
# reference, for every combination of the editing steps.
_SEPARATORS = list(" \t\n\r\x0b\x0c\x07\x00\x1c\x1f\x7f\x85\xa0\xad\u200b\u3000\u2003\u0301")
_RUNS = [""] + _SEPARATORS + [a + b for a in _SEPARATORS for b in _SEPARATORS] + [
    a + b + c for a in " \t\x07\xa0" for b in " \r\x7f\u200b" for c in " \n\x00\u3000"]


@pytest.mark.parametrize("after", ["", "xy", "\u00e9", " z"])
def test_word_and_separator_runs_at_every_offset(after):
    values = ["abcdefghij"[:n] + run + after for n in range(11) for run in _RUNS]
    values += [run + "w" + run for run in _RUNS]  # runs at a row's start and end, short rows
    arrays = [pa.array(values, type_) for type_ in (pa.string(), pa.large_string())]
    for k in range(1, 5):
        for steps in itertools.combinations(["strip_control", "collapse_whitespace", "strip", "nfc"], k):
            expected = [reference(v, steps) for v in values]
            for arr in arrays:
                out = normalize(arr, steps)
                out.validate(full=True)
                assert out.to_pylist() == expected, steps
    # the row last in the buffer is read to its end, never past it
    for v in values[-40:]:
        assert normalize(pa.array([v]), STEPS).to_pylist() == [reference(v, STEPS)]
