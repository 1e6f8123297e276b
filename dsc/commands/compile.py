"""`dsc check` and `dsc compile`: a spec's diagnostics, and its canonical plan."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from dsc.atomic import WriteError, write_atomic
from dsc.commands.common import compile_or_exit, compile_path, is_stdio
from dsc.diagnostics import render_all
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR


def check(
    specs: list[Path] = typer.Argument(..., help="One or more .dspec files (- reads one from standard input)."),
    format: str = typer.Option("text", "--format",
                               help="text (for people, on standard error), github (GitHub Actions annotations) or "
                                    "json (one list of diagnostics; schema in docs/cli.md), both on standard output."),
):
    """Check specs and report every problem at once (exit 2 on errors)."""
    from dsc import ci

    if format not in ci.FORMATS:
        raise typer.BadParameter(f"unknown format '{format}': use text, github or json", param_hint="--format")
    code = EXIT_OK
    records = []
    for spec in specs:
        result = compile_path(spec)
        path = result.source.path if result.source is not None else str(spec)
        if format == "json":
            records += [ci.record(d, path) for d in ci.ordered(result.diagnostics)]
        elif format == "github":
            for diag in ci.ordered(result.diagnostics):
                typer.echo(ci.github_command(diag, path))
        elif result.diagnostics:
            typer.echo(render_all(result.diagnostics, result.source), err=True)
        if result.missing:
            code = max(code, EXIT_INPUT_ERROR)
        elif not result.ok:
            code = max(code, EXIT_SPEC_ERROR)
        elif format != "json":
            typer.echo(f"{spec}: ok ({result.plan.fingerprint[:19]})")
    if format == "json":
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
    raise typer.Exit(code)


def compile_cmd(
    spec: Path = typer.Argument(..., help="The .dspec file (- reads it from standard input)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="Write the plan here instead of stdout (- for stdout); into an "
                                               "existing folder as SPEC_NAME.plan.json."),
):
    """Compile a spec to its canonical plan JSON (byte-identical for the same policy)."""
    from dsc.plan import canonical_json

    result = compile_or_exit(spec)
    text = canonical_json(result.plan, indent=2) + "\n"
    if output is None or is_stdio(output):
        sys.stdout.write(text)
        return
    if output.is_dir():
        output = output / f"{'stdin' if is_stdio(spec) else spec.stem}.plan.json"
    try:
        write_atomic(output, text)
    except WriteError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    typer.echo(f"wrote {output} ({result.plan.fingerprint})", err=True)
