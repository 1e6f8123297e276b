"""Unicode normal forms (NFC, NFD, NFKC, NFKD) of UTF-8 rows, in compiled code.

Why not Arrow's ``utf8_normalize``: it costs six to ten times ``utf8_lower``, and text in NFD
(every accented letter a base and a mark) needs it on nearly every word.  This module does
the same work in one :func:`dsc.kernels.jit.kernel` pass over the bytes, which copies text
that is already in the form and normalises only the short windows around code points that
can be out of it.

The contract is Python's ``unicodedata.normalize(form, s)``, exactly, for every string: the
tables come from ``unicodedata`` (this Python's Unicode version), and the tests hold the
kernel to it over every code point and over random strings.  Arrow's utf8proc may know a
newer Unicode; it then normalises code points that this Python's Unicode leaves unassigned
(and so unchanged), and there the two differ: the documented behaviour
(``tests/kernels/test_text.py``'s reference) is ``unicodedata``'s.

The algorithm is Unicode's (UAX #15): full canonical (NFC, NFD) or compatibility (NFKC, NFKD)
decomposition, Hangul syllables decomposed and composed arithmetically, the canonical
ordering of each run of marks by combining class (a stable sort), then for the composed
forms canonical composition: a character joins the last starter when nothing between them
blocks it and the pair has a primary composite (a canonical decomposition of two code points
that is not excluded from composition).

Windows: a code point of combining class 0 that is its own normal form and never joins a
character before it (:func:`unsafe_table` has it unset) is a normalisation boundary: the text
before it and the text from it on normalise separately.  So the kernel copies bytes, keeping
track of the last boundary, until it meets an unsafe code point; it then goes back to that
boundary, normalises from there up to the next one (:func:`window`), and goes on copying.
Pure ASCII is passed over eight bytes at a time, and the common window, a letter and one mark
neither of which decomposes, is composed in place (:func:`simple_pair`): about 11 ns a
window against 40 for the general one, which is what keeps NFD text near Arrow's speed.

The tables are built once per machine (0.13 s of ``unicodedata`` calls over every code point,
more than normalising 100k rows; read back in 2 ms) and kept beside numba's cache as one small
``.npz`` of the sparse entries, named by a digest of this file's source and the Unicode
version (:func:`_tables`).
"""
from __future__ import annotations

import functools
import unicodedata
from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np
import pyarrow as pa

from dsc.kernels.buffers import utf8_buffers
from dsc.kernels.jit import decode, kept_on_disk, kernel, load8, store8

__all__ = ["DROPPABLE", "FORMS", "classes", "load8", "normalize_array", "normalize_buffers", "put_utf8", "same_bytes",
           "simple_pair", "store8", "tables", "unsafe_table", "window"]

FORMS = ("NFC", "NFD", "NFKC", "NFKD")

_CODE_POINTS = 0x110000
_S_BASE, _L_BASE, _V_BASE, _T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7
_L_COUNT, _V_COUNT, _T_COUNT = 19, 21, 28
_N_COUNT = _V_COUNT * _T_COUNT
_S_COUNT = _L_COUNT * _N_COUNT
_LEN_BITS = 5  # a decomposition entry is start << 5 | length (the longest, U+FDFA's NFKD, is 18)

UNSAFE, DROP = 1, 2  # bits of the kernel's per-code-point class table

# Helpers called once per character or per common window are inlined into their callers: a
# call to a compiled function passes each array as seven words, more than the helper's work.
# The general window (rare) is called, which keeps the callers' loops small.
_inline = numba.njit(cache=True, nogil=True, inline="always")


class Tables(NamedTuple):
    """The flat tables one form's kernel reads (see :func:`tables`)."""

    ccc: np.ndarray  # uint8 per code point: canonical combining class
    decomp: np.ndarray  # int32 per code point: start << 5 | length in ``data``, 0 when none
    data: np.ndarray  # int32: the full decompositions, one after another
    pair_keys: np.ndarray  # int64: first << 21 | second, an open-addressing hash table (-1 empty)
    pair_values: np.ndarray  # int32: the primary composite of each key
    compose: bool


