"""The `dsc` command line: the typer app, one module per command group, and the entry point.

check, compile (`commands.compile`), explain, fmt, diff, run and report (`commands.run`),
agreement (`commands.annotation`), standardize, profile and init (`commands.profile`), version,
and the finetune group (`commands.finetune`). The command modules import the rest of dsc, the
heavy parts only inside the commands; nothing else in dsc imports them.
"""
from __future__ import annotations

import os
import sys

import typer

from dsc.commands import annotation, compile, diff, explain, fmt, profile, run, standardize
from dsc.commands.finetune import finetune_app
from dsc.errors import DscError, render
from dsc.exitcodes import EXIT_INTERNAL_ERROR, EXIT_INTERRUPTED

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="dsc — compile dataset specs (.dspec) into canonical, fingerprinted plans, and run them.",
    pretty_exceptions_enable=False,
)


def version():
    """Print the dsc version."""
    from dsc import __version__

    typer.echo(f"dsc {__version__}")


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
