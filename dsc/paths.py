"""The rules every path a spec names follows, at check time and at run time.

A path is relative to the spec's folder. An absolute path would make a spec mean different things
on different machines, and is refused whatever the operating system's spelling (`/x`, `C:\\x`,
`\\\\server\\x`, `~/x`). `..` is allowed while the path stays inside the project
(`dsc.project.project_root`); a path that climbs out is refused (`unsafe`). A path that exists and
is — or passes through — a symlink leading out of the project is refused too, and so is one that
is, or passes through, a symlink loop (`linked_out`, `link_loop`).

The checks say so at the path in the spec (DSC218, `dsc.checks.paths`, `dsc.checks.hub_ids`); the
readers and the run's outputs use the same rules on what the file system holds when they run.
"""
from __future__ import annotations

import errno
import os
import re
from pathlib import Path

_ABSOLUTE = re.compile(r"^(/|\\|~|[A-Za-z]:)")
_GLOB = re.compile(r"[*?\[]")
_LOOP = "a symlink loop"
_LOOP_HINT = "remove the link, or point it at a file or folder"


def unsafe(path: str, base_dir: Path | None = None, root: Path | None = None) -> str | None:
    """Why `path` may not be used, or None when it is a relative path inside the project.

    >>> unsafe("data/*.jsonl"), unsafe("/etc/passwd")
    (None, 'it is absolute')
    >>> unsafe("../data/x.json", Path("/p/specs"), Path("/p")), unsafe("../../x", Path("/p/specs"), Path("/p"))
    (None, "it leaves the project with '..'")
    """
    if not path.strip():
        return "it is empty"
    if _ABSOLUTE.match(path):
        return "it is absolute"
    if base_dir is not None and root is not None and ".." in re.split(r"[/\\]", path):
        resolved = Path(os.path.normpath(Path(base_dir) / path.replace("\\", "/")))
        if not resolved.is_relative_to(root):
            return "it leaves the project with '..'"
    return None


def link_loop(path: Path) -> Path | None:
    """The symlink in a loop on the way to `path` (`path` itself, or a folder above it), or None
    (`Path.resolve` raises a RuntimeError for one, `os.stat` ELOOP).

    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> base = Path(tmp.name)
    >>> (base / "a").symlink_to("b"); (base / "b").symlink_to("a")
    >>> link_loop(base / "a" / "x.jsonl") == base / "a", link_loop(base / "missing"), link_loop(base)
    (True, None, None)
    >>> tmp.cleanup()
    """
    for step in (*reversed(path.parents), path):
        try:
            os.stat(step)
        except OSError as exc:
            return step if exc.errno == errno.ELOOP else None
    return None


def linked_out(path: str, base_dir: Path, root: Path) -> str | None:
    """Why the symlinks on the way to `path` (no glob) forbid it: one of them is in a loop, or they
    lead it out of the project; None when neither (or when it does not exist)."""
    if _GLOB.search(path):
        return None
    target = base_dir / path.replace("\\", "/")
    loop = link_loop(target)
    if loop is not None:
        return f"it is {_LOOP}" if loop == target else \
            f"it passes through '{Path(os.path.relpath(loop, base_dir)).as_posix()}', {_LOOP}"
    if os.path.lexists(target) and not Path(os.path.realpath(target)).is_relative_to(root):
        return "a symlink leads it out of the project"
    return None


def hint(why: str, otherwise: str) -> str:
    """The hint for a path refused for `why`: how to mend a symlink loop, else `otherwise`."""
    return _LOOP_HINT if why.endswith(_LOOP) else otherwise