def normalize_array(arr: pa.Array, form: str, drop: str | None = None) -> pa.Array:
    """``arr`` (``string`` or ``large_string``) with every row in normal ``form``; nulls stay.

    With ``drop`` (a name in :data:`DROPPABLE`), those code points are removed first, as if the
    text were normalised after removing them.  They must be boundaries that no form changes or
    creates (controls are: ``tests/kernels/test_text_screen.py``), so they do not end a window.
    The array itself comes back when no row changes.
    """
    if form not in FORMS:
        raise ValueError(f"unknown normal form {form!r}; expected one of {FORMS}")
    if len(arr) == 0 or arr.null_count == len(arr):
        return arr
    off, data = utf8_buffers(arr)
    valid = (np.ones(len(arr), dtype=bool) if not arr.null_count
             else arr.is_valid().to_numpy(zero_copy_only=False))
    out, out_off, changed = normalize_buffers(off, data, valid, form, drop)
    if not changed:
        return arr
    width = np.int32 if pa.types.is_string(arr.type) else np.int64
    if out_off[-1] > np.iinfo(width).max:  # NFKC can lengthen text past a string array's offsets
        raise OverflowError(f"{form} text of {out_off[-1]} bytes does not fit a {arr.type} array; "
                            "use large_string")
    validity = arr.is_valid().buffers()[1] if arr.null_count else None
    return pa.Array.from_buffers(arr.type, len(arr), [validity, pa.py_buffer(out_off.astype(width)),
                                                      pa.py_buffer(out[: out_off[-1]])])


def normalize_buffers(off: np.ndarray, data: np.ndarray, valid: np.ndarray, form: str,
                      drop: str | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows given as int64 offsets from 0 into UTF-8 ``data`` (null rows where ``valid`` is
    False, their bytes never read) in ``form``: the output bytes (maybe longer than needed),
    int64 offsets into them, and how many rows changed."""
    t = tables(form)
    table = classes(form, drop)
    out, out_off, buf = np.empty(data.size + 64, np.uint8), np.empty(off.size, np.int64), np.empty(256, np.int32)
    out_off[0], changed, row = 0, np.zeros(1, np.int64), 0
    while True:  # the kernel stops at a row whose normal form does not fit: more room, and on
        row = _normalize(off, data, valid, table, t.ccc, t.decomp, t.data, t.pair_keys, t.pair_values,
                         t.compose, out, out_off, buf, row, changed)
        if row == off.size - 1:
            return out, out_off, int(changed[0])
        bigger = np.empty(2 * out.size, np.uint8)
        bigger[: out_off[row]] = out[: out_off[row]]
        out, buf = bigger, np.empty(2 * buf.size, np.int32)


@functools.cache
def classes(form: str, drop: str | None = None) -> np.ndarray:
    """The kernel's uint8 class per code point: UNSAFE (:func:`unsafe_table`), and DROP for the
    code points of ``drop``, a builder's name in :data:`DROPPABLE` (none by default)."""
    table = unsafe_table(form).view(np.uint8) * np.uint8(UNSAFE)
    if drop is not None:
        table |= DROPPABLE[drop]().view(np.uint8) * np.uint8(DROP)
    table.flags.writeable = False
    return table


DROPPABLE: dict = {}  # name -> a function giving a bool per code point (text.py adds its controls)


# ---------------------------------------------------------------------------
# The kernel


@_inline
def _put(out, pos, cp):
    """``cp`` written as UTF-8 at ``out[pos]``; the position after it."""
    if cp < 0x80:
        out[pos] = cp
        return pos + 1
    if cp < 0x800:
        out[pos] = 0xC0 | (cp >> 6)
        out[pos + 1] = 0x80 | (cp & 0x3F)
        return pos + 2
    if cp < 0x10000:
        out[pos] = 0xE0 | (cp >> 12)
        out[pos + 1] = 0x80 | ((cp >> 6) & 0x3F)
        out[pos + 2] = 0x80 | (cp & 0x3F)
        return pos + 3
    out[pos] = 0xF0 | (cp >> 18)
    out[pos + 1] = 0x80 | ((cp >> 12) & 0x3F)
    out[pos + 2] = 0x80 | ((cp >> 6) & 0x3F)
    out[pos + 3] = 0x80 | (cp & 0x3F)
    return pos + 4


@_inline
def _composite(first, second, pair_keys, pair_values):
    """The primary composite of ``first`` + ``second``, or -1 (Hangul by arithmetic)."""
    if _L_BASE <= first < _L_BASE + _L_COUNT and _V_BASE <= second < _V_BASE + _V_COUNT:
        return _S_BASE + ((first - _L_BASE) * _V_COUNT + (second - _V_BASE)) * _T_COUNT
    if (_S_BASE <= first < _S_BASE + _S_COUNT and (first - _S_BASE) % _T_COUNT == 0
            and _T_BASE < second < _T_BASE + _T_COUNT):
        return first + (second - _T_BASE)
    key = (np.int64(first) << 21) | np.int64(second)
    mask = pair_keys.size - 1
    slot = _slot(key, mask)
    while True:
        k = pair_keys[slot]
        if k == key:
            return np.int64(pair_values[slot])
        if k < 0:
            return np.int64(-1)
        slot = (slot + 1) & mask


@_inline
def _slot(key, mask):
    return np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)) & mask


