"""`dsc explain`: what a spec will do, in plain words."""
from __future__ import annotations

from pathlib import Path

import typer

from dsc.commands.common import compile_or_exit


def explain(spec: Path = typer.Argument(..., help="The .dspec file.")):
    """Explain, in plain words, what a spec will do."""
    from dsc.explain import explain as explain_plan

    result = compile_or_exit(spec)
    typer.echo(explain_plan(result.plan), nl=False)
