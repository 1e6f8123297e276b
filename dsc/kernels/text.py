"""Vectorised text normalisation over Arrow string arrays (for dedupe keys).

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

How whitespace and controls are removed without a per-row Python loop: the
UTF-8 bytes of each ~1 MiB block of rows are classified with a few numpy
passes (non-ASCII characters are decoded only where non-ASCII bytes occur),
unwanted bytes are marked in a bitmap, the survivors are compacted by
Arrow's ``filter`` kernel, and new row offsets come from a running popcount
of the bitmap.  An array in which no block needs a change is returned as is.

Only rows a step can change are worked on (issue 22: the chain at the cost of one or two Arrow
kernels on most text).  A row goes to ``utf8_normalize`` only if it holds a code point that can
be out of the normal form (Unicode's quick check; see :func:`_form_unsafe_table`), found with
one RE2 pass (``match_substring_regex``) over the non-ASCII rows: almost all text is in NFC
already, and the normaliser costs ten times ``utf8_lower``.  On text with many non-ASCII bytes
(where the byte kernels decode every character) one RE2 pass over a character class of what
the steps change picks the rows first.  The classes are built from the same tables the kernels
use, so every route gives the same bytes.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.vocabulary import NORMALIZE_STEPS

__all__ = ["NORMALIZE_STEPS", "normalize"]


_BLOCK_BYTES = 1 << 20  # bytes per block: the dozen numpy passes over it stay in cache
_SPACE = 0x20
_MOSTLY = 0.5  # above this share of rows needing a kernel, run it on the whole array


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
    original lengths): every screen compiles its RE2 pattern once per call, a millisecond
    or two for the normal-form class, which would dominate a column of many small chunks.
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
    patterns = [p for p, step in ((_form_pattern(form) if form else None, form),
                                  (_control_pattern(), "strip_control" in wanted),
                                  (_collapse_pattern(), "collapse_whitespace" in wanted)) if step]
    if patterns:
        text = _text_kind(arr)
        if text == _DENSE:
            # Much non-ASCII text, where the byte kernels cost more than a regex pass: one
            # RE2 pass finds the rows any of these steps can change, and only they are worked on.
            rows = _matching(arr, "|".join(patterns))
            if rows.mean() > _MOSTLY:
                arr = _screened_steps(arr, wanted, form, text)
            elif rows.any():
                mask = pa.array(rows)
                arr = pc.replace_with_mask(arr, mask, _screened_steps(arr.filter(mask), wanted, form, text))
        else:
            arr = _screened_steps(arr, wanted, form, text)
    if "strip" in wanted:
        arr = _strip(arr)
    if "casefold" in wanted:
        arr = _casefold(arr)
        if form:  # folding can un-normalise: 'ß' + U+0301 -> 'ss' + U+0301, whose NFC is 's' + 'ś'
            arr, _ = _to_form(arr, form)
    return arr


# What text an array holds, which picks the cheaper route (every route gives the same result):
_ASCII, _SPARSE, _DENSE = "ascii", "sparse", "dense"  # none, few, many non-ASCII bytes
_DENSE_SHARE = 1 / 16  # share of non-ASCII bytes from which text is dense


def _text_kind(arr: pa.Array) -> str:
    data = _raw(arr)[1]
    if data.size == 0 or int(data.max()) < 0x80:
        return _ASCII
    return _DENSE if np.count_nonzero(data >= 0x80) > _DENSE_SHARE * data.size else _SPARSE


def _screened_steps(arr: pa.Array, wanted: set[str], form: str | None, text: str) -> pa.Array:
    """The normal form, ``strip_control`` and ``collapse_whitespace``.

    The form runs on the rows its screen finds (``utf8_normalize`` is the costly kernel).  The
    two byte kernels skip blocks they do not change, and cost little per ASCII byte; but they
    decode every multi-byte character they meet, so on dense non-ASCII text an RE2 screen
    keeps them to the rows they change.
    """
    unsafe = None
    if form and text != _ASCII:  # ASCII is in every normal form
        arr, unsafe = _to_form(arr, form)

    def kernel(a: pa.Array, block, pattern: str) -> pa.Array:
        if text == _DENSE:
            return _on_rows(a, _matching(a, pattern), lambda rows: _rewrite(rows, block))
        return _rewrite(a, block)

    if "strip_control" in wanted:
        old_len = _lengths(arr) if unsafe is not None and unsafe.any() else None
        arr = kernel(arr, _control_block, _control_pattern())
        if old_len is not None:
            # see module docstring: removal can un-normalise a row, but only a row that held a
            # screened code point before (removing characters adds none)
            arr, _ = _to_form(arr, form, (_lengths(arr) != old_len) & unsafe)
    if "collapse_whitespace" in wanted:
        arr = kernel(arr, _collapse_block, _collapse_pattern())
    return arr


def _to_form(arr: pa.Array, form: str, rows: np.ndarray | None = None) -> tuple[pa.Array, np.ndarray]:
    """``arr`` in normal ``form``, and the rows that were sent to ``utf8_normalize``.

    Without ``rows``, those are the rows holding a code point that can be out of the form
    (:func:`_form_unsafe_table`): every other row is in the form already, by Unicode's quick
    check.  With ``rows``, exactly those rows (a superset of such rows the caller knows).
    """
    if rows is None:
        rows = _bitmap(pc.invert(pc.fill_null(pc.string_is_ascii(arr), True)))  # ASCII is in every form
        if rows.mean() > _MOSTLY:
            rows = _matching(arr, _form_pattern(form))
        elif rows.any():
            mask = pa.array(rows)
            rows[rows] = _matching(arr.filter(mask), _form_pattern(form))
    return _on_rows(arr, rows, lambda a: pc.utf8_normalize(a, form)), rows


def _matching(arr: pa.Array, pattern: str) -> np.ndarray:
    """Bool per row: the row holds a match of the RE2 ``pattern`` (nulls never do).

    Arrow's RE2 runs a DFA over the UTF-8 bytes in compiled code, at one to three times the
    cost of ``utf8_lower``, so finding the few rows a step changes costs one pass, and the
    numpy kernels, which cost more per byte on non-ASCII text, only see those rows.  (Searching
    runs of rows as one string was tried: no faster, the cost is per byte, not per row.)
    """
    found = pc.match_substring_regex(arr, pattern)
    bits = _bitmap(found)
    if found.null_count:
        bits &= np.unpackbits(np.frombuffer(found.buffers()[0], np.uint8), count=found.offset + len(found),
                              bitorder="little")[found.offset :].view(bool)
    return bits


# ---------------------------------------------------------------------------
# Raw buffers


def _raw(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """int64 offsets starting at 0 and the UTF-8 bytes they index (zero-copy)."""
    width = np.int32 if pa.types.is_string(arr.type) else np.int64
    _, obuf, dbuf = arr.buffers()
    off = np.frombuffer(obuf, dtype=width)[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(dbuf, dtype=np.uint8) if dbuf is not None else np.empty(0, np.uint8)
    return off - off[0], data[off[0] : off[-1]]


def _rebuild(arr: pa.Array, off: np.ndarray, data: np.ndarray) -> pa.Array:
    """A new array of ``arr``'s type and validity over new offsets and bytes."""
    width = np.int32 if pa.types.is_string(arr.type) else np.int64
    validity = arr.is_valid().buffers()[1] if arr.null_count else None
    return pa.Array.from_buffers(
        arr.type, len(arr), [validity, pa.py_buffer(off.astype(width)), pa.py_buffer(data)]
    )