@_inline
def _window(buf, n, ccc, pair_keys, pair_values, compose):
    """The decomposed code points ``buf[:n]`` put in canonical order and, with ``compose``,
    canonically composed, in place; returns how many remain."""
    if n == 2 and ccc[buf[0]] == 0:  # the common window, a letter and one mark: nothing to order
        if compose:
            comp = _composite(buf[0], buf[1], pair_keys, pair_values)
            if comp >= 0:
                buf[0] = comp
                return 1
        return 2
    # canonical ordering: each run of non-starters stably sorted by combining class (insertion)
    for k in range(1, n):
        c = buf[k]
        cc = ccc[c]
        if cc == 0:
            continue
        j = k
        while j > 0 and ccc[buf[j - 1]] > cc:
            buf[j] = buf[j - 1]
            j -= 1
        buf[j] = c
    if not compose:
        return n
    # canonical composition: last_cc is -1 right after the starter, else the class of the
    # last character kept since it; a character is blocked when that is 0 or >= its own class
    starter, last_cc, kept = -1, -1, 0
    for k in range(n):
        c = buf[k]
        cc = np.int64(ccc[c])
        if starter >= 0 and (last_cc == -1 or last_cc < cc):
            comp = _composite(buf[starter], c, pair_keys, pair_values)
            if comp >= 0:
                buf[starter] = comp
                continue
        if cc == 0:
            starter, last_cc = kept, -1
        else:
            last_cc = cc
        buf[kept] = c
        kept += 1
    return kept


@kernel
def window(data, start, end, classes, unsafe_bit, drop_bits, ccc, decomp, ddata, pair_keys, pair_values, compose,
           buf):
    """The window of UTF-8 ``data`` from ``start`` (a boundary, or the first unsafe code point)
    normalised into ``buf``: where it ends (the next code point whose ``classes`` entry has
    neither ``unsafe_bit`` nor ``drop_bits``, or ``end``) and how many code points it gives,
    -1 when they may not fit ``buf``. Code points with ``drop_bits`` are left out."""
    j, n = start, 0
    stop = unsafe_bit | drop_bits
    while j < end:
        cp, width = np.int64(data[j]), 1
        if cp >= 0x80:
            cp, width = decode(data, j)
        c = classes[cp]
        if (c & stop) == 0 and j > start:
            break
        j += width
        if c & drop_bits:
            continue
        if n + 32 > buf.size:
            return j, -1
        if _S_BASE <= cp < _S_BASE + _S_COUNT:
            s = cp - _S_BASE
            buf[n] = _L_BASE + s // _N_COUNT
            buf[n + 1] = _V_BASE + (s % _N_COUNT) // _T_COUNT
            n += 2
            if s % _T_COUNT:
                buf[n] = _T_BASE + s % _T_COUNT
                n += 1
            continue
        d = decomp[cp]
        if d == 0:
            buf[n] = cp
            n += 1
            continue
        first, length = d >> _LEN_BITS, d & 31
        for k in range(length):
            buf[n + k] = ddata[first + k]
        n += length
    return j, _window(buf, n, ccc, pair_keys, pair_values, compose)


