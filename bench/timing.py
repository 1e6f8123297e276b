"""Timing shared by the benchmarks.

The best of several runs, not the mean: on a shared machine the noise only ever adds time, so the
fastest run is the closest to what the code costs, and ratios of best times against a baseline run
in the same process are stable from run to run.
"""
from __future__ import annotations

import time


def best(fn, repeat: int) -> tuple[float, object]:
    """The fastest of `repeat` runs of fn() in seconds, and the last run's result.

    >>> seconds, out = best(lambda: sum(range(10)), 3)
    >>> seconds >= 0, out
    (True, 45)
    """
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out
