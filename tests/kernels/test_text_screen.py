"""The row screens of dsc.kernels.text: the compiled normaliser runs only on the rows holding a code
point that can be out of the form, found by the same compiled pass that edits the bytes, and the
result equals the plain-Python definition of each step on every row, whether few rows need the
normaliser (spliced back) or most do (run on the whole array)."""
from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsc.kernels import jit, text, unicode_forms
from dsc.kernels.text import normalize
from hypothesis_budget import examples
from test_text import SPECIAL, STEPS, reference

CHAIN = ["nfc", "strip_control", "collapse_whitespace", "strip"]
WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]
CONTROLS = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000
            and unicodedata.category(chr(c)) in ("Cc", "Cf")]
MARKS = [chr(c) for c in range(0x300, 0x370)] + ["\u0345", "\u05b0", "\u093c", "\u3099", "\U0001d165"]
# Hangul jamo compose into syllables; Angstrom and Kelvin are singletons NFC replaces.
TRICKY = ["\u1100", "\u1161", "\u11a8", "\uac00", "\u212b", "\u212a", "\u0f73", "\u0344"]


def test_the_form_screen_covers_every_code_point_the_form_changes_alone():
    for form in ("NFC", "NFKC"):
        unsafe = text._form_unsafe_table(form)
        for c in range(0x80, 0x110000):
            if 0xD800 <= c < 0xE000:
                continue
            ch = chr(c)
            if not unicodedata.is_normalized(form, ch) or unicodedata.combining(ch):
                assert unsafe[c], (form, hex(c))
        assert not unsafe[: 0x80].any()  # ASCII rows never open a normalisation window


def test_text_without_a_screened_code_point_is_already_in_form():
    safe = np.flatnonzero(~text._form_unsafe_table("NFKC"))
    safe = safe[(safe < 0xD800) | (safe >= 0xE000)]
    rng = np.random.default_rng(7)
    rows = ["".join(map(chr, rng.choice(safe, 40))) for _ in range(2000)]
    for form in ("NFC", "NFKC"):
        assert [unicodedata.normalize(form, r) for r in rows] == rows


def test_controls_are_boundaries_the_forms_never_change_or_create():
    # what lets rows needing a form have their controls removed first and be normalised once
    chars = text._all_chars()
    cps = text._code_points()
    arr = pa.array(list(chars), pa.large_string())
    controls = text._control_table()[cps]
    for form in ("NFC", "NFKC"):
        assert not (text._form_unsafe_table(form) & text._control_table()).any(), form
        normal = pa.array([unicodedata.normalize(form, c) for c in chars], pa.large_string())
        _, flags = text._rewrite(normal, text._Edits(True, False, False))
        holds_control = (flags & text._EDITED).astype(bool)
        assert np.array_equal(holds_control, controls), form  # only a control's form holds one
        assert pc.all(pc.equal(normal.filter(pa.array(controls)), arr.filter(pa.array(controls)))).as_py()


def test_screens_find_exactly_the_rows_a_step_changes():
    rows = ["plain words", "two  spaces", "tab\there", "nbsp\u00a0x", "zw\u200bj", "bell\x07", "e\u0301",
            "\u212b", "한국어", "  edge", None, "edge ", "\u3000", ""]
    arr = pa.array(rows)
    nfc = text._form_unsafe_table("NFC")

    def flagged(edits, bit, form=None):
        return (text._rewrite(arr, edits, form)[1] & bit).astype(bool).tolist()

    assert flagged(text._Edits(False, True, False), text._EDITED) == [
        False, True, True, True, False, False, False, False, False, True, False, False, True, False]
    assert flagged(text._Edits(True, False, False), text._EDITED) == [False] * 4 + [True, True] + [False] * 8
    assert flagged(text._Edits(False, False, True), text._EDITED) == [False] * 9 + [True, False, True, True, False]
    # the editing pass flags the same rows as the screen alone, whatever it edits
    unsafe = flagged(text._Edits(True, True, True), text._UNSAFE, "NFC")
    nonascii, held = text._holding(arr, nfc)
    assert unsafe == held.tolist() == [False] * 6 + [True, True] + [False] * 6
    assert nonascii.tolist() == [False, False, False, True, True, False, True, True, True, False, False, False,
                                True, False]


@pytest.mark.parametrize("share", [0.0, 0.01, 0.3, 0.9, 1.0])
def test_few_or_most_rows_needing_a_step_give_the_reference(share):
    # below text._MOSTLY the changed rows are filtered, rewritten and spliced back; above it the
    # whole array is rewritten: both must give each row's reference value, nulls included
    rng = np.random.default_rng(int(share * 100))
    dirty = ["a \u00a0\tb\x07\u200b e\u0301 ", "\u212b\r\n x", "\x00\x1f  ", "Å\u0327\u0316 \u3000"]
    rows = [None if i % 17 == 0 else (dirty[i % 4] if rng.random() < share else f"clean row {i}")
            for i in range(400)]
    for steps in (CHAIN, ["nfkc", "strip_control", "casefold"], ["collapse_whitespace"], ["strip_control"]):
        out = normalize(pa.array(rows, pa.large_string()), steps)
        out.validate(full=True)
        assert out.to_pylist() == [reference(r, steps) for r in rows]


