"""Shared pieces of the reliability tests: the fuzz settings, and an audit-hook recorder of file
opens and sockets.

`sys.addaudithook` hooks cannot be removed, so one hook is installed once per process and records
only while a `Watch` is active (a cheap flag test otherwise).
"""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

# Examples per hypothesis fuzz target: 0.4 × the hypothesis profile's (40 under `ci`,
# derandomised, so CI is repeatable); `make fuzz` sets DSC_FUZZ_EXAMPLES to thousands. One home
# for every example count: tests/hypothesis_budget.py.
from hypothesis_budget import fuzz_settings  # noqa: F401  (re-exported for the fuzz targets)


_active: list["Watch"] = []
_installed = False
_lock = threading.Lock()

# Events that create or use a network socket.
NET_EVENTS = {"socket.__new__", "socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
              "socket.sendto", "socket.bind", "http.client.connect", "urllib.Request"}


def _hook(event: str, args) -> None:
    if not _active:
        return
    watch = _active[-1]
    if event == "open":
        path, mode, flags = (list(args) + [None, None, None])[:3]
        if isinstance(path, int) or path is None:
            return
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if not writing:
            watch.reads.append(os.fsdecode(path))
    elif event in ("os.listdir", "os.scandir", "glob.glob"):
        watch.listings.append(os.fsdecode(args[0]) if args and args[0] is not None else ".")
    elif event in NET_EVENTS:
        watch.network.append((event, repr(args)[:200]))


class Watch:
    """Context manager: `reads` (paths opened for reading), `listings` (folders listed) and
    `network` (socket events) while active."""

    def __init__(self):
        self.reads: list[str] = []
        self.listings: list[str] = []
        self.network: list[tuple[str, str]] = []

    def __enter__(self) -> "Watch":
        global _installed
        with _lock:
            if not _installed:
                sys.addaudithook(_hook)
                _installed = True
        _active.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _active.remove(self)


def library_roots() -> list[Path]:
    """Folders whose files are code and package data (imports, babel's locale data), not user data."""
    import dsc

    package = Path(dsc.__file__).parent
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), package,
             package.parent / "dsc.egg-info"}  # the editable install's metadata
    roots |= {Path(p) for p in sys.path if p and "site-packages" in p}
    return [r.resolve() for r in roots]


def outside(paths: list[str], roots: list[Path]) -> list[str]:
    """The paths that are not under any of `roots`."""
    out = []
    for p in paths:
        if os.sep not in p:  # import-system pseudo paths ('__editable__…__path_hook__')
            continue
        try:
            resolved = Path(p).resolve()
        except OSError:
            resolved = Path(p)
        if not any(resolved.is_relative_to(r) for r in roots):
            out.append(p)
    return out
