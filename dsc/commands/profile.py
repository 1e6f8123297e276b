"""`dsc profile` and `dsc init`: their options, and their bodies over `dsc.profile`.

Each body returns the exit code: 0 done, 2 the spec has errors (or a bad option combination),
4 the input cannot be read or names a column the data lacks, 1 a bug. Every expected
problem is one message on standard error, never a traceback. A progress bar shows on a
terminal (reading, then one step per column and per duplicate figure). pyarrow, rich and the
profile modules load inside the commands, so registering them costs `dsc check` nothing.
"""
from __future__ import annotations

import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional

import typer

from dsc.atomic import write_atomic
from dsc.exitcodes import EXIT_OK, EXIT_SPEC_ERROR

if TYPE_CHECKING:
    from rich.console import Console

    from dsc.profile.load import Loaded

_COLUMNS_HELP = "Comma-separated column names, e.g. instruction,input."


def profile(
    paths: list[Path] = typer.Argument(..., help="Data files (jsonl, json, csv, parquet; globs too), or one .dspec."),
    key: Optional[str] = typer.Option(None, "--key", help="Key columns for key duplicates and conflicts. " + _COLUMNS_HELP),
    target: Optional[str] = typer.Option(None, "--target", help="The column a key should determine (conflicts)."),
    text: Optional[str] = typer.Option(None, "--text", help="Text columns for the near-duplicate estimate "
                                       "(default: the columns that hold text; '' for none). " + _COLUMNS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the profile as JSON."),
    format: Optional[str] = typer.Option(None, "--format", help="jsonl, json, csv or parquet (default: by extension)."),
):
    """Profile data: duplicates, conflicts, empty and placeholder values, control characters, and
    which formats and locales read the date, number, money and measurement columns."""
    raise typer.Exit(profile_command(paths, key, target, text, as_json, format))


def init(
    paths: list[Path] = typer.Argument(..., help="Data files (jsonl, json, csv, parquet; globs too)."),
    output: Path = typer.Option(..., "-o", "--output", help="The policy to write, e.g. policy.dspec."),
    key: Optional[str] = typer.Option(None, "--key", help="Key columns for key duplicates and conflicts. " + _COLUMNS_HELP),
    target: Optional[str] = typer.Option(None, "--target", help="The column a key should determine (conflicts)."),
    text: Optional[str] = typer.Option(None, "--text", help="Text columns for near duplicates. " + _COLUMNS_HELP),
    format: Optional[str] = typer.Option(None, "--format", help="jsonl, json, csv or parquet (default: by extension)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the policy if it exists."),
):
    """Write a starter policy from a profile of the data: each rule with the counts behind it; it passes
    `dsc check`."""
    raise typer.Exit(init_command(paths, output, key, target, text, format, force))


def columns_option(value: str | None) -> list[str] | None:
    """A comma-separated column list: None when not given, [] when given empty.

    >>> columns_option("prompt, input,"), columns_option(""), columns_option(None)
    (['prompt', 'input'], [], None)
    """
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def profile_command(paths: list[Path], key: str | None, target: str | None, text: str | None,
                    as_json: bool, format: str | None) -> int:
    """`dsc profile`: print the profile as tables (or JSON with ``--json``)."""
    from dsc.commands.common import console

    from dsc.profile.build import build_profile
    from dsc.profile.load import ProfileError

    err = console(stderr=True)
    try:
        started = time.perf_counter()
        with _progress(err) as note:
            loaded = _load(paths, format, note)
            profile = build_profile(loaded, columns_option(key), target, columns_option(text), note)
        seconds = time.perf_counter() - started
    except ProfileError as problem:
        typer.echo(f"error: {problem}", err=True)
        return problem.exit_code
    if as_json:
        typer.echo(json.dumps(profile, ensure_ascii=False, indent=2))
        return EXIT_OK
    from dsc.profile.render import render_profile

    render_profile(profile, console())
    rate = profile["rows"] / seconds if seconds > 0 else 0
    typer.echo(f"profiled {profile['rows']:,} rows in {seconds:.2f} s ({rate:,.0f} rows/s); "
               f"start a policy from it with: dsc init {' '.join(map(str, paths))} -o POLICY.dspec", err=True)
    return EXIT_OK


def init_command(paths: list[Path], output: Path, key: str | None, target: str | None, text: str | None,
                 format: str | None, force: bool) -> int:
    """`dsc init`: profile the files and write the starter policy to ``output``.

    A column of lists of records is exploded (one row per element) before profiling, as the
    policy's source will. A file dsc wrote (``_dsc_`` columns) is refused: a source cannot read
    dsc's bookkeeping columns, so no policy could run on it."""
    from dsc.commands.common import console

    from dsc.api import compile_text
    from dsc.profile.build import build_profile
    from dsc.profile.init import explodable, starter_policy
    from dsc.profile.load import ProfileError, load_files
    from dsc.syntax.source import SourceFile

    err = console(stderr=True)
    try:
        if any(p.suffix == ".dspec" for p in paths):
            raise ProfileError("dsc init starts from data files, not a spec; `dsc profile SPEC` profiles a spec's data",
                               EXIT_SPEC_ERROR)
        if output.is_symlink():  # never written through, nor replaced (a loop could not even be resolved)
            raise ProfileError(f"{output}: is a symbolic link; give the policy's own file name", code="DSC305")
        if output.is_dir():
            raise ProfileError(f"{output}: is a directory; give the policy's file name, e.g. {output}/policy.dspec",
                               code="DSC305")
        if any(output.exists() and p.exists() and output.samefile(p) for p in paths):
            raise _reads_output(output)
        if output.exists() and not force:
            raise ProfileError(f"{output}: already exists; pass --force to overwrite it", code="DSC305")
        with _progress(err) as note:
            loaded = _load(paths, format, note)
            if output.exists() and any(output.samefile(f) for f in loaded.files if f.exists()):  # through a glob
                raise _reads_output(output)
            if loaded.bookkeeping:
                raise ProfileError(
                    f"{', '.join(map(str, paths))} holds dsc's own bookkeeping ({', '.join(loaded.bookkeeping)}): "
                    "it is the output of a dsc run, which a source cannot read back. Start the policy from the "
                    "run's inputs (listed in its manifest.json), or from an export written with a shape; "
                    "`dsc profile` shows what the output holds", code="DSC302")
            column = explodable(loaded.table)
            if column is not None:
                loaded = load_files(paths, format, explode=column)
            profile = build_profile(loaded, columns_option(key), target, columns_option(text), note)
        text_out = starter_policy(profile, loaded, output)
    except ProfileError as problem:
        typer.echo(f"error: {problem}", err=True)
        return problem.exit_code
    write_atomic(output, text_out)
    plan = compile_text(SourceFile(str(output), text_out), base_dir=output.resolve().parent).plan
    rules = len(plan.steps) if plan is not None else 0
    typer.echo(f"wrote {output}: {rules} rule{'s' * (rules != 1)} from a profile of {profile['rows']:,} rows; "
               f"next: dsc check {output} && dsc run {output} --out out/{output.stem}", err=True)
    return EXIT_OK


def _reads_output(output: Path):
    """The error for a policy file that is one of the data files it would be written from: --force
    would replace the data with the policy."""
    from dsc.profile.load import ProfileError

    return ProfileError(f"{output}: is one of the data files being profiled; write the policy to a file of its own, "
                        f"e.g. {output.with_suffix('.dspec')}", code="DSC305")


def _load(paths: list[Path], format: str | None, note: Callable) -> Loaded:
    from dsc.profile.load import ProfileError, load_files, load_spec

    specs = [p for p in paths if p.suffix == ".dspec"]
    if specs and len(paths) > 1:
        raise ProfileError("give either one spec or data files, not both", EXIT_SPEC_ERROR)
    size = sum(p.stat().st_size for p in paths if p.is_file())
    note(f"reading {len(paths)} file{'s' * (len(paths) != 1)} ({size / 1e6:,.1f} MB)", 0, None)
    if specs:
        if format:
            raise ProfileError("--format applies to data files; a spec's sources say their own format",
                               EXIT_SPEC_ERROR)
        return load_spec(specs[0])
    return load_files(paths, format)


@contextmanager
def _progress(console: Console) -> Iterator[Callable[[str, int, int | None], None]]:
    """A progress callback ``(step, done, total)``: a bar on a terminal, nothing otherwise."""
    if not console.is_terminal:
        yield lambda _step, _done, _total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)
        yield lambda step, done, total: bar.update(task, description=step, completed=done, total=total)
