"""Compiled byte kernels: what every kernel that walks UTF-8 bytes in a loop shares.

Some text work has no Arrow compute kernel and costs a dozen numpy passes when written with
whole-array operations (counting words, collapsing whitespace on text with many non-ASCII
characters): one pass in compiled code is cheaper than any of them. Such loops are compiled
with numba (`kernel`): machine code built from the Python source on first use and cached on
disk beside it (`__pycache__`), so only the first run on a machine pays the compilation.

Every kernel releases the GIL (`nogil`), so `in_parts` can run one over several row ranges at
once in threads, with no copy of the data: `--workers N` spreads the compiled stages over N
cores. Each part writes only its own rows of the output, so the result is the same bytes with
one worker or many.

Strings come as Arrow buffers (`dsc.kernels.buffers.utf8_buffers`): int64 offsets from 0 and
the UTF-8 bytes they index. Arrow has validated them as UTF-8, which `decode` relies on.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["kernel", "decode", "load8", "store8", "copy_bytes", "call_address", "trailing_zeros", "space_width", "word_end", "kept_on_disk", "in_parts",
           "part_bounds", "bytes_at", "prefetch", "popcount"]


def kernel(fn: Callable) -> Callable:
    """`fn` compiled: no Python objects inside, GIL released, machine code cached on disk."""
    return numba.njit(cache=True, nogil=True)(fn)


@numba.njit(cache=True, nogil=True, inline="always")
def decode(data: np.ndarray, i: int) -> tuple[int, int]:
    """The code point of the (valid) UTF-8 character starting at byte `i`, and its width in bytes."""
    b = np.int64(data[i])
    if b < 0x80:
        return b, 1
    if b < 0xE0:
        return ((b & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F), 2
    if b < 0xF0:
        return ((b & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) | (np.int64(data[i + 2]) & 0x3F), 3
    return (((b & 0x07) << 18) | ((np.int64(data[i + 1]) & 0x3F) << 12) | ((np.int64(data[i + 2]) & 0x3F) << 6)
            | (np.int64(data[i + 3]) & 0x3F)), 4


@intrinsic
def load8(typingctx, arr, i):
    """Bytes i..i+7 of a uint8 array as one little-endian word, in one unaligned load.

    Built byte by byte, the compiler keeps eight loads (a negative index could wrap), and a
    word-at-a-time loop is then no faster than a byte loop. The caller keeps i + 8 within the
    array.
    """
    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), ir.IntType(64).as_pointer())
        return builder.load(ptr, align=1)
    return types.uint64(arr, types.intp), codegen


@intrinsic
def store8(typingctx, arr, i, word):
    """Word written as bytes i..i+7 of a uint8 array, in one unaligned store (see load8)."""
    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), ir.IntType(64).as_pointer())
        builder.store(args[2], ptr, align=1)
        return context.get_dummy_value()
    return types.void(arr, types.intp, types.uint64), codegen


@intrinsic
def copy_bytes(typingctx, dst, at, src, start, count):
    """`dst[at:at + count] = src[start:start + count]` for uint8 arrays, as one `memcpy`.

    numba compiles the slice assignment to a loop with a check for overlap; this is the C library's
    copy, which runs at memory speed. The caller keeps both ranges within their arrays, and they
    must not overlap."""
    def codegen(context, builder, signature, args):
        out = context.make_array(signature.args[0])(context, builder, args[0])
        inp = context.make_array(signature.args[2])(context, builder, args[2])
        cgutils.raw_memcpy(builder, builder.gep(out.data, [args[1]]), builder.gep(inp.data, [args[3]]), args[4],
                           context.get_constant(types.intp, 1))
        return context.get_dummy_value()
    return types.void(dst, types.intp, src, types.intp, types.intp), codegen


@intrinsic
def call_address(typingctx, address, args):
    """A call of the C function at the integer `address`, which takes pointers and sizes and
    returns an integer (or a pointer, or nothing), read back as a uint64: for C libraries a
    kernel calls with the GIL released (`dsc.kernels.sha`, `dsc.kernels.xxh`). The address is an
    argument, never compiled in: kernels are cached on disk, and with address-space
    randomisation a library lies elsewhere in the next process. `args` is a tuple of
    `(uint8 array, start)` for a pointer to `array[start]` and of integers for a `size_t` (or
    another 64-bit integer argument). A function returning a narrower integer, or nothing,
    leaves the upper bits of the result undefined: read only what the function returns."""
    if not isinstance(address, types.Integer) or not isinstance(args, types.BaseTuple):
        return None
    kinds = []
    for arg in args:
        if isinstance(arg, types.BaseTuple) and len(arg.types) == 2 and isinstance(arg.types[0], types.Array) \
                and arg.types[0].dtype == types.uint8 and isinstance(arg.types[1], types.Integer):
            kinds.append("pointer")
        elif isinstance(arg, types.Integer):
            kinds.append("size")
        else:
            return None

    def codegen(context, builder, signature, llargs):
        byte_ptr = ir.IntType(8).as_pointer()
        size_t = context.get_value_type(types.uintp)
        arg_types = signature.args[1].types
        values = []
        for i, kind in enumerate(kinds):
            item = builder.extract_value(llargs[1], i)
            if kind == "pointer":
                (array_type, start_type) = arg_types[i].types
                array = context.make_array(array_type)(context, builder, builder.extract_value(item, 0))
                start = context.cast(builder, builder.extract_value(item, 1), start_type, types.intp)
                values.append(builder.bitcast(builder.gep(array.data, [start]), byte_ptr))
            else:
                values.append(context.cast(builder, item, arg_types[i], types.uintp))
        fnty = ir.FunctionType(ir.IntType(64), [byte_ptr if k == "pointer" else size_t for k in kinds])
        target = builder.inttoptr(context.cast(builder, llargs[0], signature.args[0], types.uintp),
                                  fnty.as_pointer())
        return builder.call(target, values)

    return types.uint64(address, args), codegen


@intrinsic
def trailing_zeros(typingctx, word):
    """Count of trailing zero bits of a nonzero uint64 (one instruction)."""
    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))
    return types.uint64(types.uint64), codegen


@numba.njit(cache=True, nogil=True, inline="always")
def space_width(data: np.ndarray, i: int) -> int:
    """The width in bytes of the whitespace character at byte `i`, or 0 when it is not one.

    Whitespace is what `str.isspace` (and `str.split()`) calls it, the same set as Arrow's
    `utf8_is_space`: `\\t \\n \\v \\f \\r`, `\\x1c`-`\\x1f`, space, U+0085, U+00A0, U+1680,
    U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and U+3000, matched by their UTF-8 bytes (the
    text is valid UTF-8, so a lead byte's continuation bytes are there)."""
    b = data[i]
    if b < 0x80:
        return 1 if (b == 0x20 or 0x09 <= b <= 0x0D or 0x1C <= b <= 0x1F) else 0
    if b == 0xC2:
        c = data[i + 1]
        return 2 if (c == 0x85 or c == 0xA0) else 0
    if b == 0xE1:
        return 3 if (data[i + 1] == 0x9A and data[i + 2] == 0x80) else 0
    if b == 0xE2:
        c, d = data[i + 1], data[i + 2]
        if c == 0x80:
            return 3 if (d <= 0x8A or d == 0xA8 or d == 0xA9 or d == 0xAF) else 0
        return 3 if (c == 0x81 and d == 0x9F) else 0
    if b == 0xE3:
        return 3 if (data[i + 1] == 0x80 and data[i + 2] == 0x80) else 0
    return 0


def part_bounds(off: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """`parts` consecutive row ranges of about equal bytes (fewer when there are fewer rows).

    >>> part_bounds(np.array([0, 10, 20, 30, 40]), 2)
    [(0, 2), (2, 4)]
    """
    rows = len(off) - 1
    parts = max(1, min(parts, rows))
    cuts = np.searchsorted(off, np.linspace(0, off[-1], parts + 1)[1:-1], side="left") if parts > 1 else []
    bounds = sorted({0, rows, *np.asarray(cuts, dtype=np.int64).tolist()})
    return list(zip(bounds[:-1], bounds[1:]))


def in_parts(fn: Callable[[int, int], object], off: np.ndarray, workers: int) -> list:
    """`fn(lo, hi)` over `workers` row ranges of about equal bytes, in threads; the results in row
    order. `fn` should spend its time in a `kernel` (which releases the GIL) and write only rows
    lo..hi of any shared output."""
    bounds = part_bounds(off, workers)
    if len(bounds) == 1:
        return [fn(*bounds[0])]
    with ThreadPoolExecutor(len(bounds)) as pool:
        return list(pool.map(lambda b: fn(*b), bounds))


_HIGH = np.uint64(0x8080808080808080)
_BELOW_SPACE = np.uint64(0x2121212121212121)


@numba.njit(cache=True, nogil=True, inline="always")
def word_end(data: np.ndarray, i: int, end: int) -> int:
    """The end (exclusive) of the word that goes on at byte `i`: the next whitespace character
    (`space_width`) before `end`, or `end`.

    Eight bytes are tested at a time for one that may begin whitespace (below 0x21: the ASCII
    spaces and controls; above 0x7F: the lead bytes of U+0085 ... U+3000), exact per byte with no
    carry between bytes, so the lowest flagged byte is the first to look at; only those are
    looked up. Reads stop 8 bytes before the end of `data`, then go byte by byte."""
    last = data.size - 8
    while i < end:
        if i <= last:
            w = load8(data, i)
            flagged = (~((w | _HIGH) - _BELOW_SPACE) | w) & _HIGH  # (b & 0x7F) < 0x21, or b >= 0x80
            if flagged == 0:
                i += 8
                continue
            i += np.int64(trailing_zeros(flagged) >> np.uint64(3))
            if i >= end:
                return end
        if data[i] == 0x20 or space_width(data, i):
            return i
        i += 1
    return end


def kept_on_disk(name: str, key: bytes, build: Callable[[], dict[str, np.ndarray]],
                 valid: Callable[[dict[str, np.ndarray]], bool]) -> dict[str, np.ndarray]:
    """Arrays derived once per machine rather than once per process (code point tables: a
    build costs more than normalising 100k rows), read back from an ``.npz`` beside numba's
    compiled kernels (``__pycache__``, or ``NUMBA_CACHE_DIR``) named by `name` and a digest of
    `key` (what decides the content: the builder's source, library and Unicode versions).

    A file is written to a temporary name and renamed, so a reader sees a whole one or none; one
    that cannot be read, or that `valid` refuses, is built again; one that cannot be written is
    only not kept."""
    folder = Path(numba.config.CACHE_DIR or Path(__file__).parent / "__pycache__")
    path = folder / f"{name}.{hashlib.sha256(key).hexdigest()[:16]}.npz"
    try:
        with np.load(path, allow_pickle=False) as f:
            stored = {n: f[n] for n in f.files}
        if valid(stored):
            return stored
    except (OSError, ValueError, KeyError, EOFError):
        pass
    built = build()
    temp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as f:
            temp = f.name
            np.savez(f, **built)
        os.replace(temp, path)
    except OSError:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
    return built


@intrinsic
def bytes_at(typingctx, address, size):
    """The `size` bytes at the integer `address` as a read-only uint8 array: a view that owns
    nothing, for a kernel that reads values lying in many Arrow buffers (a column cut into one
    chunk per source block) through one array of addresses, rather than a copy of them all in one
    buffer or a call per buffer. `load8` and indexing work on it as on any array, so a loop keeps
    its loads within each value as it would in one buffer. The caller keeps the bytes alive (the
    Arrow array holding them) and `size` within them; the address is an argument, never compiled
    in (kernels are cached on disk, and buffers lie elsewhere in the next process)."""
    if not isinstance(address, types.Integer) or not isinstance(size, types.Integer):
        return None
    view = types.Array(types.uint8, 1, "C", readonly=True)

    def codegen(context, builder, signature, args):
        ary = context.make_array(view)(context, builder)
        data = builder.inttoptr(context.cast(builder, args[0], signature.args[0], types.uintp),
                                ir.IntType(8).as_pointer())
        one = context.get_constant(types.intp, 1)
        context.populate_array(ary, data=data, shape=[context.cast(builder, args[1], signature.args[1], types.intp)],
                               strides=[one], itemsize=one, meminfo=None)
        return ary._getvalue()

    return view(address, size), codegen


@intrinsic
def prefetch(typingctx, arr, i):
    """A hint that element `i` of `arr` will be read soon (`llvm.prefetch`: read, keep in all cache
    levels): a loop whose next loads are scattered (a hash table's slots, the rows a compare reads)
    asks for them a few iterations ahead, so their memory arrives while it works on the current
    ones (1M keys into a hash table: 12.5 ms to 9 ms). It never faults and changes no result; the
    caller still keeps `i` within `arr`, so the hint names memory the loop will read."""
    if not isinstance(arr, types.Array) or not isinstance(i, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        at = context.cast(builder, args[1], signature.args[1], types.intp)
        byte_ptr = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [byte_ptr, ir.IntType(32), ir.IntType(32), ir.IntType(32)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        flag = lambda v: ir.Constant(ir.IntType(32), v)  # noqa: E731
        builder.call(fn, [builder.bitcast(builder.gep(ary.data, [at]), byte_ptr), flag(0), flag(3), flag(1)])
        return context.get_dummy_value()

    return types.void(arr, i), codegen


@intrinsic
def popcount(typingctx, word):
    """Count of set bits of a uint64 (`llvm.ctpop`: one instruction where the CPU has one): a
    kernel that marks bytes of a word in a mask (`dsc.kernels.words` marks where words start, 8
    bytes at a time) counts them without a loop over the bytes."""
    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])
    return types.uint64(types.uint64), codegen
