"""Text normalisation over Arrow string arrays (for dedupe keys), in compiled passes.

:func:`normalize` applies any subset of :data:`NORMALIZE_STEPS`, always in
that canonical order, whatever order the caller lists them in:

``nfc`` / ``nfkc``
    Unicode normal forms, exactly ``unicodedata.normalize`` (this Python's
    Unicode version, not Arrow's utf8proc, which may be newer), computed by
    :mod:`dsc.kernels.unicode_forms`.  ``nfkc`` implies ``nfc``.  Rows go to
    the normaliser only if they hold a code point that can be out of the
    form (pure-ASCII rows, and most text, never do).
``strip_control``
    Removes every character of general category Cc (C0/C1 controls, DEL)
    or Cf (format: soft hyphen, zero-width space/joiners, bidi marks, BOM,
    tag characters, ...), *except* ``\\t`` and ``\\n``, which instruction data
    uses for layout (``collapse_whitespace`` folds them when asked to).  So
    ``\\r\\n`` becomes ``\\n``.  Removing a control can leave a base letter
    next to a combining mark; rows where that happens are normalised again
    when ``nfc``/``nfkc`` was asked for, so the output stays in that form.
``collapse_whitespace``
    Every run of whitespace becomes one ASCII space.  Whitespace is what
    ``str.isspace`` / ``str.split()`` call whitespace (identical to Arrow's
    ``utf8_is_space``): ``\\t \\n \\v \\f \\r``, ``\\x1c``-``\\x1f``, space,
    U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F
    and U+3000.  Zero-width characters (U+200B, U+FEFF, ...) are not
    whitespace; ``strip_control`` removes them.
``strip``
    Trims leading and trailing whitespace (same definition).
``casefold``
    Full Unicode case folding with ``str.casefold`` semantics (``'Straße'``
    -> ``'strasse'``, ``'ﬁ'`` -> ``'fi'``, final sigma -> sigma), which
    Arrow's ``utf8_lower`` is not.  Pure-ASCII rows use ``ascii_lower``;
    other rows use ``utf8_lower`` when every code point in them folds the
    same way under both (checked with a per-code-point table built once per
    process), and Python's ``str.casefold`` otherwise.  Folding can leave
    text out of normal form (``'ß\\u0301'`` folds to ``'ss\\u0301'``), so with
    ``nfc``/``nfkc`` the folded rows are normalised once more, as Unicode's
    canonical caseless matching does.

Nulls stay null.  The result is idempotent: normalising twice gives the
same as normalising once.

How (issue 22: the chain at the cost of one or two Arrow kernels).  ``strip_control``,
``collapse_whitespace`` and ``strip`` are one compiled pass over the UTF-8 bytes (:func:`_edit`,
a numba :func:`dsc.kernels.jit.kernel`): printable ASCII with single spaces is tested and
copied eight bytes at a time, a run of whitespace is taken at once, and any other character is
decoded, looked up in one per-code-point class table (:func:`_classes`, from
:func:`_control_table`, :func:`_whitespace_table` and :func:`_form_unsafe_table`) and written
or dropped.  The same pass flags the rows holding a code point that can be out of the normal
form (Unicode's quick check): almost all text is in NFC already, so only those rows are taken
again and go through the same kernel compiled with normalisation windows: at an unsafe code
point it goes back to the last normalisation boundary and normalises the few characters up to
the next one (:mod:`dsc.kernels.unicode_forms`: Unicode's algorithm over tables built from
``unicodedata``; a letter and one mark are composed in place), whose result then goes through
the same edits; they are spliced back.  Text mostly out of the form (NFD) goes through that
kernel whole.  An array no step changes is returned as is.  The tables are built once per
machine and kept beside numba's
cache (:func:`_kept_on_disk`), keyed by this file's source and the Arrow and Unicode versions.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.kernels import unicode_forms
from dsc.kernels.buffers import utf8_buffers
from dsc.kernels.jit import decode, kept_on_disk, kernel, load8, store8, trailing_zeros
from dsc.kernels.unicode_forms import normalize_array, put_utf8, same_bytes, simple_pair, unsafe_table, window
from dsc.vocabulary import NORMALIZE_STEPS

__all__ = ["NORMALIZE_STEPS", "normalize"]


_SPACE = 0x20
_MOSTLY = 0.5  # above this share of rows a step changes, run it on the whole array


def normalize(arr: pa.Array | pa.ChunkedArray, steps: Sequence[str]) -> pa.Array | pa.ChunkedArray:
    """Apply normalisation ``steps`` (in canonical order) to a string column.

    Accepts ``string`` and ``large_string`` arrays or chunked arrays and
    returns the same kind and type.  See the module docstring for what each
    step does.

    >>> import pyarrow as pa
    >>> arr = pa.array(["  Straße\\u00a0 ist\\n\\tGROSS ", None, "ﬁne\\u200b"])
    >>> normalize(arr, ["casefold", "strip", "collapse_whitespace"]).to_pylist()
    ['strasse ist gross', None, 'fine\\u200b']
    >>> normalize(arr, ["nfkc", "strip_control"]).to_pylist()[2]
    'fine'
    """
    if isinstance(steps, str):
        raise TypeError("steps must be a sequence of step names, not a string")
    unknown = sorted(set(steps) - set(NORMALIZE_STEPS))
    if unknown:
        raise ValueError(f"unknown normalisation steps {unknown}; expected some of {NORMALIZE_STEPS}")
    wanted = set(steps)
    if "fix_text" in wanted:  # ftfy's repairs come first, before any normal form
        from dsc.kernels.repair import fix_text

        arr = fix_text(arr)
    if isinstance(arr, pa.ChunkedArray):
        _check_type(arr.type)
        return _normalize_chunks(arr, wanted)
    if not isinstance(arr, pa.Array):
        raise TypeError(f"expected a pyarrow Array or ChunkedArray, got {type(arr).__name__}")
    _check_type(arr.type)
    return _normalize_array(arr, wanted)


def _normalize_chunks(arr: pa.ChunkedArray, wanted: set[str]) -> pa.ChunkedArray:
    """Each chunk normalised, the chunk layout kept.

    Small chunks are normalised together (one copy, then zero-copy slices back to the
    original lengths): each call has a fixed cost (Python, Arrow's filter and splice) that
    would dominate a column of many small chunks.
    """
    if arr.num_chunks > 1 and len(arr) < _SMALL_CHUNK * arr.num_chunks:
        whole = _normalize_array(arr.combine_chunks(), wanted)
        bounds = np.cumsum([0] + [len(c) for c in arr.chunks]).tolist()
        return pa.chunked_array([whole.slice(a, b - a) for a, b in zip(bounds, bounds[1:])], type=arr.type)
    return pa.chunked_array([_normalize_array(c, wanted) for c in arr.chunks], type=arr.type)


_SMALL_CHUNK = 1 << 14  # rows: chunks shorter than this on average are normalised together


def _check_type(t: pa.DataType) -> None:
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise TypeError(f"normalize needs a string or large_string column, got {t}")


def _normalize_array(arr: pa.Array, wanted: set[str]) -> pa.Array:
    if len(arr) == 0 or arr.null_count == len(arr):
        return arr
    form = "NFKC" if "nfkc" in wanted else "NFC" if "nfc" in wanted else None
    edits = _Edits("strip_control" in wanted, "collapse_whitespace" in wanted, "strip" in wanted)
    if form:
        arr = _form_and_edits(arr, form, edits)
    elif edits.any:
        arr = _rewrite(arr, edits)[0]
    if "casefold" in wanted:
        arr = _casefold(arr)
        if form:  # folding can un-normalise: 'ß' + U+0301 -> 'ss' + U+0301, whose NFC is 's' + 'ś'
            arr = _to_form(arr, form)
    return arr


class _Edits:
    """Which of the byte steps to apply (in the canonical order: controls, runs, ends)."""

    def __init__(self, controls: bool, collapse: bool, strip: bool):
        self.controls, self.collapse, self.strip = controls, collapse, strip
        self.any = controls or collapse or strip


def _form_and_edits(arr: pa.Array, form: str, edits: _Edits) -> pa.Array:
    """Normal ``form``, then ``edits``: the edits in one compiled pass over every row, which
    also flags the rows holding a code point that can be out of the form; those rows are taken
    again from ``arr``, normalised and edited in one pass (:func:`_edit` with ``windows``), and
    spliced back.  When most of the first rows are flagged (text mostly not in the form), the
    first pass gives up and every row goes the second way, which then costs no splice; either
    way the bytes are the same.  (The first pass is the same kernel compiled without the
    normalising windows: with them, it copies plain text a fifth slower.)

    As the steps are defined, a row is normalised, its controls removed, and normalised again
    (removing a control can put a combining mark next to a new base letter), then its
    whitespace collapsed.  Controls are normalisation boundaries that the forms never change
    or create (``tests/kernels/test_text_screen.py`` checks this over every code point), so
    normalising before removing them adds nothing: removing them first and normalising once
    gives the same text, and the second pass does both, window by window.
    """
    if not edits.any:
        return _to_form(arr, form)
    out, flags = _rewrite(arr, edits, form, give_up=True)
    if out is None:
        return _rewrite(arr, edits, form, windows=True)[0]
    unsafe = (flags & _UNSAFE).astype(bool)
    if not unsafe.any():
        return out
    mask = pa.array(unsafe)
    return pc.replace_with_mask(out, mask, _rewrite(arr.filter(mask), edits, form, windows=True)[0])


# ---------------------------------------------------------------------------
# Arrays from buffers, rows spliced


def _rebuild(arr: pa.Array, off: np.ndarray, data: np.ndarray) -> pa.Array:
    """A new array of ``arr``'s type and validity over new offsets and bytes."""
    validity = arr.is_valid().buffers()[1] if arr.null_count else None
    return pa.Array.from_buffers(arr.type, len(arr), [validity, pa.py_buffer(off), pa.py_buffer(data)])


def _on_rows(arr: pa.Array, rows: np.ndarray, fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``arr`` with ``fn`` applied to the selected rows only."""
    if not rows.any():
        return arr
    if rows.mean() > _MOSTLY:  # cheaper to run fn over everything than to splice
        return fn(arr)
    mask = pa.array(rows)
    return pc.replace_with_mask(arr, mask, fn(arr.filter(mask)))


def _valid(arr: pa.Array) -> np.ndarray:
    """Bool per row: not null (the kernels never read a null row's bytes, which may be anything)."""
    if not arr.null_count:
        return np.ones(len(arr), dtype=bool)
    return arr.is_valid().to_numpy(zero_copy_only=False)


# ---------------------------------------------------------------------------
# The compiled passes


def _holding(arr: pa.Array, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bool per row: holds a non-ASCII character; holds a character whose code point is set in
    ``table`` (the first is sure only where the second is False)."""
    off, data = utf8_buffers(arr)
    flags = np.zeros(len(arr), dtype=np.uint8)
    ascii_too = bool(table[:0x80].any())
    if table[0x21:0x7F].any():
        raise ValueError("_holding's table may not hold printable ASCII (the screen skips it)")
    _screen(off, data, _valid(arr), table, ascii_too, flags)
    return (flags & _NON_ASCII).view(bool), (flags & _IN_TABLE).astype(bool)


_NON_ASCII, _IN_TABLE = 1, 2  # bits of a row's flags from _screen
_EDITED, _UNSAFE = 1, 2  # bits of a row's flags from _edit


@kernel
def _screen(off: np.ndarray, data: np.ndarray, valid: np.ndarray, table: np.ndarray, ascii_too: bool,
            flags: np.ndarray) -> None:
    """flags[row]: _NON_ASCII if the row holds a non-ASCII character, | _IN_TABLE if one of them
    (or, with ``ascii_too``, any character) is set in ``table``; the row's scan stops there,
    so _NON_ASCII is only sure without _IN_TABLE. Eight bytes at a time are passed over when
    they are ASCII (``ascii_too``: printable ASCII other than ' ', which the table must not hold)."""
    for row in range(off.size - 1):
        if not valid[row]:
            continue
        i, end, f = off[row], off[row + 1], 0
        while i < end:
            if i + 8 <= end:
                w = load8(data, i)
                if (_unusual_bytes(w) if ascii_too else w & _HIGH) == 0:  # eight bytes the table has not
                    i += 8
                    continue
            if data[i] < 0x80:
                if ascii_too and table[data[i]]:
                    f |= _IN_TABLE
                    break
                i += 1
                continue
            cp, width = decode(data, i)
            f = _NON_ASCII
            if table[cp]:
                f |= _IN_TABLE
                break
            i += width
        flags[row] = f


def _rewrite(arr: pa.Array, edits: _Edits, form: str | None = None, windows: bool = False,
             give_up: bool = False) -> tuple[pa.Array | None, np.ndarray]:
    """``arr`` with ``edits`` applied, and with ``windows`` in normal ``form`` too, in one
    compiled pass (itself when no row changes), and flags per row (_EDITED, and with ``form``
    _UNSAFE: see :func:`_edit`).

    With ``give_up`` (and no ``windows``), None instead of the array when most of the first
    :data:`_SAMPLE` rows hold a code point that can be out of ``form``.
    """
    off, data = utf8_buffers(arr)
    t = unicode_forms.tables(form or "NFC")  # read only with windows
    width = np.int32 if pa.types.is_string(arr.type) else np.int64
    # without windows the output is never longer than the input: its offsets fit arr's type
    out, out_off = np.empty(data.size + 64, np.uint8), np.empty(len(arr) + 1, np.int64 if windows else width)
    buf, flags, edited = np.empty(256, np.int32), np.zeros(len(arr), dtype=np.uint8), np.zeros(1, np.int64)
    valid, classes, row = _valid(arr), _classes(form), 0
    sample = min(len(arr), _SAMPLE) if give_up and form and not windows else 0
    out_off[0] = 0
    while True:  # the pass stops at a row whose normal form does not fit: more room, and on
        # windows is None, not False, without them: numba then compiles the kernel without them
        row = _edit(off, data, valid, classes, edits.controls, edits.collapse, edits.strip,
                    True if windows and form else None, t.ccc, t.decomp, t.data, t.pair_keys, t.pair_values,
                    t.compose, sample, out, out_off, buf, row, flags, edited)
        if row < 0:
            return None, flags
        if row == len(arr):
            break
        bigger = np.empty(2 * out.size, np.uint8)
        bigger[: out_off[row]] = out[: out_off[row]]
        out, buf = bigger, np.empty(2 * buf.size, np.int32)
    if not edited[0]:
        return arr, flags
    if out_off[-1] > np.iinfo(width).max:  # NFKC can lengthen text past a string array's offsets
        raise OverflowError(f"{form} text of {out_off[-1]} bytes does not fit a {arr.type} array; use large_string")
    return _rebuild(arr, out_off.astype(width, copy=False), out[: out_off[-1]]), flags


_SAMPLE = 4096  # rows: when most of the first ones need the normaliser, all rows go to it


_ONES = np.uint64(0x0101010101010101)
_HIGH = np.uint64(0x8080808080808080)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_SPACES = np.uint64(0x2020202020202020)
_U8, _U56 = np.uint64(8), np.uint64(56)
_ONE = np.uint64(1)


@kernel
def _unusual_bytes(w: np.uint64) -> np.uint64:
    """0x80 in each byte of ``w`` that is not printable ASCII other than ' ' (0x21-0x7E): exact
    per byte, with no carry between bytes, so the lowest one is the first byte to look at."""
    below = ~((w | _HIGH) - _ONES * np.uint64(0x21))  # high bit where (b & 0x7F) < 0x21
    return (below | w | ((w & _LOW7) + _ONES)) & _HIGH  # or b >= 0x80, or (b & 0x7F) == 0x7F


@kernel
def _plain_word(w: np.uint64) -> tuple[bool, np.uint64]:
    """Whether all 8 bytes are printable ASCII (0x20-0x7E), and the mask of the spaces among them
    (0x80 in each byte that is ' '): the test for a word the edits may copy as it is."""
    low = (w - _ONES * np.uint64(0x20)) & ~w  # high bit where a byte < 0x20 (valid when none >= 0x80)
    high = (w + _ONES) | w  # high bit where a byte >= 0x7F
    t = w ^ _SPACES
    spaces = ~(((t & _LOW7) + _LOW7) | t) & _HIGH
    return ((low | high) & _HIGH) == 0, spaces


@kernel
def _in_range(w7: np.uint64, lo: int, hi: int) -> np.uint64:
    """0x80 in each byte of ``w7`` (bytes below 0x80) within lo..hi: ``b + 0x80 - lo`` has its high
    bit set when b >= lo, ``b + 0x7F - hi`` when b > hi, and neither sum carries into the next byte."""
    return (w7 + _ONES * np.uint64(0x80 - lo)) & ~(w7 + _ONES * np.uint64(0x7F - hi)) & _HIGH


@kernel
def _ascii_run(w: np.uint64, unusual: np.uint64, controls: bool) -> np.uint64:
    """0x80 in each byte of ``w`` that a whitespace run takes in (``unusual`` is
    :func:`_unusual_bytes` of ``w``): with ``controls``, every ASCII byte below '!' and DEL (each
    whitespace or a control dropped); without, the ASCII whitespace (tab to carriage return,
    0x1C to space). Exact per byte: bytes of 0x80 and above are not in it, so a run ends where
    a multi-byte character starts."""
    if controls:
        return unusual & ~w
    return _ascii_space(w, controls)


@kernel
def _ascii_space(w: np.uint64, controls: bool) -> np.uint64:
    """0x80 in each byte of ``w`` that is whitespace the edits keep: with ``controls``, tab,
    newline and space (the other ASCII whitespace is also a control, and dropped first);
    without, all of it (see :func:`_ascii_run`)."""
    w7 = w & _LOW7
    if controls:
        return (_in_range(w7, 0x09, 0x0A) | _in_range(w7, 0x20, 0x20)) & ~w
    return (_in_range(w7, 0x09, 0x0D) | _in_range(w7, 0x1C, 0x20)) & ~w


@kernel
def _edit(off, data, valid, classes, controls, collapse, strip, windows, ccc, decomp, ddata, pair_keys, pair_values,
          compose, sample, out, out_off, buf, first, flags, edited):
    """Rows ``first`` on in the normal form (with ``windows`` True; None leaves that code out of
    the compiled kernel), controls dropped, whitespace runs collapsed, ends stripped, each as
    asked, in one pass.

    Writes the rows into ``out`` / ``out_off`` (``out_off[first]`` set) and sets flags[row]:
    _EDITED if the row changed (counted in ``edited[0]``), _UNSAFE if it holds a code point
    with that class (see :func:`_classes`). Returns the row count, or the first row that did
    not fit ``out`` or whose normalisation window did not fit ``buf`` (the caller gives more
    room and calls again from there), or -1 when more than half of the first ``sample`` rows
    are _UNSAFE (it stops there). Throughout a row, ``out`` has room for the rest of the
    row's bytes as they are, so a character, or eight bytes, may be stored without a test.

    Character by character: a control is dropped; the first whitespace character of a run is
    written as ' ' (collapse) or as it is, the rest of the run dropped (collapse), and leading
    whitespace is dropped (strip); ``keep`` is where the row ends if its trailing whitespace is
    stripped. Most text is printable ASCII with single spaces, which these rules copy as it is:
    at an ASCII byte, eight such bytes are tested and copied as one word; when a word fails the
    test, the bytes before its first space or other unusual byte are copied at once, and when
    that byte starts a run of ASCII whitespace and controls (with collapse), the run is taken
    from the same word too (:func:`_ascii_run`): a word and its separator are one step, whose
    length is found from bit masks, not byte by byte (the next step's load waits on it, and a
    mix of separators would mispredict a branch per byte). Any other character goes the long
    way. The last bytes of a row are read as a word too, with the bytes past its end (the next
    row's) masked as unusual, so a row's last word is not copied a byte at a time.

    The normal form: a code point with the _UNSAFE class starts a window at the last boundary
    (:mod:`dsc.kernels.unicode_forms`), which is normalised with the controls in it dropped and
    its code points then go through the same rules. Where the window starts in the input and
    the output (``bnd_in``, ``bnd_out``) is kept as the text is copied: before the last character
    kept that is not whitespace, which is written as it is, last, and whose window starts with
    a character that is not whitespace either (it or its composite), so the edit state that
    sets is the state that character had set; or after the last whitespace character, which
    composes with nothing, so the state there is the current one (only dropped controls can lie
    between the boundary and the window). The common window, that character and one mark, is
    composed in place (:func:`dsc.kernels.unicode_forms.simple_pair`).
    """
    drop = _CONTROL if controls else 0
    pos, count = out_off[first], 0  # rows changed, added to edited[0] on return (a local stays in a register)
    unsafe_rows = 0
    for row in range(first, off.size - 1):
        if row == sample and sample > 0 and 2 * unsafe_rows > sample:
            return -1
        if not valid[row]:
            out_off[row + 1] = pos
            continue
        i, end = off[row], off[row + 1]
        if windows is not None and pos + (end - i) + 8 > out.size:  # (without, the output never grows)
            edited[0] += count
            return row
        keep, prev_space, started, change, f = pos, False, False, False, 0
        # with windows, the last boundary: where the window would start in the input and the
        # output, and its code point when that is the last character written, right before i
        bnd_in, bnd_out, bnd_cp = i, pos, np.int64(-1)
        while i < end:
            cp = np.int64(data[i])
            if cp < 0x80 and i + 8 <= data.size:
                w = load8(data, i)
                # the bytes past the row's end (the next row's, read but never used) are unusual:
                # its last word is copied in one step too, not a byte at a time
                tail = _HIGH << np.uint64(8 * (end - i)) if i + 8 > end else np.uint64(0)
                plain, spaces = _plain_word(w)
                first_space = cp == _SPACE
                last_space = (w >> _U56) == np.uint64(_SPACE)
                if plain and tail == 0 and not (strip and not started and first_space) and not (
                        collapse and ((spaces & (spaces >> _U8)) != 0 or (prev_space and first_space))) and not (
                        strip and last_space and not collapse):
                    store8(out, pos, w)
                    if windows is not None:
                        if last_space:
                            bnd_in, bnd_out, bnd_cp = i + 8, pos + 8, np.int64(-1)
                        else:
                            bnd_in, bnd_out, bnd_cp = i + 7, pos + 7, np.int64(w >> _U56)
                    pos += 8
                    i += 8
                    started = True
                    prev_space = last_space
                    # with collapse the byte before a last space is not a space
                    keep = pos - 1 if last_space else pos
                    continue
                # the bytes before the first space or unusual byte are copied as they are, and when
                # that byte starts a run of ASCII whitespace and controls (collapse), the run is taken
                # too, from the same word: one step per word and separator, not two
                unusual = _unusual_bytes(w) | tail
                n = np.int64(trailing_zeros(unusual) >> np.uint64(3))
                store8(out, pos, w)  # the bytes past n are overwritten next
                if n:
                    if windows is not None:
                        bnd_in, bnd_out, bnd_cp = i + n - 1, pos + n - 1, np.int64(data[i + n - 1])
                    pos += n
                    keep, started, prev_space = pos, True, False
                if collapse:
                    run = _ascii_run(w, unusual, controls) & ~tail
                    first = unusual & ~(unusual - _ONE)  # the high bit of byte n (unusual is not 0: w was not plain)
                    if run & first:
                        word = (unusual - _ONE) & ~unusual  # the bits of the n bytes before it
                        stop = ~run & _HIGH & ~word  # its lowest bit: the first byte past the run
                        past = np.int64(8) if stop == 0 else np.int64(trailing_zeros(stop) >> np.uint64(3))
                        single = (w >> np.uint64(8 * n)) & np.uint64(0xFF) == _SPACE  # most runs start with ' '
                        if single | ((_ascii_space(w, controls) & ~word & ((stop - _ONE) & ~stop)) != 0):
                            # a space goes out unless the row has none yet or one went out before
                            if (strip and not started) or prev_space:
                                change = True
                            else:
                                change |= past != n + 1 or not single
                                out[pos] = _SPACE
                                pos += 1
                            prev_space = True
                            if windows is not None:  # whitespace composes with nothing: a boundary after it
                                bnd_in, bnd_out, bnd_cp = i + past, pos, np.int64(-1)
                        else:  # controls only: dropped, the state unchanged
                            change = True
                            bnd_cp = -1  # the boundary stays, no longer right before what follows
                        i += past
                        continue
                i += n
                if i == end:  # the row ended in this word
                    continue
                cp = np.int64(data[i])
            width = 1
            if cp >= 0x80:
                cp, width = decode(data, i)
            c = classes[cp]
            if c == 0:  # a run of non-ASCII characters the edits keep as they are (each a boundary)
                while True:
                    last_i, last_pos, last_cp = i, pos, cp
                    # Written out here, not as a helper kernel: called, it made non-ASCII text 2x slower.
                    if i + 8 <= end:
                        store8(out, pos, load8(data, i))  # the bytes past width are overwritten next
                    else:
                        _copy(data, i, width, out, pos)
                    pos += width
                    i += width
                    if i >= end or data[i] < 0x80:
                        break
                    cp, width = decode(data, i)
                    if classes[cp] != 0:
                        break
                if windows is not None:
                    bnd_in, bnd_out, bnd_cp = last_i, last_pos, last_cp
                keep, started, prev_space = pos, True, False
                continue
            f |= c & _UNSAFE
            if c & drop:
                change = True
                bnd_cp = -1  # the boundary stays, no longer right before what follows
            elif c & _UNSAFE and windows is not None:
                # a letter written last and one mark: composed in place, or the mark copied
                comp = simple_pair(bnd_cp, cp, decomp, pair_keys, pair_values, compose) if not (
                    c & _WHITESPACE) else np.int64(-2)
                if comp != -2:
                    if comp >= 0:
                        pos = put_utf8(out, bnd_out, comp)
                        change = True
                    else:
                        _copy(data, i, width, out, pos)
                        pos += width
                    keep, started, prev_space = pos, True, False
                    bnd_cp = -1  # the boundary stays: another unsafe code point takes the general window
                    i += width
                    continue
                # the general window, from the last boundary to the next one
                j, n = window(data, bnd_in, end, classes, _UNSAFE, drop, ccc, decomp, ddata, pair_keys,
                              pair_values, compose, buf)
                if n < 0 or bnd_out + 4 * n + (end - j) + 8 > out.size:
                    edited[0] += count
                    return row
                pos = bnd_out
                for k in range(n):
                    cp = np.int64(buf[k])
                    if classes[cp] & _WHITESPACE:
                        if (strip and not started) or (collapse and prev_space):
                            change = True
                        elif collapse:
                            change |= cp != _SPACE
                            out[pos] = _SPACE
                            pos += 1
                        else:
                            pos = put_utf8(out, pos, cp)
                        prev_space = True
                    else:
                        pos = put_utf8(out, pos, cp)
                        keep, started, prev_space = pos, True, False
                if not change:  # the edits kept the window: did the form change it?
                    change = pos - bnd_out != j - bnd_in or not same_bytes(out, bnd_out, data, bnd_in, j - bnd_in)
                i = j
                bnd_in, bnd_out, bnd_cp = j, pos, np.int64(-1)  # what follows is a boundary, or the row's end
                continue
            elif c & _WHITESPACE and collapse:
                # the whole run at once: its whitespace, and the controls dropped in it
                run_changed, j = cp != _SPACE, i + width
                while j < end:
                    b = np.int64(data[j])
                    k = 1
                    if b >= 0x80:
                        b, k = decode(data, j)
                    cc = classes[b]
                    if not ((cc & _WHITESPACE and not cc & _UNSAFE) or cc & drop):
                        break
                    run_changed = True
                    j += k
                if (strip and not started) or prev_space:
                    change = True
                else:
                    change |= run_changed
                    out[pos] = _SPACE
                    pos += 1
                prev_space = True
                if windows is not None:  # whitespace composes with nothing: a boundary after it
                    bnd_in, bnd_out, bnd_cp = j, pos, np.int64(-1)
                i = j
                continue
            elif c & _WHITESPACE:
                if strip and not started:
                    change = True
                else:
                    _copy(data, i, width, out, pos)
                    pos += width
                prev_space = True
                if windows is not None:  # whitespace composes with nothing: a boundary after it
                    bnd_in, bnd_out, bnd_cp = i + width, pos, np.int64(-1)
            else:  # a control kept
                if windows is not None:
                    bnd_in, bnd_out, bnd_cp = i, pos, cp
                if i + 8 <= end:
                    store8(out, pos, load8(data, i))  # the bytes past width are overwritten next
                else:
                    _copy(data, i, width, out, pos)
                pos += width
                keep, started, prev_space = pos, True, False
            i += width
        if strip and pos != keep:
            pos, change = keep, True
        if change:
            f |= _EDITED
            count += 1
        if f & _UNSAFE:
            unsafe_rows += 1
        flags[row] = f
        out_off[row + 1] = pos
    edited[0] += count
    return off.size - 1


_CONTROL, _WHITESPACE = 1, 4  # _classes bits besides _UNSAFE (2)


@functools.cache
def _classes(form: str | None) -> np.ndarray:
    """uint8 per code point: _CONTROL (:func:`_control_table`), _WHITESPACE
    (:func:`_whitespace_table`), _UNSAFE (:func:`_form_unsafe_table` of ``form``, if any): one
    lookup per character in :func:`_edit`."""
    classes = _control_table() * np.uint8(_CONTROL) | _whitespace_table() * np.uint8(_WHITESPACE)
    if form:
        classes |= _form_unsafe_table(form) * np.uint8(_UNSAFE)
    return classes


# ---------------------------------------------------------------------------
# Normal forms, on the pieces of text that need it


def _to_form(arr: pa.Array, form: str, controls: bool = False) -> pa.Array:
    """``arr`` in normal ``form`` (with ``controls``, removed first), by the compiled normaliser
    of :mod:`dsc.kernels.unicode_forms`: text already in the form is copied, and only the
    windows between two normalisation boundaries around each unsafe code point are normalised.
    """
    return normalize_array(arr, form, "controls" if controls else None)


@kernel
def _copy(src, i, n, dst, pos):
    """dst[pos:pos + n] = src[i:i + n], eight bytes at a time."""
    while n >= 8:
        store8(dst, pos, load8(src, i))
        i, pos, n = i + 8, pos + 8, n - 8
    for k in range(n):
        dst[pos + k] = src[i + k]


# ---------------------------------------------------------------------------
# Code point tables (built once per process, on first use)


def _kept_on_disk(build: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """A code point table built once per machine rather than once per process.

    Building the tables runs Arrow's ``utf8_lower`` and Python's ``unicodedata`` over every code
    point (about half a second per process, more than normalising 100k rows).  The table is
    kept as a bitmap beside numba's compiled kernels (``__pycache__``, or ``NUMBA_CACHE_DIR``),
    named by a digest of what decides its content: this file's source, Arrow's version (its
    utf8proc) and Python's Unicode version.  It is written to a temporary file and renamed, so a
    reader sees a whole table or none; one that cannot be read or written is built instead.
    """
    @functools.cache
    def table(*args: str) -> np.ndarray:
        name = build.__name__ + "".join("." + a for a in args)
        bits = kept_on_disk(name, _table_key(), lambda: {"bits": np.packbits(build(*args), bitorder="little")},
                            lambda kept: kept.get("bits", np.empty(0)).shape == (0x110000 // 8,))["bits"]
        return _frozen(np.unpackbits(bits, bitorder="little").view(bool))

    table.build = build  # the builder itself, for tests
    return table


def _frozen(table: np.ndarray) -> np.ndarray:
    table.flags.writeable = False  # shared by every caller in the process
    return table


@functools.cache
def _table_key() -> bytes:
    return b"\0".join([Path(__file__).read_bytes(), pa.__version__.encode(), unicodedata.unidata_version.encode()])


@functools.cache
def _code_points() -> np.ndarray:
    """Every code point except NUL and the surrogates, in order."""
    return np.concatenate((np.arange(1, 0xD800), np.arange(0xE000, 0x110000)))


@functools.cache
def _all_chars() -> str:
    """:func:`_code_points` as one string."""
    return _code_points().astype("<u4").tobytes().decode("utf-32-le")


def _table(chars: Sequence[str] | str) -> np.ndarray:
    table = np.zeros(0x110000, dtype=bool)
    table[[ord(c) for c in chars]] = True
    return table


@_kept_on_disk
def _whitespace_table() -> np.ndarray:
    return _table(re.findall(r"\s", _all_chars()))  # re's \s is str.isspace


@_kept_on_disk
def _control_table() -> np.ndarray:
    """Cc and Cf code points, minus tab and newline."""
    kept = "\t\n"
    chars = "\x00" + _all_chars()
    return _table([c for c in chars if c not in kept and unicodedata.category(c) in ("Cc", "Cf")])


unicode_forms.DROPPABLE["controls"] = _control_table  # the normaliser removes them in its pass


@_kept_on_disk
def _fold_unsafe_table() -> np.ndarray:
    """Code points where Arrow's ``utf8_lower`` and ``str.casefold`` disagree.

    Only code points that either function changes can disagree.  Arrow's
    side is one vectorised call over every code point; Python's is found
    4096 code points at a time (a block whose casefold equals itself has
    nothing to fold).
    """
    chars = _all_chars()
    cps = _code_points()
    width = 1 + (cps >= 0x80) + (cps >= 0x800) + (cps >= 0x10000)  # UTF-8 bytes per code point
    off = np.concatenate(([0], np.cumsum(width)))
    arrow_chars = pa.Array.from_buffers(
        pa.large_string(), cps.size, [None, pa.py_buffer(off), pa.py_buffer(chars.encode("utf-8"))]
    )
    lowered = pc.utf8_lower(arrow_chars)
    changed = pc.not_equal(lowered, arrow_chars)  # no nulls: the bitmap is the answer
    bits = np.unpackbits(np.frombuffer(changed.buffers()[1], np.uint8), count=len(changed),
                         bitorder="little")
    candidates = set(np.flatnonzero(bits).tolist())
    step = 4096
    for start in range(0, len(chars), step):
        block = chars[start : start + step]
        if block.casefold() != block:
            candidates.update(start + i for i, c in enumerate(block) if c.casefold() != c)
    idx = np.array(sorted(candidates), dtype=np.int64)
    arrow_says = lowered.take(pa.array(idx)).to_pylist()
    unsafe = [i for i, low in zip(idx.tolist(), arrow_says) if chars[i].casefold() != low]
    return _table([chars[i] for i in unsafe])


def _form_unsafe_table(form: str) -> np.ndarray:
    """Code points whose presence can put a string out of normal ``form`` (``NFC``/``NFKC``):
    :func:`dsc.kernels.unicode_forms.unsafe_table`, built from Python's ``unicodedata``."""
    return unsafe_table(form)


# ---------------------------------------------------------------------------
# casefold


def _casefold(arr: pa.Array) -> pa.Array:
    nonascii, unsafe = _holding(arr, _fold_unsafe_table())
    if not nonascii.any():
        return pc.ascii_lower(arr)  # ASCII casefold is exactly ASCII lowercasing
    out = _on_rows(pc.ascii_lower(arr), nonascii & ~unsafe, pc.utf8_lower)
    # str.casefold must see the original text (utf8_lower('İ') is 'i', but
    # 'İ'.casefold() is 'i' + U+0307), so these rows are taken from arr.
    if unsafe.any():
        mask = pa.array(unsafe)
        folded = [None if s is None else s.casefold() for s in arr.filter(mask).to_pylist()]
        out = pc.replace_with_mask(out, mask, pa.array(folded, type=arr.type))
    return out
