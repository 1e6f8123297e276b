"""Writing a file so that a reader never sees half of it: temp file, fsync, rename.

`replace_bytes` is the one way dsc writes a whole file in place (the report rendered again, a
Ray worker's shard); `write_atomic` adds what a command needs to write a file it was asked to
(`fmt --write`, `init`, `finetune config`): refusing to replace anything but a regular file, and
saying why a write failed (`WriteError`, exit 4).
"""
from __future__ import annotations

import os
from pathlib import Path

from dsc.errors import DscError


class WriteError(DscError):
    """A file the command was asked to write cannot be: the message names it and why (exit 4)."""

    default_code = "DSC305"


def replace_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a hidden temp file beside it (`.NAME.tmp-PID`), synced, then
    renamed over `path`. A failed write leaves neither the temp file nor a changed `path`."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if tmp.is_file():
            tmp.unlink()
        raise


def write_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8, as written) with `replace_bytes`, its folder made if need be. Only a
    regular file is ever replaced: a symbolic link, a device or a FIFO at `path` is left as it is
    (WriteError), as the rename would put a plain file in its place."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        kind = "a symbolic link" if path.is_symlink() else "a directory" if path.is_dir() else "a device or a FIFO"
        raise WriteError(f"{path}: is {kind}, not a file dsc replaces; write to another path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_bytes(path, text.encode("utf-8"))
    except OSError as err:
        raise WriteError(f"{path}: cannot be written ({err.strerror or err})") from None
