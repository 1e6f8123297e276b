"""`dsc fmt`: specs rewritten in the canonical layout, or (`--check`) the ones that are not."""
from __future__ import annotations

from pathlib import Path

import typer

from dsc.atomic import WriteError, write_atomic
from dsc.diagnostics import render_all
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR


def fmt(
    specs: list[Path] = typer.Argument(..., help="One or more .dspec files (- formats standard input to "
                                                 "standard output)."),
    check_only: bool = typer.Option(False, "--check", help="Only report files that are not formatted (exit 2)."),
    diff: bool = typer.Option(False, "--diff", help="Write nothing; print a unified diff of what would change "
                                                    "(exit 2 if anything would, as --check)."),
):
    """Rewrite specs in the canonical layout (comments kept)."""
    import difflib
    import sys

    from dsc.commands.common import is_stdio, read_spec
    from dsc.fmt import format_source

    code = EXIT_OK
    for spec in specs:
        source, diags = read_spec(spec)
        if source is None:
            typer.echo(render_all(diags, None), err=True)
            code = max(code, EXIT_INPUT_ERROR if any(d.code == "DSC107" for d in diags) else EXIT_SPEC_ERROR)
            continue
        text, diags = format_source(source)
        if text is None:
            typer.echo(render_all(diags, source), err=True)
            code = max(code, EXIT_SPEC_ERROR)
        elif diff:
            if text != source.text:
                sys.stdout.writelines(difflib.unified_diff(source.text.splitlines(keepends=True),
                                                           text.splitlines(keepends=True),
                                                           f"{source.path}", f"{source.path} (formatted)"))
                if not text.endswith("\n") or not source.text.endswith("\n"):
                    sys.stdout.write("\n")
                code = max(code, EXIT_SPEC_ERROR)
        elif is_stdio(spec) and not check_only:
            sys.stdout.write(text)  # as given when already formatted: a filter for editors and pipes
        elif text != source.text:
            if check_only:
                typer.echo(f"{spec}: would be reformatted")
                code = max(code, EXIT_SPEC_ERROR)
            else:
                try:
                    write_atomic(spec, text)
                except WriteError as err:
                    typer.echo(f"error: {err}", err=True)
                    code = max(code, EXIT_INPUT_ERROR)
                    continue
                typer.echo(f"{spec}: reformatted")
    raise typer.Exit(code)