@_inline
def put_utf8(out, pos, cp):
    """``cp`` written as UTF-8 at ``out[pos]``; the position after it."""
    return _put(out, pos, cp)


@_inline
def same_bytes(a, i, b, j, n):
    """Whether ``a[i:i + n]`` equals ``b[j:j + n]``."""
    for k in range(n):
        if a[i + k] != b[j + k]:
            return False
    return True


@kernel
def _normalize(off, data, valid, classes, ccc, decomp, ddata, pair_keys, pair_values, compose, out, out_off,
               buf, first, changed):
    """Rows ``first`` on in the form (see the module docstring), written to ``out`` / ``out_off``
    (``out_off[first]`` set), ``changed[0]`` counting the rows that changed. A code point with
    the DROP class is left out; an UNSAFE one starts a window at the last boundary, which ends
    at the next code point with neither class. Returns the row count, or the first row that
    did not fit ``out`` or whose window did not fit ``buf`` (its offset is set: the caller
    gives more room and calls again from there).

    Throughout a row, ``out`` has room for the rest of the row's bytes as they are, so a
    character, or eight ASCII bytes, may be stored without a test.
    """
    high = np.uint64(0x8080808080808080)
    pos, count = out_off[first], 0  # rows changed, added to changed[0] on return
    for row in range(first, off.size - 1):
        if not valid[row]:
            out_off[row + 1] = pos
            continue
        i, end = off[row], off[row + 1]
        if pos + (end - i) + 8 > out.size:
            changed[0] += count
            return row
        # the last boundary: where it starts in the input and the output, and its code point
        # when it was the last character written and stands right before i (else -1)
        bnd_in, bnd_out, bnd_cp, row_changed = i, pos, np.int64(-1), False
        while i < end:
            if i + 8 <= end:
                w = load8(data, i)
                if (w & high) == 0 and not _has_drop(w, classes):
                    store8(out, pos, w)
                    bnd_in, bnd_out, bnd_cp = i + 7, pos + 7, np.int64(w >> np.uint64(56))
                    i += 8
                    pos += 8
                    continue
            cp, width = np.int64(data[i]), 1
            if cp >= 0x80:
                cp, width = decode(data, i)
            c = classes[cp]
            if c == 0:
                if i + 8 <= end:
                    store8(out, pos, load8(data, i))  # the bytes past width are overwritten next
                else:
                    _copy_bytes(data, i, width, out, pos)
                bnd_in, bnd_out, bnd_cp = i, pos, cp
                i += width
                pos += width
                continue
            if c & DROP:
                row_changed = True
                bnd_cp = -1
                i += width
                continue
            # an unsafe code point: a letter and its mark, or the general window from the last
            # boundary to the next one
            comp = simple_pair(bnd_cp, cp, decomp, pair_keys, pair_values, compose)
            if comp != -2:
                if comp >= 0:
                    pos = _put(out, bnd_out, comp)
                    row_changed = True
                else:
                    _copy_bytes(data, i, width, out, pos)
                    pos += width
                bnd_cp = -1  # the boundary stays: another unsafe code point takes the general window
                i += width
                continue
            j, n = window(data, bnd_in, end, classes, UNSAFE, DROP, ccc, decomp, ddata, pair_keys, pair_values,
                          compose, buf)
            if n < 0 or bnd_out + 4 * n + (end - j) + 8 > out.size:
                changed[0] += count
                return row
            pos = bnd_out
            for k in range(n):
                pos = _put(out, pos, np.int64(buf[k]))
            if not row_changed:
                row_changed = pos - bnd_out != j - bnd_in or not same_bytes(out, bnd_out, data, bnd_in, j - bnd_in)
            i = j
            bnd_in, bnd_out, bnd_cp = j, pos, -1  # what follows is a boundary, or the row's end
        if row_changed:
            count += 1
        out_off[row + 1] = pos
    changed[0] += count
    return off.size - 1


