"""Text normalisation over Arrow string arrays (for dedupe keys), in compiled passes.

:func:`normalize` applies any subset of :data:`NORMALIZE_STEPS`, always in
that canonical order, whatever order the caller lists them in:

``nfc`` / ``nfkc``
    Unicode normal forms via ``pyarrow.compute.utf8_normalize`` (Arrow's
    bundled utf8proc, so its Unicode version).  ``nfkc`` implies ``nfc``.
    Rows are sent to it only if they hold a code point that can be out of
    the form (pure-ASCII rows, and most text, never do).
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
``collapse_whitespace`` and ``strip`` are one compiled pass over the UTF-8 bytes
(:func:`_edit`, a numba :func:`dsc.kernels.jit.kernel`): printable ASCII with single spaces is
tested and copied eight bytes at a time; any other character is decoded, looked up in one
per-code-point class table (:func:`_classes`, from :func:`_control_table`,
:func:`_whitespace_table` and :func:`_form_unsafe_table`) and written or dropped.  The same
pass flags the rows holding a code point that can be out of the normal form (Unicode's quick
check): almost all text is in NFC already, so only those rows are taken again from the input,
stripped of controls, normalised and edited (:func:`_normalised_then_edited`), and spliced
back.  Arrow's ``utf8_normalize`` (tens of times the cost of a byte copy) sees only windows of
them: the few characters between two normalisation boundaries around each unsafe code point
(:func:`_to_form`).  An array no step changes is returned as is.  The tables are built once
per machine and kept beside numba's cache (:func:`_kept_on_disk`), keyed by this file's
source and the Arrow and Unicode versions.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import numba
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from dsc.kernels.jit import decode, kernel, utf8_buffers
from dsc.vocabulary import NORMALIZE_STEPS

__all__ = ["NORMALIZE_STEPS", "normalize"]


_SPACE = 0x20
_MOSTLY = 0.5  # above this share of rows needing Arrow's normaliser, run it on the whole array


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

    def without_controls(self) -> _Edits:
        return _Edits(False, self.collapse, self.strip)


def _form_and_edits(arr: pa.Array, form: str, edits: _Edits) -> pa.Array:
    """Normal ``form``, then ``edits``, with Arrow's normaliser on the rows that need it only.

    One compiled pass applies the edits to every row and flags the rows holding a code point
    that can be out of the form: on the others the form changes nothing, so their edited bytes
    are final.  The flagged rows are taken again from ``arr`` and go the documented way
    (:func:`_normalised_then_edited`).  When most of the first rows are flagged (text mostly
    not in the form), the pass gives up and every row goes that way, which then costs no
    splice; either way the bytes are the same.
    """
    if not edits.any:
        return _to_form(arr, form)
    out, flags = _rewrite(arr, edits, form, give_up=True)
    if out is None:
        return _normalised_then_edited(arr, form, edits)
    unsafe = (flags & _UNSAFE).astype(bool)
    if not unsafe.any():
        return out
    mask = pa.array(unsafe)
    return pc.replace_with_mask(out, mask, _normalised_then_edited(arr.filter(mask), form, edits))


def _normalised_then_edited(arr: pa.Array, form: str, edits: _Edits) -> pa.Array:
    """``arr`` in ``form``, then edited.

    As the steps are defined, a row is normalised, its controls removed, and normalised again
    (removing a control can put a combining mark next to a new base letter), then its
    whitespace collapsed.  Controls are normalisation boundaries that the forms never change
    or create (``tests/kernels/test_text_screen.py`` checks this against Arrow over every code
    point), so normalising before removing them adds nothing: removing them first and
    normalising once gives the same text.
    """
    if edits.controls:  # a read-only screen first: most rows hold no control
        arr = _on_rows(arr, _holding(arr, _control_table())[1], lambda a: _rewrite(a, _Edits(True, False, False))[0])
    arr = _to_form(arr, form)
    rest = edits.without_controls()
    return _rewrite(arr, rest)[0] if rest.any else arr


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
                w = _load8(data, i)
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


def _rewrite(arr: pa.Array, edits: _Edits, form: str | None = None,
             give_up: bool = False) -> tuple[pa.Array | None, np.ndarray]:
    """``arr`` with ``edits`` applied (itself when no row changes), and flags per row
    (_EDITED, and with ``form`` _UNSAFE: see :func:`_edit`).

    With ``give_up``, None instead of the array when most of the first :data:`_SAMPLE` rows
    hold a code point that can be out of ``form``.
    """
    off, data = utf8_buffers(arr)
    width = np.int32 if pa.types.is_string(arr.type) else np.int64
    out, out_off = np.empty(data.size, np.uint8), np.empty(len(arr) + 1, width)
    flags = np.zeros(len(arr), dtype=np.uint8)
    sample = min(len(arr), _SAMPLE) if give_up and form else 0
    edited = _edit(off, data, _valid(arr), _classes(form), edits.controls, edits.collapse, edits.strip, sample,
                   out, out_off, flags)
    if edited < 0:
        return None, flags
    if not edited:
        return arr, flags
    return _rebuild(arr, out_off, out[: out_off[-1]]), flags


_SAMPLE = 4096  # rows: when most of the first ones need the normaliser, all rows go to it


_ONES = np.uint64(0x0101010101010101)
_HIGH = np.uint64(0x8080808080808080)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_SPACES = np.uint64(0x2020202020202020)
_U8, _U56 = np.uint64(8), np.uint64(56)


@intrinsic
def _load8(typingctx, arr, i):
    """Bytes i..i+7 of a uint8 array as one little-endian word, in one unaligned load.

    Built byte by byte, the compiler keeps eight loads (a negative index could wrap), and the
    word-at-a-time pass is then slower than Arrow's kernels instead of several times faster.
    The caller keeps i + 8 within the array.
    """
    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), ir.IntType(64).as_pointer())
        return builder.load(ptr, align=1)
    return types.uint64(arr, types.intp), codegen


@intrinsic
def _store8(typingctx, arr, i, word):
    """Word written as bytes i..i+7 of a uint8 array, in one unaligned store (see _load8)."""
    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), ir.IntType(64).as_pointer())
        builder.store(args[2], ptr, align=1)
        return context.get_dummy_value()
    return types.void(arr, types.intp, types.uint64), codegen


@intrinsic
def _zeros_below(typingctx, word):
    """Count of trailing zero bits of a nonzero uint64 (one instruction)."""
    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))
    return types.uint64(types.uint64), codegen


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
def _edit(off, data, valid, classes, controls, collapse, strip, sample, out, out_off, flags):
    """Controls dropped, whitespace runs collapsed, ends stripped, each as asked, in one pass.

    Writes the rows into ``out`` / ``out_off`` (never longer than the input: every step only
    drops characters or writes one space for a run) and sets flags[row]: _EDITED if the row
    changed, _UNSAFE if it holds a code point with
    that class (see :func:`_classes`). Returns the number of rows changed, or -1 (and stops)
    when more than half of the first ``sample`` rows are _UNSAFE.

    Character by character: a control is dropped; the first whitespace character of a run is
    written as ' ' (collapse) or as it is, the rest of the run dropped (collapse), and leading
    whitespace is dropped (strip); ``keep`` is where the row ends if its trailing whitespace is
    stripped. Most text is printable ASCII with single spaces, which these rules copy as it is:
    at an ASCII byte, eight such bytes are tested and copied as one word; when a word fails the
    test, the bytes before its first space or other unusual byte are copied at once, and that
    character goes the long way.
    """
    drop = _CONTROL if controls else 0
    pos, edited, unsafe_rows = 0, 0, 0
    out_off[0] = 0
    for row in range(off.size - 1):
        if row == sample and sample > 0 and 2 * unsafe_rows > sample:
            return -1
        if valid[row]:
            i, end = off[row], off[row + 1]
            keep, prev_space, started, change, f = pos, False, False, False, 0
            while i < end:
                cp = np.int64(data[i])
                if 0x20 <= cp < 0x7F and i + 8 <= end:  # a control goes the long way
                    w = _load8(data, i)
                    plain, spaces = _plain_word(w)
                    first_space = cp == _SPACE
                    last_space = (w >> _U56) == np.uint64(_SPACE)
                    if plain and not (strip and not started and first_space) and not (
                            collapse and ((spaces & (spaces >> _U8)) != 0 or (prev_space and first_space))) and not (
                            strip and last_space and not collapse):
                        _store8(out, pos, w)  # pos <= i: the output never outgrows the input
                        pos += 8
                        i += 8
                        started = True
                        prev_space = last_space
                        # with collapse the byte before a last space is not a space
                        keep = pos - 1 if last_space else pos
                        continue
                    # the bytes before the first space or unusual byte are copied as they are
                    n = np.int64(_zeros_below(_unusual_bytes(w)) >> np.uint64(3))
                    if n:
                        _store8(out, pos, w)  # the bytes past n are overwritten next
                        pos += n
                        i += n
                        keep, started, prev_space = pos, True, False
                        cp = np.int64(data[i])
                width = 1
                if cp >= 0x80:
                    cp, width = decode(data, i)
                c = classes[cp]
                f |= c & _UNSAFE
                if c & drop:
                    change = True
                elif c & _WHITESPACE:
                    if (strip and not started) or (collapse and prev_space):
                        change = True
                    elif collapse:
                        change |= cp != _SPACE
                        out[pos] = _SPACE
                        pos += 1
                    else:
                        _copy(data, i, width, out, pos)
                        pos += width
                    prev_space = True
                else:
                    if i + 8 <= end:
                        _store8(out, pos, _load8(data, i))  # the bytes past width are overwritten next
                    else:
                        _copy(data, i, width, out, pos)
                    pos += width
                    keep, started, prev_space = pos, True, False
                i += width
            if strip and pos != keep:
                pos, change = keep, True
            if change:
                f |= _EDITED
                edited += 1
            if f & _UNSAFE:
                unsafe_rows += 1
            flags[row] = f
        out_off[row + 1] = pos
    return edited


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


def _to_form(arr: pa.Array, form: str) -> pa.Array:
    """``arr`` in normal ``form``, with Arrow's ``utf8_normalize`` run on windows of text only.

    A character that is not in :func:`_form_unsafe_table` has combining class 0 and its own
    normal form, and nothing composes with what precedes it, so the text before it and the
    text from it on normalise separately (a normalisation boundary; ICU splits text the same
    way).  The windows are the stretches from the last such character before an unsafe code
    point to the next such character after it: in most text a letter and its marks, so the
    normaliser (about forty times the cost of a byte copy) sees a few bytes per row.
    """
    if len(arr) > _FORM_ROWS:  # the window lists of a slice stay small (text in NFD has a window a word)
        return pa.concat_arrays([_to_form(arr.slice(a, _FORM_ROWS), form) for a in range(0, len(arr), _FORM_ROWS)])
    unsafe = _form_unsafe_table(form)
    off, data = utf8_buffers(arr)
    valid = _valid(arr)
    count = _windows(off, data, valid, unsafe, np.empty(0, np.int64), np.empty(0, np.int64))
    if not count:
        return arr
    starts, ends = np.empty(count, np.int64), np.empty(count, np.int64)
    _windows(off, data, valid, unsafe, starts, ends)
    win_off = np.concatenate(([0], np.cumsum(ends - starts)))
    win_data = np.empty(win_off[-1], np.uint8)
    _gather(data, starts, ends, win_data)
    windows = pa.Array.from_buffers(pa.large_string(), count, [None, pa.py_buffer(win_off), pa.py_buffer(win_data)])
    norm_off, norm_data = utf8_buffers(pc.utf8_normalize(windows, form))
    width = np.int32 if pa.types.is_string(arr.type) else np.int64
    size = data.size - win_data.size + norm_data.size
    if size > np.iinfo(width).max:  # NFKC can lengthen text past a string array's offsets
        raise OverflowError(f"{form} text of {size} bytes does not fit a {arr.type} array; use large_string")
    out, out_off = np.empty(size, np.uint8), np.empty(len(arr) + 1, width)
    _splice(off, data, valid, starts, ends, norm_off, norm_data, out, out_off)
    return _rebuild(arr, out_off, out[: out_off[-1]])


_FORM_ROWS = 1 << 16  # rows per slice in _to_form


@kernel
def _windows(off, data, valid, unsafe, starts, ends):
    """The byte ranges of :func:`_to_form`'s windows, in order (written when ``starts`` has room
    for them); returns how many there are. ASCII is never unsafe: eight ASCII bytes outside a
    window are passed over at once."""
    count, fill = 0, starts.size > 0
    for row in range(off.size - 1):
        if not valid[row]:
            continue
        i, end = off[row], off[row + 1]
        boundary, inside = i, False  # where the last safe character starts; in a window
        while i < end:
            if not inside and i + 8 <= end and (_load8(data, i) & _HIGH) == 0:
                i += 8
                boundary = i - 1
                continue
            cp, width = np.int64(data[i]), 1
            if cp >= 0x80:
                cp, width = decode(data, i)
            if unsafe[cp]:
                if not inside:
                    inside = True
                    if fill:
                        starts[count] = boundary
            else:
                if inside:
                    inside = False
                    if fill:
                        ends[count] = i
                    count += 1
                boundary = i
            i += width
        if inside:
            if fill:
                ends[count] = end
            count += 1
    return count


@kernel
def _copy(src, i, n, dst, pos):
    """dst[pos:pos + n] = src[i:i + n], eight bytes at a time."""
    while n >= 8:
        _store8(dst, pos, _load8(src, i))
        i, pos, n = i + 8, pos + 8, n - 8
    for k in range(n):
        dst[pos + k] = src[i + k]


@kernel
def _gather(data, starts, ends, out):
    pos = 0
    for j in range(starts.size):
        _copy(data, starts[j], ends[j] - starts[j], out, pos)
        pos += ends[j] - starts[j]


@kernel
def _splice(off, data, valid, starts, ends, norm_off, norm_data, out, out_off):
    """Each row with its windows replaced by their normal form (null rows left empty)."""
    pos, j = 0, 0
    out_off[0] = 0
    for row in range(off.size - 1):
        if valid[row]:
            i, end = off[row], off[row + 1]
            while j < starts.size and starts[j] < end:
                _copy(data, i, starts[j] - i, out, pos)
                pos += starts[j] - i
                n = norm_off[j + 1] - norm_off[j]
                _copy(norm_data, norm_off[j], n, out, pos)
                pos += n
                i = ends[j]
                j += 1
            _copy(data, i, end - i, out, pos)
            pos += end - i
        out_off[row + 1] = pos


# ---------------------------------------------------------------------------
# Code point tables (built once per process, on first use)


def _kept_on_disk(build: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """A code point table built once per machine rather than once per process.

    Building the tables runs Arrow's normaliser and Python's ``unicodedata`` over every code
    point (about half a second per process, more than normalising 100k rows).  The table is
    kept as a bitmap beside numba's compiled kernels (``__pycache__``, or ``NUMBA_CACHE_DIR``),
    named by a digest of what decides its content: this file's source, Arrow's version (its
    utf8proc) and Python's Unicode version.  It is written to a temporary file and renamed, so a
    reader sees a whole table or none; one that cannot be read or written is built instead.
    """
    @functools.cache
    def table(*args: str) -> np.ndarray:
        path = _table_dir() / f"{build.__name__}{''.join('.' + a for a in args)}.{_table_key()}.npy"
        try:
            bits = np.load(path, allow_pickle=False)
            if bits.dtype == np.uint8 and bits.shape == (0x110000 // 8,):
                return _frozen(np.unpackbits(bits, bitorder="little").view(bool))
        except (OSError, ValueError):
            pass
        result = _frozen(build(*args))
        temp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as f:
                temp = f.name
                np.save(f, np.packbits(result, bitorder="little"))
            os.replace(temp, path)
        except OSError:
            if temp is not None:
                Path(temp).unlink(missing_ok=True)
        return result

    table.build = build  # the builder itself, for tests
    return table


def _frozen(table: np.ndarray) -> np.ndarray:
    table.flags.writeable = False  # shared by every caller in the process
    return table


def _table_dir() -> Path:
    return Path(numba.config.CACHE_DIR or Path(__file__).parent / "__pycache__")


@functools.cache
def _table_key() -> str:
    source = Path(__file__).read_bytes()
    return hashlib.sha256(b"\0".join([source, pa.__version__.encode(),
                                       unicodedata.unidata_version.encode()])).hexdigest()[:16]


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


@_kept_on_disk
def _form_unsafe_table(form: str) -> np.ndarray:
    """Code points whose presence can put a string out of normal ``form`` (``NFC``/``NFKC``).

    By Unicode's normalisation quick check, a string whose every code point has canonical
    combining class 0 and quick-check value Yes is in the form.  This is a superset of the
    others, built from Arrow (whose utf8proc does the normalising) and Python:

    * code points the form changes on their own (quick check No: singletons, excluded
      compositions, and for NFKC compatibility characters);
    * code points that follow the first one in some canonical decomposition (quick check
      Maybe: they can compose with what precedes them; Hangul vowel and trailing jamo too);
    * combining class other than 0 (their order may need fixing; classes never change
      between Unicode versions);
    * code points Python's Unicode version has not assigned, in case Arrow's is newer.

    Text holding none of them is left as is; the windows around them go to ``utf8_normalize``
    (:func:`_to_form`), so the result is Arrow's normal form for every row, as if every row
    were sent to it.
    """
    chars = _all_chars()
    cps = _code_points()
    width = 1 + (cps >= 0x80) + (cps >= 0x800) + (cps >= 0x10000)
    off = np.concatenate(([0], np.cumsum(width)))
    arrow_chars = pa.Array.from_buffers(
        pa.large_string(), cps.size, [None, pa.py_buffer(off), pa.py_buffer(chars.encode("utf-8"))]
    )
    unsafe = np.zeros(0x110000, dtype=bool)
    for f in sorted({"NFC", form}):
        changed = _bitmap(pc.not_equal(pc.utf8_normalize(arrow_chars, f), arrow_chars))
        unsafe[cps[changed]] = True
    nfd = pc.utf8_normalize(arrow_chars, "NFD")
    decomposed = nfd.filter(pc.not_equal(nfd, arrow_chars)).to_pylist()
    unsafe[[ord(c) for d in decomposed for c in d[1:]]] = True
    unsafe[[cp for cp, c in zip(cps.tolist(), chars) if unicodedata.combining(c)
            or unicodedata.category(c) == "Cn"]] = True
    return unsafe


def _bitmap(arr: pa.BooleanArray) -> np.ndarray:
    """A null-free boolean array's values as numpy bools."""
    return np.unpackbits(np.frombuffer(arr.buffers()[1], np.uint8), count=arr.offset + len(arr),
                         bitorder="little")[arr.offset :].view(bool)



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
