"""`dsc run`'s progress: a rich line per stage on a terminal, one plain line per stage otherwise.

The engines call `progress(message)` when a stage starts and `progress(StageDone(...))` when one
ends (`dsc.engines.progress`). On a terminal (standard error) each stage gets its own line with a
spinner, its rows in -> out, rows per second and its elapsed time. Anywhere else (a pipe, a file,
a CI log) each stage is one plain line on standard error when it ends:
`dsc: dedupe_1: 1000 -> 950 rows in 0.42s`. With `--log-format json`, each stage is one JSON
object on its own line instead, for log collectors:
`{"event": "stage", "stage": "dedupe_1", "rows_in": 1000, "rows_out": 950, "cached": false, "seconds": 0.42}`
(a stage with no row counts, such as writing outputs, has `rows_in` and `rows_out` null).
Colour follows `dsc --color` and rich: `NO_COLOR` turns it off.
"""
from __future__ import annotations

import time

from dsc.engines.progress import StageDone


def _rate(rows: int, seconds: float) -> str:
    return f", {rows / seconds:,.0f} rows/s" if seconds >= 0.05 and rows else ""


class RunProgress:
    """A `progress` callback for the engines, and a context manager around the run."""

    def __init__(self, console, live: bool | None = None, quiet: bool = False, log_format: str = "text"):
        self.console = console
        self.quiet = quiet
        self.json = log_format == "json"
        live = (console.is_terminal and not console.is_dumb_terminal) if live is None else live
        self.live = live and not self.json
        self._progress = None
        self._task = None       # the open stage's rich task (live)
        self._open = None       # the open stage's message and start time (plain)

    def __enter__(self) -> "RunProgress":
        if self.live and not self.quiet:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(SpinnerColumn(finished_text="[green]✓[/]"), TextColumn("{task.description}", markup=False),
                                      TextColumn("[dim]{task.fields[rows]}[/]"), TimeElapsedColumn(),
                                      console=self.console)
            self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._close()
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        if isinstance(message, StageDone):
            self._done(message)
        else:
            self._close()
            self._start(str(message))

    def _start(self, message: str) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task(message, total=1, rows="")
        self._open = (message, time.monotonic())

    def _done(self, done: StageDone) -> None:
        seconds = time.monotonic() - self._open[1] if self._open else 0.0
        rows = f"{done.rows_in:,} -> {done.rows_out:,} rows" + \
            (" (cached)" if done.cached else _rate(done.rows_in, seconds))
        if self._progress is not None:
            if self._task is None:
                self._task = self._progress.add_task(done.stage, total=1, rows="")
            self._progress.update(self._task, description=done.stage, rows=rows, completed=1)
            self._task = None
        else:
            self._line(done.stage, f": {rows} in {seconds:.2f}s", seconds, done)
        self._open = None

    def _line(self, stage: str, text: str, seconds: float, done: StageDone | None = None) -> None:
        """One finished stage, as a plain line or (--log-format json) a JSON object."""
        if self.json:
            import json

            record = {"event": "stage", "stage": stage, "rows_in": done.rows_in if done else None,
                      "rows_out": done.rows_out if done else None, "cached": bool(done and done.cached),
                      "seconds": round(seconds, 3)}
            self.console.file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.console.file.flush()
        else:
            self.console.print(f"dsc: {stage}{text}", highlight=False, markup=False, soft_wrap=True)

    def _close(self) -> None:
        """End the open stage that no StageDone ended (splitting, gathering stats, writing outputs)."""
        if self._open is None:
            return
        message, start = self._open
        if self._progress is not None:
            if self._task is not None:
                self._progress.update(self._task, completed=1)
        else:
            seconds = time.monotonic() - start
            self._line(message, f" in {seconds:.2f}s", seconds)
        self._task, self._open = None, None