_chars = st.one_of(st.sampled_from(SPECIAL + WHITESPACE + MARKS + TRICKY), st.sampled_from(CONTROLS),
                   st.characters(codec="utf-8", exclude_categories=("Cs",)))
_row = st.one_of(st.none(), st.text(alphabet=_chars, max_size=30), st.sampled_from(["plain", "", "x y"]))


@settings(max_examples=examples(3), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_row, max_size=40), steps=st.lists(st.sampled_from(STEPS), unique=True),
       start=st.integers(0, 3))
def test_the_compiled_chain_is_the_plain_python_definition_of_each_step(rows, steps, start):
    # arbitrary Unicode: every whitespace kind, every control, combining marks, astral
    # characters, empty strings and nulls, in a slice starting anywhere
    out = normalize(pa.array(rows, pa.string()).slice(start), steps)
    out.validate(full=True)
    assert out.to_pylist() == [reference(r, steps) for r in rows[start:]]


def test_many_small_chunks_are_normalised_together_and_keep_their_layout():
    rows = ["a  b", None, "e\u0301\x07", "\u3000x ", "plain"]
    chunks = [pa.array(rows[i % 5 : i % 5 + 1], pa.string()) for i in range(200)] + [pa.array([], pa.string())]
    out = normalize(pa.chunked_array(chunks), CHAIN)
    assert [len(c) for c in out.chunks] == [len(c) for c in chunks]
    assert out.to_pylist() == [reference(r, CHAIN) for c in chunks for r in c.to_pylist()]


def test_tables_kept_on_disk_are_the_tables_built(tmp_path, monkeypatch):
    # what the process reads back equals what it would build, and a damaged file is rebuilt
    monkeypatch.setattr(jit.numba.config, "CACHE_DIR", str(tmp_path))
    built = text._whitespace_table.build()
    written = text._kept_on_disk(text._whitespace_table.build)()
    [path] = tmp_path.glob("_whitespace_table.*.npz")
    read = text._kept_on_disk(text._whitespace_table.build)()
    path.write_bytes(b"not a table")
    rebuilt = text._kept_on_disk(text._whitespace_table.build)()
    for table in (written, read, rebuilt):
        assert np.array_equal(table, built) and not table.flags.writeable
    assert not list(tmp_path.glob("*.tmp"))


def test_whitespace_and_controls_compose_with_nothing():
    # what lets the editing pass start a window right after a whitespace character, with the
    # edit state it has, and rewind over the last character written otherwise: no whitespace or
    # control character is the first of a composition, and no composite is whitespace
    tables = unicode_forms._tables()
    firsts = set(tables["pair_first"].tolist()) | set(range(0x1100, 0x1113)) | set(range(0xAC00, 0xD7A4))
    spaces_and_controls = set(map(ord, WHITESPACE)) | set(map(ord, CONTROLS))
    assert not firsts & spaces_and_controls
    assert not any(chr(c).isspace() for c in tables["pair_value"].tolist())
    for form in ("NFC", "NFKC"):  # and a safe character's form starts with what it is
        unsafe = text._form_unsafe_table(form)
        for c in spaces_and_controls:
            if not unsafe[c]:
                assert unicodedata.normalize(form, chr(c)) == chr(c)


def test_a_long_row_of_marks_and_controls_in_one_window():
    # the editing pass's general window (many marks to reorder, controls dropped inside it, a
    # form that lengthens the text) and the simple one (a letter and a mark), side by side
    rows = ["a" + "\u0301\x07\u0323" * 300 + " e\u0301 \u0958\u00a0\u2000x", "\ufdfa\u3000 \ufdfa", "ab\u200b\u0301"]
    for steps in (CHAIN, ["nfkc", "strip_control", "collapse_whitespace"], ["nfc", "strip"]):
        out = normalize(pa.array(rows, pa.string()), steps)
        out.validate(full=True)
        assert out.to_pylist() == [reference(r, steps) for r in rows]


def _word(byte: int, at: int, fill: int = ord("a")) -> np.uint64:
    """Eight bytes of ``fill`` with ``byte`` at ``at`` (little-endian, as load8 reads them)."""
    raw = bytearray([fill] * 8)
    raw[at] = byte
    return np.frombuffer(bytes(raw), "<u8")[0]


def test_the_run_masks_are_exact_per_byte():
    # every byte value at every position of a word, among fills that are in the run or not:
    # the masks flag exactly that byte by its definition, and no carry marks a neighbour
    def run_byte(b, controls):
        return b < 0x80 and (b < 0x21 or b == 0x7F if controls else chr(b).isspace())

    def space_byte(b, controls):
        return b < 0x80 and chr(b).isspace() and not (controls and b not in (0x09, 0x0A, 0x20))

    for fill in (ord("a"), ord(" "), 0x00, 0x7F, 0xC3, 0x09):
        for controls in (True, False):
            for at in range(8):
                for byte in range(256):
                    w = _word(byte, at, fill)
                    raw = bytes(np.array([w], "<u8").view(np.uint8))
                    run = int(text._ascii_run(w, np.uint64(text._unusual_bytes(w)), controls))
                    space = int(text._ascii_space(w, controls))
                    assert run == sum(0x80 << 8 * k for k, b in enumerate(raw) if run_byte(b, controls))
                    assert space == sum(0x80 << 8 * k for k, b in enumerate(raw) if space_byte(b, controls))
