"""Load a spec: bytes → text (or DSC100) → AST (or syntax diagnostics)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from dsc import ast
from dsc.diagnostics import Diagnostic
from dsc.syntax.build import build
from dsc.syntax.parser import parse_tree
from dsc.syntax.source import SourceFile

MAX_SPEC_BYTES = 8 * 1024 * 1024


def parse(source: SourceFile) -> tuple[ast.Spec | None, list[Diagnostic]]:
    """Parse a spec into its AST; on syntax errors, or number literals beyond the limits of
    `dsc.syntax.numbers` (DSC209), return None and every error found.

    >>> spec, diags = parse(SourceFile("x.dspec", "gate {\\n  dropped <= 5%\\n}\\n"))
    >>> type(spec.blocks[0]).__name__, diags
    ('GateBlock', [])
    """
    tree, diags = parse_tree(source)
    if tree is None:
        return None, diags
    return build(tree, source)


def read_source(path: str | Path, display: str | None = None) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Read a spec file as UTF-8 text, or explain why not: DSC107 when the file cannot be read
    at all (missing, a directory, a FIFO, a device), DSC100 when its bytes are not a spec's text
    (or more than MAX_SPEC_BYTES of them).

    Only a regular file is read, and at most MAX_SPEC_BYTES + 1 bytes of it: a FIFO would block
    the command until something wrote to it, `/dev/zero` would never end. The file is opened
    without blocking and checked on its descriptor, so it cannot be swapped after the check.

    >>> read_source("/dev/null")[1][0].message
    '/dev/null: is a character device, not a spec file'
    """
    shown = display or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, [Diagnostic("DSC107", f"{shown}: no such file", hint="check the path")]
    except OSError as err:
        return None, [Diagnostic("DSC107", f"{shown}: cannot be read ({err.strerror})")]
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _NOT_REGULAR.get(stat.S_IFMT(mode), "not a regular file")
            return None, [Diagnostic("DSC107", f"{shown}: is {kind}, not a spec file")]
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(MAX_SPEC_BYTES + 1)
    except OSError as err:
        return None, [Diagnostic("DSC107", f"{shown}: cannot be read ({err.strerror})")]
    finally:
        os.close(fd)
    return decode_source(data, shown)


_NOT_REGULAR = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device"}


def decode_source(data: bytes, shown: str) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Decode spec bytes; binary, oversized or non-UTF-8 input is a DSC100 diagnostic.

    >>> decode_source(b"\\xff\\xfe", "x.dspec")[1][0].message
    'x.dspec: not UTF-8 text (invalid byte 0xff at line 1, column 1)'
    """
    if len(data) > MAX_SPEC_BYTES:
        return None, [Diagnostic("DSC100", f"{shown}: is larger than a spec may be ({MAX_SPEC_BYTES} bytes)")]
    if b"\x00" in data:
        return None, [Diagnostic("DSC100", f"{shown}: looks like a binary file (it contains NUL bytes)",
                                 hint="a .dspec file is UTF-8 text")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        before = data[: err.start]
        line = before.count(b"\n") + 1
        column = err.start - (before.rfind(b"\n") + 1) + 1
        return None, [Diagnostic("DSC100", f"{shown}: not UTF-8 text (invalid byte 0x{data[err.start]:02x} "
                                            f"at line {line}, column {column})",
                                 hint="save the file as UTF-8")]
    return SourceFile(shown, text), []