@_inline
def simple_pair(first, second, decomp, pair_keys, pair_values, compose):
    """The window of a boundary ``first`` followed by the one unsafe code point ``second``,
    neither decomposing (the caller knows that no unsafe code point follows, or goes the general
    way when one does): their primary composite, or -1 when the two stay as they are; -2 when
    the window is not that simple. Most text out of NFC is a letter and one mark at a time:
    this saves the general :func:`window` its buffer, ordering and re-encoding."""
    if first < 0 or decomp[first] or decomp[second] or _S_BASE <= first < _S_BASE + _S_COUNT or (
            _S_BASE <= second < _S_BASE + _S_COUNT):
        return np.int64(-2)
    if not compose:
        return np.int64(-1)
    return _composite(first, second, pair_keys, pair_values)


@_inline
def _copy_bytes(src, i, n, dst, pos):
    for k in range(n):
        dst[pos + k] = src[i + k]


@_inline
def _has_drop(w, classes):
    """Whether one of the eight ASCII bytes of ``w`` has the DROP class."""
    low = (w - np.uint64(0x2020202020202020)) & ~w  # high bit where a byte < 0x20
    del_ = (w + np.uint64(0x0101010101010101)) & np.uint64(0x8080808080808080)  # byte 0x7F
    if ((low | del_) & np.uint64(0x8080808080808080)) == 0:
        return False
    for k in range(8):
        if classes[(w >> np.uint64(8 * k)) & np.uint64(0xFF)] & DROP:
            return True
    return False


# ---------------------------------------------------------------------------
# Tables, from unicodedata


@functools.cache
def tables(form: str) -> Tables:
    """The flat tables of ``form``'s kernel, expanded from the sparse ones (:func:`_tables`)."""
    if form not in FORMS:
        raise ValueError(f"unknown normal form {form!r}; expected one of {FORMS}")
    sparse = _tables()
    ccc = np.zeros(_CODE_POINTS, np.uint8)
    ccc[sparse["ccc_cps"]] = sparse["ccc_values"]
    kind = "compat" if form.startswith("NFK") else "canon"
    cps, starts = sparse[f"{kind}_cps"], sparse[f"{kind}_off"]
    decomp = np.zeros(_CODE_POINTS, np.int32)
    decomp[cps] = (starts[:-1] << _LEN_BITS) | np.diff(starts)
    firsts, seconds, values = sparse["pair_first"], sparse["pair_second"], sparse["pair_value"]
    keys = (firsts.astype(np.int64) << 21) | seconds
    size = 1 << int(4 * keys.size).bit_length()  # at most a quarter full: short probes
    pair_keys, pair_values = np.full(size, -1, np.int64), np.zeros(size, np.int32)
    _fill_pairs(keys, values.astype(np.int32), pair_keys, pair_values)
    result = Tables(ccc, decomp, sparse[f"{kind}_data"].astype(np.int32), pair_keys, pair_values,
                    form in ("NFC", "NFKC"))
    for t in result[:-1]:
        t.flags.writeable = False  # shared by every caller in the process
    return result


@kernel
def _fill_pairs(keys, values, pair_keys, pair_values):
    mask = pair_keys.size - 1
    for k in range(keys.size):
        slot = _slot(keys[k], mask)
        while pair_keys[slot] >= 0:
            slot = (slot + 1) & mask
        pair_keys[slot] = keys[k]
        pair_values[slot] = values[k]


