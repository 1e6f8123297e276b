"""The `dsc` command line: check, compile, explain, fmt, diff (and run, from the engine)."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from dsc.diagnostics import render_all

EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1
EXIT_SPEC_ERROR = 2
EXIT_GATE_FAILED = 3
EXIT_INPUT_ERROR = 4

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="dsc — compile dataset specs (.dspec) into canonical, fingerprinted plans, and run them.",
    pretty_exceptions_enable=False,
)


def _compile_or_exit(spec: Path):
    from dsc.api import compile_file

    result = compile_file(spec)
    if result.diagnostics:
        typer.echo(render_all(result.diagnostics, result.source), err=True)
    if result.missing:
        raise typer.Exit(EXIT_INPUT_ERROR)
    if not result.ok:
        raise typer.Exit(EXIT_SPEC_ERROR)
    return result


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that a reader never sees half of it: temp file, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@app.command()
def check(specs: list[Path] = typer.Argument(..., help="One or more .dspec files.")):
    """Check specs and report every problem at once (exit 2 on errors)."""
    from dsc.api import compile_file

    code = EXIT_OK
    for spec in specs:
        result = compile_file(spec)
        if result.diagnostics:
            typer.echo(render_all(result.diagnostics, result.source), err=True)
        if result.missing:
            code = max(code, EXIT_INPUT_ERROR)
        elif not result.ok:
            code = max(code, EXIT_SPEC_ERROR)
        else:
            typer.echo(f"{spec}: ok ({result.plan.fingerprint[:19]})")
    raise typer.Exit(code)


@app.command("compile")
def compile_cmd(
    spec: Path = typer.Argument(..., help="The .dspec file."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the plan here instead of stdout."),
):
    """Compile a spec to its canonical plan JSON (byte-identical for the same policy)."""
    from dsc.plan import canonical_json

    result = _compile_or_exit(spec)
    text = canonical_json(result.plan, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
        typer.echo(f"wrote {output} ({result.plan.fingerprint})", err=True)


@app.command()
def explain(spec: Path = typer.Argument(..., help="The .dspec file.")):
    """Explain, in plain words, what a spec will do."""
    from dsc.explain import explain as explain_plan

    result = _compile_or_exit(spec)
    typer.echo(explain_plan(result.plan), nl=False)


@app.command()
def fmt(
    specs: list[Path] = typer.Argument(..., help="One or more .dspec files."),
    check_only: bool = typer.Option(False, "--check", help="Only report files that are not formatted (exit 2)."),
):
    """Rewrite specs in the canonical layout (comments kept)."""
    from dsc.fmt import format_source
    from dsc.syntax.load import read_source

    code = EXIT_OK
    for spec in specs:
        source, diags = read_source(spec)
        if source is None:
            typer.echo(render_all(diags, None), err=True)
            code = max(code, EXIT_INPUT_ERROR if any(d.code == "DSC107" for d in diags) else EXIT_SPEC_ERROR)
            continue
        text, diags = format_source(source)
        if text is None:
            typer.echo(render_all(diags, source), err=True)
            code = max(code, EXIT_SPEC_ERROR)
        elif text != source.text:
            if check_only:
                typer.echo(f"{spec}: would be reformatted")
                code = max(code, EXIT_SPEC_ERROR)
            else:
                write_atomic(spec, text)
                typer.echo(f"{spec}: reformatted")
    raise typer.Exit(code)


def _plan_of(path: Path):
    """A plan from a .dspec (compiled) or from a compiled plan .json file."""
    from dsc.plan import plan_from_json

    if path.suffix == ".json":
        try:
            return plan_from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            typer.echo(f"{path}: no such file", err=True)
            raise typer.Exit(EXIT_INPUT_ERROR)
        except (ValueError, UnicodeDecodeError) as err:
            typer.echo(f"{path}: not a dsc plan ({str(err).splitlines()[0]})", err=True)
            raise typer.Exit(EXIT_SPEC_ERROR)
    return _compile_or_exit(path).plan


@app.command()
def diff(
    old: Path = typer.Argument(..., help="Old .dspec or compiled plan .json."),
    new: Path = typer.Argument(..., help="New .dspec or compiled plan .json."),
):
    """Show what changed in the policy between two specs, classified for reviewers."""
    from dsc.diff import diff_plans, render_diff

    old_plan, new_plan = _plan_of(old), _plan_of(new)
    typer.echo(render_diff(diff_plans(old_plan, new_plan), old_plan, new_plan, str(old), str(new)), nl=False)


@app.command()
def run(
    spec: Path = typer.Argument(..., help="The .dspec file."),
    out: Path = typer.Option(..., "--out", help="Output directory (kept rows, rejects, manifest)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes for row-wise rules."),
):
    """Run a spec over its data with the local engine and print a per-rule summary."""
    from rich.console import Console

    from dsc.engines.local import run_plan
    from dsc.ops.runtime import RunError
    from dsc.report import summary_table

    result = _compile_or_exit(spec)
    console = Console(stderr=True)
    try:
        with console.status("running", spinner="dots") as status:
            outcome = run_plan(result.plan, spec.resolve().parent, out, workers=workers,
                               progress=lambda msg: status.update(msg))
    except RunError as err:
        typer.echo(f"{spec}: error: {err}", err=True)
        raise typer.Exit(err.exit_code)
    Console().print(summary_table(outcome.manifest))
    typer.echo(f"outputs in {out}/ (manifest.json, kept.jsonl, kept.parquet, rejects.jsonl)")


@app.command()
def version():
    """Print the dsc version."""
    from dsc import __version__

    typer.echo(f"dsc {__version__}")


def main() -> None:
    """Entry point: run the app; an unexpected exception is a bug, reported without a traceback
    unless DSC_DEBUG=1."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as err:  # a bug: say so plainly; the traceback is for developers
        if os.environ.get("DSC_DEBUG"):
            raise
        typer.echo(f"internal error: {type(err).__name__}: {err}\n"
                   "this is a bug in dsc; rerun with DSC_DEBUG=1 for the traceback and report it", err=True)
        sys.exit(EXIT_INTERNAL_ERROR)


if __name__ == "__main__":
    main()