def _lengths(arr: pa.Array) -> np.ndarray:
    return np.diff(_raw(arr)[0])


def _on_rows(arr: pa.Array, rows: np.ndarray, fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``arr`` with ``fn`` applied to the selected rows only."""
    if not rows.any():
        return arr
    if rows.mean() > _MOSTLY:  # cheaper to run fn over everything than to splice
        return fn(arr)
    mask = pa.array(rows)
    return pc.replace_with_mask(arr, mask, fn(arr.filter(mask)))


def _row_blocks(off: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive row ranges of about ``_BLOCK_BYTES`` bytes (a longer row is its own block)."""
    n = len(off) - 1
    cuts = np.searchsorted(off, np.arange(_BLOCK_BYTES, off[-1], _BLOCK_BYTES))
    cuts = np.unique(np.concatenate(([0], cuts, [n])))
    return list(zip(cuts[:-1].tolist(), cuts[1:].tolist()))


# ---------------------------------------------------------------------------
# Finding non-ASCII characters


def _rows_with(arr: pa.Array, *tables: np.ndarray) -> list[np.ndarray]:
    """Bool per row: holds a non-ASCII character; then, per table, one whose code point is set.

    Works block by block so memory stays proportional to a block, not to the
    number of non-ASCII characters (which for CJK text is most of them).
    """
    off, data = _raw(arr)
    masks = [np.zeros(len(arr), dtype=bool) for _ in range(1 + len(tables))]
    for b0 in range(0, data.size, _BLOCK_BYTES):
        lead = b0 + _lead_positions(data[b0 : b0 + _BLOCK_BYTES])
        if lead.size == 0:
            continue
        row = np.searchsorted(off, lead, side="right") - 1
        masks[0][row] = True
        if tables:
            cp = _decode(data, lead)  # the whole buffer: a character may cross the block end
            for mask, table in zip(masks[1:], tables):
                mask[row[table[cp]]] = True
    return masks


def _lead_positions(d: np.ndarray) -> np.ndarray:
    """Positions of the first byte of every multi-byte UTF-8 character in ``d``.

    Mostly-ASCII text is the common case, so non-ASCII bytes are located
    eight at a time (the byte mask read as uint64 words) before looking at
    single bytes: ``flatnonzero`` over a sparse byte mask is the slow part.
    """
    high = d >= 0x80
    if not high.any():
        return np.empty(0, dtype=np.int64)
    m = d.size - d.size % 8
    hot = np.flatnonzero(high[:m].view(np.uint64) != 0)  # groups of 8 bytes with a high byte
    if hot.size * 4 > m // 8:  # dense (most text not in Latin script): one pass over the bytes
        return np.flatnonzero(d >= 0xC0)
    cand = np.concatenate(((hot[:, None] * 8 + np.arange(8)).ravel(), np.arange(m, d.size)))
    return cand[d[cand] >= 0xC0]  # 0x80-0xBF are continuation bytes


def _decode(d: np.ndarray, lead: np.ndarray) -> np.ndarray:
    """Code points of the (valid UTF-8) characters starting at ``lead``."""
    last = max(d.size - 1, 0)
    b0 = d[lead].astype(np.int64)
    b1, b2, b3 = (d[np.minimum(lead + i, last)].astype(np.int64) & 0x3F for i in (1, 2, 3))
    return np.select(
        [b0 < 0xE0, b0 < 0xF0],
        [((b0 & 0x1F) << 6) | b1, ((b0 & 0x0F) << 12) | (b1 << 6) | b2],
        ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3,
    )


def _char_bytes(lead: np.ndarray, d: np.ndarray) -> np.ndarray:
    """All byte positions of the characters starting at ``lead``."""
    width = 2 + (d[lead] >= 0xE0) + (d[lead] >= 0xF0)
    return np.repeat(lead, width) + _ragged_arange(width)


def _ragged_arange(counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(c) for c in counts])`` without the loop."""
    ends = np.cumsum(counts)
    return np.arange(ends[-1] if counts.size else 0) - np.repeat(ends - counts, counts)


# ---------------------------------------------------------------------------
# Code point tables (built once per process, on first use)


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


@functools.cache
def _whitespace_table() -> np.ndarray:
    return _table(re.findall(r"\s", _all_chars()))  # re's \s is str.isspace


@functools.cache
def _control_table() -> np.ndarray:
    """Cc and Cf code points, minus tab and newline."""
    kept = "\t\n"
    chars = "\x00" + _all_chars()
    return _table([c for c in chars if c not in kept and unicodedata.category(c) in ("Cc", "Cf")])


@functools.cache
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


def _char_class(table: np.ndarray) -> str:
    """An RE2 character class of the code points set in ``table`` (ranges, surrogates left out)."""
    table = table.copy()
    table[0xD800:0xE000] = False
    cps = np.flatnonzero(table)
    if cps.size == 0:
        return "[^\\x{0}-\\x{10FFFF}]"  # matches nothing
    gap = np.diff(cps) != 1
    starts, ends = cps[np.r_[True, gap]], cps[np.r_[gap, True]]
    return "[" + "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}"
                         for a, b in zip(starts.tolist(), ends.tolist())) + "]"


@functools.cache
def _control_pattern() -> str:
    return _char_class(_control_table())


@functools.cache
def _collapse_pattern() -> str:
    """Rows ``collapse_whitespace`` changes: a whitespace character other than ' ', or two spaces."""
    table = _whitespace_table().copy()
    table[_SPACE] = False
    return _char_class(table) + "|  "


@functools.cache
def _form_pattern(form: str) -> str:
    return _char_class(_form_unsafe_table(form))


@functools.cache
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

    A row holding none of them is left as is; the others go to ``utf8_normalize``, so the
    result is Arrow's normal form for every row, as before this screen existed.
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
# Byte-level rewriting: drop some bytes, replace others, fix offsets


def _rewrite(arr: pa.Array, kernel) -> pa.Array:
    """Run ``kernel(bytes, offsets)`` per block; reassemble if any block changed.

    A kernel returns None (block unchanged) or its new bytes and offsets.
    """
    off, data = _raw(arr)
    pieces, offsets, pos, changed = [], [np.zeros(1, np.int64)], 0, False
    for r0, r1 in _row_blocks(off):
        b0, b1 = off[r0], off[r1]
        d, o = data[b0:b1], off[r0 : r1 + 1] - b0
        out = kernel(d, o) if d.size else None
        if out is not None:
            d, o = out
            changed = True
        pieces.append(d)
        offsets.append(o[1:] + pos)
        pos += d.size
    if not changed:
        return arr
    return _rebuild(arr, np.concatenate(offsets), np.concatenate(pieces))


def _compact(out: np.ndarray, drop: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove the ``drop`` bytes from ``out`` and shift offsets ``o`` to match."""
    if not drop.any():
        return out, o
    packed = np.packbits(drop, bitorder="little")
    keep = pa.Array.from_buffers(pa.bool_(), out.size, [None, pa.py_buffer(np.invert(packed))])
    kept = pa.Array.from_buffers(pa.uint8(), out.size, [None, pa.py_buffer(out)]).filter(keep)
    data = np.frombuffer(kept.buffers()[1], dtype=np.uint8, count=len(kept), offset=kept.offset)
    return data, o - _ones_before(packed, o)


