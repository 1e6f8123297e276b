"""Peak-RSS measurement shared by the benchmarks.

``getrusage``'s ``ru_maxrss`` cannot be reset and, on Linux, survives ``exec``: a child started
by a big parent reports the parent's peak. So a phase's peak is read from ``/proc/self/status``
(``VmHWM``), reset by writing 5 to ``/proc/self/clear_refs``; elsewhere getrusage is the fallback.
"""
from __future__ import annotations

import resource


def status_kb(field: str) -> int | None:
    """A ``/proc/self/status`` figure in KiB (e.g. ``VmRSS``), or None where there is no /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> int:
    """Restart peak-RSS tracking (Linux); return the current RSS in KiB."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    rss = status_kb("VmRSS")
    return rss if rss is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_kb() -> int:
    """The peak RSS since the last `reset_peak`, in KiB."""
    hwm = status_kb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
