"""What the command modules share: compiling the spec a command names, or exiting."""
from __future__ import annotations

from pathlib import Path

import typer

from dsc.diagnostics import render_all
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR


def compile_or_exit(spec: Path):
    """The compiled spec; its diagnostics on standard error, and exit 4 when a file it names is
    missing, 2 when it has errors."""
    from dsc.api import compile_file

    result = compile_file(spec)
    if result.diagnostics:
        typer.echo(render_all(result.diagnostics, result.source), err=True)
    if result.missing:
        raise typer.Exit(EXIT_INPUT_ERROR)
    if not result.ok:
        raise typer.Exit(EXIT_SPEC_ERROR)
    return result