def _ones_before(packed: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Number of set bits before each bit position in a little-endian bitmap."""
    words = np.concatenate((packed, np.zeros(-packed.size % 8, np.uint8))).view("<u8")
    cum = np.concatenate(([0], np.cumsum(_popcount(words))))
    word, bit = pos >> 6, (pos & 63).astype(np.uint64)
    below = words[np.minimum(word, words.size - 1)] & ((np.uint64(1) << bit) - np.uint64(1))
    return cum[word] + _popcount(below)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(x).astype(np.int64)
    return np.unpackbits(x.view(np.uint8)).reshape(x.size, -1).sum(axis=1, dtype=np.int64)


def _follows_same_row(w: np.ndarray, o: np.ndarray) -> np.ndarray:
    """True where ``w`` holds at a byte and at the byte before it in the same row."""
    both = np.empty_like(w)
    both[0] = False
    np.logical_and(w[1:], w[:-1], out=both[1:])
    starts = o[:-1]
    both[starts[starts < w.size]] = False
    return both


_ASCII_CONTROL = np.zeros(256, dtype=bool)  # by byte: an ASCII control strip_control drops
_ASCII_CONTROL[[*range(0x09), *range(0x0B, 0x20), 0x7F]] = True


def _control_block(d: np.ndarray, o: np.ndarray):
    """Drop Cc/Cf characters except tab and newline."""
    drop = None
    low = np.flatnonzero(d < 0x20) if d.min() < 0x20 else np.empty(0, np.int64)  # few: newlines, tabs
    low = low[_ASCII_CONTROL[d[low]]]
    delete = (d == 0x7F).any()
    if low.size or delete:
        drop = d == 0x7F if delete else np.zeros(d.size, dtype=bool)
        drop[low] = True
    lead = _lead_positions(d)
    if lead.size:
        bad = lead[_control_table()[_decode(d, lead)]]
        if bad.size:
            if drop is None:
                drop = np.zeros(d.size, dtype=bool)
            drop[_char_bytes(bad, d)] = True
    if drop is None or not drop.any():
        return None
    return _compact(d, drop, o)


def _ascii_whitespace(d: np.ndarray) -> tuple[np.ndarray, bool]:
    """Mask of ASCII whitespace bytes, and whether ' ' is the only kind present.

    ASCII whitespace is 0x09-0x0D and 0x1C-0x20.  The byte minimum picks the
    cheapest exact test: no byte below 0x20 means only ' ' can occur; no
    byte in 0x00-0x08 or 0x0E-0x1B means "<= 0x20" is exact; otherwise the
    two ranges are tested separately.
    """
    low = d.min()
    if low >= 0x20:
        return d == _SPACE, True
    t = d - np.uint8(0x0E)  # wraps: 0x0E-0x1B -> 0-13
    if low >= 0x09 and t.min() >= 14:
        return d <= _SPACE, False
    np.subtract(d, np.uint8(0x09), out=t)  # 0x09-0x0D -> 0-4
    w = t < 5
    np.subtract(d, np.uint8(0x1C), out=t)  # 0x1C-0x20 -> 0-4
    w |= t < 5
    return w, False


def _collapse_block(d: np.ndarray, o: np.ndarray):
    """Turn each whitespace run into one space."""
    w, plain = _ascii_whitespace(d)
    lead = _lead_positions(d)
    if lead.size:
        lead = lead[_whitespace_table()[_decode(d, lead)]]
        if lead.size:
            w[_char_bytes(lead, d)] = True
            plain = False
    drop = _follows_same_row(w, o)  # whitespace right after whitespace: dropped
    if plain and not drop.any():
        return None  # every run is already a single ' '
    # ASCII whitespace bytes are <= 0x20, so max() turns exactly them into ' '.
    out = np.multiply(w.view(np.uint8), np.uint8(_SPACE))
    np.maximum(d, out, out=out)
    out[lead] = _SPACE  # first byte of a multi-byte space; the rest are dropped
    return _compact(out, drop, o)


# ---------------------------------------------------------------------------
# strip and casefold


def _strip(arr: pa.Array) -> pa.Array:
    """Trim whitespace at both ends (Arrow's trim uses the same whitespace)."""
    off, data = _raw(arr)
    nonempty = np.flatnonzero(np.diff(off) > 0)
    if nonempty.size == 0:
        return arr
    first, last = data[off[nonempty]], data[off[nonempty + 1] - 1]
    # Conservative test: a non-ASCII first or last byte may be whitespace.
    edge = _maybe_space(first) | (first >= 0xC2) | _maybe_space(last) | (last >= 0x80)
    return pc.utf8_trim_whitespace(arr) if edge.any() else arr


def _maybe_space(b: np.ndarray) -> np.ndarray:
    return (b == _SPACE) | ((b >= 0x09) & (b <= 0x0D)) | ((b >= 0x1C) & (b <= 0x1F))


def _casefold(arr: pa.Array) -> pa.Array:
    nonascii, unsafe = _rows_with(arr, _fold_unsafe_table())
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
