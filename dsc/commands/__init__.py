"""The `dsc` command line: the typer app, one module per command group, and the entry point.

check, compile (`commands.compile`), explain, fmt, diff, run and report (`commands.run`),
agreement (`commands.annotation`), standardize, profile and init (`commands.profile`), lsp, version,
and the finetune group (`commands.finetune`). The command modules import the rest of dsc, the
heavy parts only inside the commands; nothing else in dsc imports them.
"""
from __future__ import annotations

import os
import sys

import click
import typer
import typer.core
from typer.core import TyperGroup

from dsc.commands import annotation, compile, diff, explain, fmt, lsp, profile, run, standardize
from dsc.commands.finetune import finetune_app
from dsc.errors import DscError, render
from dsc.exitcodes import EXIT_INTERNAL_ERROR, EXIT_INTERRUPTED, EXIT_USAGE

# typer (0.23 and later) parses with its own copy of click, `typer._click`: its UsageError is not click's.
_USAGE_ERRORS = tuple({click.UsageError, getattr(typer.core, "_click", click).exceptions.UsageError})


class DscGroup(TyperGroup):
    """The app's group: a usage error (unknown option, missing argument, bad value: click's
    UsageError, wherever in the command tree it is raised) exits EXIT_USAGE (64), not click's 2,
    which is dsc's "the spec has errors"."""

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except _USAGE_ERRORS as err:
            err.exit_code = EXIT_USAGE
            raise

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _USAGE_ERRORS as err:
            err.exit_code = EXIT_USAGE
            raise


app = typer.Typer(
    cls=DscGroup,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},  # subcommands inherit it
    help="dsc — compile dataset specs (.dspec) into canonical, fingerprinted plans, and run them.",
    pretty_exceptions_enable=False,
)


def version():
    """Print the dsc version."""
    from dsc import __version__

    typer.echo(f"dsc {__version__}")


def _print_version(value: bool) -> None:
    if value:
        version()
        raise typer.Exit()


@app.callback()
def _options(
    _version: bool = typer.Option(False, "--version", "-V", is_eager=True, callback=_print_version,
                                  help="Print the dsc version and exit."),
    color: str = typer.Option("auto", "--color", help="auto (colour on a terminal), always or never; the "
                                                       "NO_COLOR variable also turns colour off."),
):
    """dsc — compile dataset specs (.dspec) into canonical, fingerprinted plans, and run them."""
    from dsc.commands.common import COLORS, set_color

    if color not in COLORS:
        raise typer.BadParameter(f"unknown value '{color}': use auto, always or never", param_hint="--color")
    set_color(color)


# In this order in `dsc --help`.
app.command("check")(compile.check)
app.command("compile")(compile.compile_cmd)
app.command("explain")(explain.explain)
app.command("fmt")(fmt.fmt)
app.command("diff")(diff.diff)
app.command("run")(run.run)
app.command("agreement")(annotation.agreement)
app.command("report")(run.report)
app.command("standardize", cls=standardize.MinusValue)(standardize.standardize_cmd)
app.command("profile")(profile.profile)
app.command("init")(profile.init)
app.command("lsp")(lsp.lsp)
app.command("version")(version)
app.add_typer(finetune_app, name="finetune", help="Fine-tuning config and resource estimates.")


def main() -> None:
    """Entry point: run the app; an unexpected exception is a bug, reported without a traceback
    unless DSC_DEBUG=1."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except DscError as err:  # one a command leaves to here (a file init or finetune config writes): code, exit code
        typer.echo(render(err), err=True)
        sys.exit(err.exit_code)
    except Exception as err:  # a bug: say so plainly; the traceback is for developers
        if os.environ.get("DSC_DEBUG"):
            raise
        typer.echo(f"internal error: {type(err).__name__}: {err}\n"
                   "this is a bug in dsc; rerun with DSC_DEBUG=1 for the traceback and report it", err=True)
        sys.exit(EXIT_INTERNAL_ERROR)
