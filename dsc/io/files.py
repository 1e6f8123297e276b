"""Finding the files a data pattern matches, and the symlinks that lead nowhere, without ever
following a link cycle.

:func:`glob` reads a pattern as ``glob.glob(pattern, recursive=True)`` does -- ``*``, ``?`` and
``[...]`` within a name, ``**`` across folders, a name starting with ``.`` only where the
pattern's name does -- but ``**`` walks each folder once, however many links lead to it. Python's
glob follows a link to a folder above it (``data/self -> .``) until the path is too long: every
file 41 times over for one such link, and no end in sight for two. :func:`broken_link` says why a
match leads nowhere (a loop: :func:`dsc.paths.link_loop`).
"""
from __future__ import annotations

import os
import re
from collections import deque
from fnmatch import fnmatchcase
from pathlib import Path
from stat import S_ISDIR

from dsc.paths import link_loop

_MAGIC = re.compile(r"[*?[]")


def glob(pattern: str, base: Path) -> list[str]:
    """The paths ``pattern`` matches: relative to ``base`` (as ``glob.glob(..., root_dir=base)``
    gives them, glob characters in ``base`` taken as they are) unless it is absolute. Folders come
    too; the caller keeps what it can read.

    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> base = Path(tmp.name)
    >>> (base / "d" / "e").mkdir(parents=True)
    >>> for name in ("d/a.jsonl", "d/e/b.jsonl", "d/.c.jsonl"):
    ...     _ = (base / name).write_text("{}")
    >>> (base / "d" / "up").symlink_to("..")
    >>> (base / "d" / "e" / "self").symlink_to(".")
    >>> glob("**/*.jsonl", base), glob("d/*.jsonl", base), glob("d/.*.jsonl", base)
    (['d/a.jsonl', 'd/e/b.jsonl'], ['d/a.jsonl'], ['d/.c.jsonl'])
    >>> tmp.cleanup()
    """
    names = [name for name in pattern.split("/") if name]
    found = ["/" if os.path.isabs(pattern) else ""]
    for index, name in enumerate(names):
        folders_only = index < len(names) - 1 or pattern.endswith("/")
        if name == "**":
            walked: set[tuple[int, int]] = set()
            found = [path for start in found for path in _walk(start, base, folders_only, walked)]
        elif _MAGIC.search(name):
            found = [_join(folder, entry) for folder in found for entry, is_folder in _entries(base / folder)
                     if (is_folder or not folders_only) and (name.startswith(".") or not entry.startswith("."))
                     and fnmatchcase(entry, name)]
        else:
            found = [_join(folder, name) for folder in found if os.path.lexists(base / _join(folder, name))]
    return found


def _join(folder: str, name: str) -> str:
    return os.path.join(folder, name) if folder else name


def _entries(folder: Path) -> list[tuple[str, bool]]:
    """The names in ``folder``, sorted, each with whether it is a folder (or a link to one)."""
    try:
        with os.scandir(folder) as entries:
            return sorted((entry.name, _is_folder(entry)) for entry in entries)
    except OSError:
        return []


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _walk(start: str, base: Path, folders_only: bool, walked: set[tuple[int, int]]) -> list[str]:
    """What ``**`` matches from ``start``: itself and every folder under it, breadth first, each
    real folder (device, inode) once -- under its shortest name -- and, unless ``folders_only``,
    every other entry; names starting with ``.`` left out."""
    out = [start]  # as glob has it, whatever it is
    queue = deque([start])
    while queue:
        folder = queue.popleft()
        try:
            info = os.stat(base / folder)
        except OSError:
            continue
        if not S_ISDIR(info.st_mode) or (info.st_dev, info.st_ino) in walked:
            continue
        walked.add((info.st_dev, info.st_ino))
        out += [] if folder == start else [folder]
        for name, is_folder in _entries(base / folder):
            if name.startswith("."):
                continue
            if is_folder:
                queue.append(_join(folder, name))
            elif not folders_only:
                out.append(_join(folder, name))
    return out


def broken_link(path: Path) -> str | None:
    """Why ``path`` -- a name in its folder -- leads to no file or folder through a symlink, or None."""
    if link_loop(path) is not None:
        return "a symlink loop"
    if os.path.islink(path) and not os.path.exists(path):
        return "a symlink to a file that does not exist"
    return None