@functools.cache
def unsafe_table(form: str) -> np.ndarray:
    """Bool per code point: can its presence put a string out of ``form`` (Unicode's quick
    check is not Yes, or its combining class is not 0)?  Text with none of them is in the form,
    and each code point without the flag is a boundary (the module docstring): combining class
    0, its own normal form, and never the second of a composition (NFC and NFKC; Hangul vowel
    and trailing jamo included).  Whatever the form, the NFC flags are set too, so one table
    serves the chain of forms the ``normalize`` steps ask for."""
    if form not in FORMS:
        raise ValueError(f"unknown normal form {form!r}; expected one of {FORMS}")
    sparse = _tables()
    unsafe = np.zeros(_CODE_POINTS, bool)
    unsafe[sparse["ccc_cps"]] = True
    unsafe[sparse[f"changed_{form.lower()}"]] = True
    unsafe[sparse["changed_nfc"]] = True
    if form in ("NFC", "NFKC"):
        unsafe[sparse["pair_second"]] = True
        unsafe[_V_BASE: _V_BASE + _V_COUNT] = True
        unsafe[_T_BASE + 1: _T_BASE + _T_COUNT] = True
    else:
        unsafe[_S_BASE: _S_BASE + _S_COUNT] = True
    unsafe.flags.writeable = False
    return unsafe


@functools.cache
def _tables() -> dict[str, np.ndarray]:
    """The sparse tables, read from disk or built (:func:`_build`) and written there
    (:func:`dsc.kernels.jit.kept_on_disk`), named by this file's source and Python's Unicode version."""
    key = Path(__file__).read_bytes() + b"\0" + unicodedata.unidata_version.encode()
    return kept_on_disk("unicode_forms", key, _build, lambda stored: set(stored) == set(_NAMES))


_NAMES = ("ccc_cps", "ccc_values", "canon_cps", "canon_off", "canon_data", "compat_cps", "compat_off",
          "compat_data", "pair_first", "pair_second", "pair_value", "changed_nfc", "changed_nfd",
          "changed_nfkc", "changed_nfkd")


def _build() -> dict[str, np.ndarray]:
    """The sparse tables from ``unicodedata``: combining classes; each code point's full
    canonical and compatibility decomposition (its NFD and NFKD; Hangul syllables are left to
    arithmetic); the primary composites (two-code-point canonical decompositions whose NFC is
    the code point itself, so neither excluded nor a singleton); the code points each form
    changes on their own."""
    ccc_cps, ccc_values, pairs = [], [], []
    decomposed = {"canon": ([], [0], []), "compat": ([], [0], [])}
    changed = {f: [] for f in FORMS}
    hangul = range(_S_BASE, _S_BASE + _S_COUNT)
    for cp in range(_CODE_POINTS):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        cc = unicodedata.combining(ch)
        if cc:
            ccc_cps.append(cp)
            ccc_values.append(cc)
        raw = unicodedata.decomposition(ch)
        if not raw:
            continue
        for form in FORMS:
            if unicodedata.normalize(form, ch) != ch:
                changed[form].append(cp)
        if cp in hangul:
            continue
        for kind, form in (("canon", "NFD"), ("compat", "NFKD")):
            full = unicodedata.normalize(form, ch)
            if full != ch:
                cps, off, data = decomposed[kind]
                cps.append(cp)
                data.extend(map(ord, full))
                off.append(len(data))
        parts = raw.split()
        if not parts[0].startswith("<") and len(parts) == 2 and unicodedata.normalize("NFC", ch) == ch:
            pairs.append((int(parts[0], 16), int(parts[1], 16), cp))
    out = {"ccc_cps": np.array(ccc_cps, np.int32), "ccc_values": np.array(ccc_values, np.uint8)}
    for kind, (cps, off, data) in decomposed.items():
        out[f"{kind}_cps"] = np.array(cps, np.int32)
        out[f"{kind}_off"] = np.array(off, np.int32)
        out[f"{kind}_data"] = np.array(data, np.int32)
    first, second, value = zip(*pairs)
    out.update(pair_first=np.array(first, np.int32), pair_second=np.array(second, np.int32),
               pair_value=np.array(value, np.int32))
    for form, cps in changed.items():
        out[f"changed_{form.lower()}"] = np.array(cps, np.int32)
    return out
