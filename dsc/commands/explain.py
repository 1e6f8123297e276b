"""`dsc explain`: what a spec will do, in plain words."""
from __future__ import annotations

from pathlib import Path

import typer

from dsc.commands.common import compile_or_exit


def explain(
    spec: Path = typer.Argument(..., help="The .dspec file (- reads it from standard input)."),
    format: str = typer.Option("text", "--format", help="text (for people) or json (the same sections as data; "
                                                         "docs/cli.md)."),
):
    """Explain, in plain words, what a spec will do."""
    import json

    from dsc.explain import explain as explain_plan, explain_json

    if format not in ("text", "json"):
        raise typer.BadParameter(f"unknown format '{format}': use text or json", param_hint="--format")
    result = compile_or_exit(spec)
    if format == "json":
        typer.echo(json.dumps(explain_json(result.plan), indent=2, ensure_ascii=False))
    else:
        typer.echo(explain_plan(result.plan), nl=False)
