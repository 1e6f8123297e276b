"""What the command modules share: compiling the spec a command names, or exiting."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from dsc.diagnostics import render_all
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR


COLORS = ("auto", "always", "never")
_color = {"mode": "auto"}  # `dsc --color`, set by the app's callback before any command runs


def set_color(mode: str) -> None:
    """Remember `--color auto|always|never` for every console the commands make."""
    _color["mode"] = mode


def console(stderr: bool = False):
    """A rich Console for a command's output. `--color never` (or the NO_COLOR variable, which rich
    reads) prints no colour; `always` colours even a pipe; `auto` colours a terminal only."""
    from rich.console import Console

    mode = _color["mode"]
    if mode == "never":
        return Console(stderr=stderr, no_color=True, highlight=False)
    if mode == "always":
        return Console(stderr=stderr, force_terminal=True)
    return Console(stderr=stderr)


STDIN_NAME = "<stdin>"  # how a spec read from standard input (`-`) is named in diagnostics


def is_stdio(path) -> bool:
    """Whether a path argument is `-`: standard input (or, for an output, standard output)."""
    return path is not None and str(path) == "-"


def read_spec(spec: Path):
    """`dsc.syntax.load.read_source` of SPEC, or of standard input when SPEC is `-`."""
    from dsc.syntax.load import decode_source, read_source

    if is_stdio(spec):
        return decode_source(sys.stdin.buffer.read(), STDIN_NAME)
    return read_source(spec)


def compile_path(spec: Path):
    """`dsc.api.compile_file`, or, for `-`, the spec on standard input: the paths inside it resolve
    against the current directory."""
    from dsc.api import Compiled, compile_file, compile_text

    if not is_stdio(spec):
        return compile_file(spec)
    source, diags = read_spec(spec)
    if source is None:
        return Compiled(None, diagnostics=diags, missing=any(d.code == "DSC107" for d in diags))
    return compile_text(source, base_dir=Path.cwd())


def compile_or_exit(spec: Path):
    """The compiled spec (`-`: from standard input); its diagnostics on standard error, and exit 4
    when a file it names is missing, 2 when it has errors."""
    result = compile_path(spec)
    if result.diagnostics:
        typer.echo(render_all(result.diagnostics, result.source), err=True)
    if result.missing:
        raise typer.Exit(EXIT_INPUT_ERROR)
    if not result.ok:
        raise typer.Exit(EXIT_SPEC_ERROR)
    return result
