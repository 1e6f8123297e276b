"""`dsc lsp`: the language server for editors (`dsc.lsp`), over standard input and output."""
from __future__ import annotations

import typer

from dsc.exitcodes import EXIT_INPUT_ERROR

NEEDS = ("pygls", "lsprotocol")  # the `lsp` extra of pyproject.toml


def lsp(
    stdio: bool = typer.Option(False, "--stdio", help="Accepted because editors' clients pass it: standard input "
                                                      "and output is the only transport."),
):
    """Run the language server for .dspec files (diagnostics, formatting, completion, hover, go to definition)."""
    from dsc.extras import installed

    absent = [m for m in NEEDS if not installed(m)]
    if absent:
        typer.echo(f"error: dsc lsp needs {' and '.join(absent)}, not installed here\n"
                   "  hint: pip install 'dsc[lsp]'", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    from dsc.lsp.server import serve

    serve()
