"""Load what `dsc profile` / `dsc init` look at: data files, or the sources of a spec.

Both go through :func:`dsc.io.read_source`, the engine's own reader, so the profile sees exactly
the rows (and the rejected lines) a `dsc run` would see. Every problem with the input as a whole
is a :class:`ProfileError` whose message names the file: never a traceback.

>>> import tempfile, os
>>> tmp = tempfile.TemporaryDirectory()
>>> path = Path(tmp.name) / "a.jsonl"
>>> _ = path.write_text('{"q": "hi"}\\n{"q": 1}\\n')
>>> loaded = load_files([path])
>>> loaded.table.num_rows, [r.reason for r in loaded.rejects]
(1, ["column 'q': expected string, got int"])
>>> load_files([Path(tmp.name) / "b.jsonl"])
Traceback (most recent call last):
...
dsc.profile.load.ProfileError: ...b.jsonl: no such file
>>> tmp.cleanup()
"""
from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from dsc.errors import DscError
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR
from dsc.io import InputFile, Reject, SourceError, SourceSpec, read_source
from dsc.io.sources import expand

_GLOB_CHARS = set("*?[")


class ProfileError(DscError):
    """The input cannot be profiled; `exit_code` is the CLI's (2: the spec, 4: the data)."""

    default_code = "DSC314"

    def __init__(self, message: str, exit_code: int = EXIT_INPUT_ERROR, *, code: str | None = None):
        super().__init__(message, code=code, exit_code=exit_code)


@dataclass
class Loaded:
    """Rows to profile, with where they came from.

    ``files`` are the resolved data files (for `dsc init`'s relative paths); ``defaults`` holds
    the key, target and text columns a spec's own rules name (empty for plain files);
    ``explode`` the list column exploded into rows; ``bookkeeping`` the ``_dsc_`` columns of a
    file dsc wrote, left out of the table.
    """

    table: pa.Table
    rejects: list[Reject]
    inputs: list[InputFile]
    name: str
    files: list[Path] = field(default_factory=list)
    format: str | None = None
    defaults: dict[str, list[str]] = field(default_factory=dict)
    explode: str | None = None
    bookkeeping: list[str] = field(default_factory=list)


def load_files(paths: list[Path], format: str | None = None, base_dir: Path | None = None,
               explode: str | None = None) -> Loaded:
    """Read data files (any format the engine reads) as one source, in the order given.

    A path that exists is read literally, even if its name holds glob characters; any other
    path with ``*``, ``?`` or ``[`` is a glob. Files of one source are typed together, so a
    column whose values disagree in kind across records shows up as rejected rows. ``explode``
    names a list column to read as one row per element, as a source's ``explode`` does.
    Columns named ``_dsc_…`` (dsc's bookkeeping in the files a run writes) are left out and
    listed in ``bookkeeping``.
    """
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    patterns: list[str] = []
    for path in paths:
        full = path if path.is_absolute() else base / path
        if full.is_dir():
            raise ProfileError(f"{path}: is a directory; give the data files in it (e.g. {path}/*.jsonl)",
                               code="DSC301")
        if full.is_file():
            patterns.append(glob.escape(str(path)))
        elif _GLOB_CHARS & set(str(path)):
            patterns.append(str(path))
        else:
            raise ProfileError(f"{path}: no such file", code="DSC301")
    spec = SourceSpec(name="data", files=tuple(patterns), format=format, explode=explode)
    try:
        result = read_source(spec, base, set_aside_reserved=True)
        files = [path for path, _ in expand(spec.files, base)]
    except SourceError as err:
        raise ProfileError(_plain(str(err)), code=err.code) from None
    except MemoryError:
        raise ProfileError("the data does not fit in memory; profile fewer files at once") from None
    stem = Path(paths[0]).stem if paths else "data"
    return Loaded(result.table, result.rejects, result.inputs, stem, files, format, explode=explode,
                  bookkeeping=result.set_aside)


def load_spec(path: Path) -> Loaded:
    """Read every source block of a spec, concatenated as the engine concatenates them.

    The spec must compile (errors: exit 2). Its first `conflicts` rule gives the default key
    and target, its first `dedupe near` rule the default text columns.
    """
    from dsc.api import compile_file
    from dsc.diagnostics import render_all

    result = compile_file(path)
    if result.missing:
        raise ProfileError(render_all(result.diagnostics, result.source), code="DSC301")
    if not result.ok:
        raise ProfileError(render_all(result.diagnostics, result.source), EXIT_SPEC_ERROR,
                           code=next(d.code for d in result.diagnostics if d.is_error))
    plan, base = result.plan, path.resolve().parent
    tables, rejects, inputs, files = [], [], [], []
    for src in plan.sources:
        spec = SourceSpec.from_plan(src)
        try:
            read = read_source(spec, base)
            files += [file for file, _ in expand(spec.files, base)]
        except SourceError as err:
            raise ProfileError(f"{path}: source '{src.name}': {_plain(str(err))}", code=err.code) from None
        tables.append(read.table)
        rejects += read.rejects
        inputs += read.inputs
    try:
        table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    except (pa.ArrowTypeError, pa.ArrowInvalid) as err:
        raise ProfileError(f"{path}: its sources disagree on column types: {err}", code="DSC302") from None
    return Loaded(table, rejects, inputs, plan.dataset.name, files, None, _spec_defaults(plan))


def _spec_defaults(plan) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for step in plan.steps:
        if step.op == "conflicts" and "key" not in out:
            out["key"], out["target"] = list(step.params["columns"]), [step.params["target"]]
        if step.op == "dedupe_near" and "text" not in out:
            out["text"] = list(step.params["columns"])
    return out


def _plain(message: str) -> str:
    # The reader names the base folder for relative globs, and speaks of the spec's `format`
    # setting; for files typed on the command line, the folder is noise and the fix is --format.
    message = message.replace(f" (relative to {Path.cwd()})", "")
    return message.replace("declare the source's format", "pass --format jsonl, json, csv or parquet")
