"""One error model for what goes wrong after a spec compiles: every run-time error is a `DscError`.

A `DscError` has a stable code (`DSC3xx`, listed in CODES and in docs/diagnostics.md), a message
for people, an optional hint, an optional location and the exit code of dsc/exitcodes.py. The
location is structured, never baked into the message: a line of the spec being run (a plan's
step, rule or block knows its `line`; the spec's path is the command line's) or a line of another
file (a template, a data file). `render` prints it the way compile-time diagnostics are printed
(`dsc.diagnostics.render`): `file:line:col: error[DSC3xx]: message`, the spec line, then the hint.

The codes group the errors by what a person does about them, not by where they are raised:
DSC1xx (syntax) and DSC2xx (meaning) are `dsc check`'s; DSC3xx are the run's.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsc.exitcodes import EXIT_INPUT_ERROR

if TYPE_CHECKING:
    from dsc.syntax.source import SourceFile

CODES: dict[str, str] = {
    "DSC301": "an input file is missing or cannot be read (no file matches, no permission, not in the cache)",
    "DSC302": "an input file is malformed: not the format it claims, not UTF-8, empty, or its parts do not fit "
              "together",
    "DSC303": "a column holds values of a type the rule cannot use",
    "DSC304": "an annotation file, or the labels in it, cannot be used",
    "DSC305": "an output cannot be written (the output folder is unsafe, in use, or holds files dsc did not write)",
    "DSC306": "augmentation failed: its endpoint, API key, model or prompt template",
    "DSC307": "fine-tuning: the base model or the train split is missing or cannot be used",
    "DSC308": "a column the spec names is not in the data",
    "DSC309": "the run needs what the operator has not allowed (--allow-endpoint, --allow-outside-project)",
    "DSC310": "a rule or option cannot run as written (found at run time: a template, a pattern, an option value)",
    "DSC311": "the data leaves a source or a split with no rows",
    "DSC312": "an optional extra of dsc the run needs is not installed",
    "DSC313": "the Ray cluster cannot be reached or used",
    "DSC314": "a command's argument or option cannot be used",
}


@dataclass(frozen=True)
class Location:
    """Where a run-time problem is: a line (and column, 0 when unknown) of the spec being run, or of
    `file` when it is another file (a template, a data file)."""

    line: int
    column: int = 0
    file: str | None = None


class DscError(Exception):
    """A problem a person can fix (the spec's, the data's, the operator's), never a bug.

    `code`: a stable `DSC3xx` code (the class's `default_code` unless given); `message`: the text
    for people, with no location in it; `hint`: what to do, if there is something to say;
    `location`: a `Location`, or `line` for a line of the spec; `exit_code`: the CLI's.

    >>> err = DscError("column 'q' holds int64 values, not text", code="DSC303", line=7, hint="declare it")
    >>> str(err), err.code, err.location, err.exit_code
    ("column 'q' holds int64 values, not text", 'DSC303', Location(line=7, column=0, file=None), 4)
    """

    default_code: str | None = None
    default_exit_code: int = EXIT_INPUT_ERROR

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None,
                 location: Location | None = None, line: int = 0, exit_code: int | None = None):
        super().__init__(message)
        self.code = code or self.default_code
        if self.code is None:
            raise TypeError(f"{type(self).__name__} needs a code (dsc.errors.CODES)")
        self.message = message
        self.hint = hint
        self.location = location if location is not None else Location(line) if line else None
        self.exit_code = self.default_exit_code if exit_code is None else exit_code

    @property
    def line(self) -> int:
        """The line of the spec the error is at (0: none)."""
        return self.location.line if self.location is not None and self.location.file is None else 0

    def at_line(self, line: int) -> DscError:
        """This error, placed at `line` of the spec unless it has a location already (an operator
        knows its column, the engine running it knows its rule's line)."""
        if self.location is None and line:
            self.location = Location(line)
        return self

    def __reduce__(self):
        # Pickled (to and from Ray workers) whatever a subclass's __init__ takes: args and attributes.
        return _restore, (type(self), self.args), self.__dict__


def _restore(cls: type[DscError], args: tuple) -> DscError:
    err = cls.__new__(cls)
    err.args = args
    return err


def render(err: DscError, spec: SourceFile | str | os.PathLike | None = None) -> str:
    """`err` as dsc prints it: located like a compile-time diagnostic (`dsc.diagnostics.render`).

    `spec` is the spec being run (its `SourceFile`, or its path, read again here for the excerpt);
    a location in the spec without a column points at the whole line.

    >>> from dsc.syntax.source import SourceFile
    >>> src = SourceFile("a.dspec", "clean {\\n  drop where words(prompt) < 3\\n}\\n")
    >>> print(render(DscError("rule drop[prompt] names column 'prompt', which the data lacks", code="DSC308", line=2),
    ...              src))
    a.dspec:2:3: error[DSC308]: rule drop[prompt] names column 'prompt', which the data lacks
      2 |   drop where words(prompt) < 3
        |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
    >>> print(render(DscError("no file matches 'data/*.jsonl'", code="DSC301", hint="check the path"), "a.dspec"))
    a.dspec: error[DSC301]: no file matches 'data/*.jsonl'
      hint: check the path
    >>> print(render(DscError("unknown tag 'x'", code="DSC310", location=Location(3, 5, "t.j2"))))
    t.j2:3:5: error[DSC310]: unknown tag 'x'
    """
    from dsc.diagnostics import Diagnostic
    from dsc.diagnostics import render as render_diagnostic
    from dsc.syntax.source import NO_SPAN, SourceFile, Span

    where = err.location
    hint = f"\n  hint: {err.hint}" if err.hint else ""
    if where is not None and where.file is not None:  # a line of another file: no excerpt of it
        column = f":{where.column}" if where.column else ""
        return f"{where.file}:{where.line}{column}: error[{err.code}]: {err.message}{hint}"
    source = spec if isinstance(spec, SourceFile) or spec is None else _read(spec)
    if source is None and where is None:
        return f"error[{err.code}]: {err.message}{hint}"
    span = NO_SPAN
    if where is not None:
        text = source.line_text(where.line) if source is not None else ""
        start = where.column or len(text) - len(text.lstrip()) + 1
        end = start + 1 if where.column else max(len(text.rstrip()) + 1, start + 1)
        span = Span(where.line, start, where.line, end)
    return render_diagnostic(Diagnostic(err.code, err.message, span, err.hint), source)


def _read(path: str | os.PathLike) -> SourceFile:
    """The spec at `path` for an excerpt; without its text when it cannot be read now."""
    from dsc.syntax.source import SourceFile

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(1 << 20)
    except (OSError, ValueError):
        text = ""
    return SourceFile(os.fspath(path), text)
