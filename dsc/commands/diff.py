"""`dsc diff`: what changed in the policy between two specs (or compiled plans)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from dsc.commands.common import compile_or_exit
from dsc.diagnostics import render_all
from dsc.exitcodes import EXIT_DATA_CHANGED, EXIT_INPUT_ERROR, EXIT_SPEC_ERROR

FORMATS = ("text", "markdown", "json")
NO_SPEC = os.devnull  # OLD as /dev/null: there is no old spec, everything is added (as in `git diff`)


def _plan_of(path: Path):
    """A plan from a .dspec (compiled) or from a compiled plan .json file, read as a spec is: a
    regular file only, and a bounded number of bytes."""
    from dsc.plan import plan_from_json
    from dsc.syntax.load import read_source

    if path.suffix != ".json":
        return compile_or_exit(path).plan
    source, diags = read_source(path)
    if source is None:
        typer.echo(render_all(diags, None), err=True)
        raise typer.Exit(EXIT_INPUT_ERROR if any(d.code == "DSC107" for d in diags) else EXIT_SPEC_ERROR)
    try:
        return plan_from_json(source.text)
    except ValueError as err:
        typer.echo(f"{path}: not a dsc plan ({str(err).splitlines()[0]})", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR)


def diff(
    old: Optional[Path] = typer.Argument(None, help="Old .dspec or compiled plan .json (/dev/null: none, the spec "
                                                     "is new). With --base: the spec."),
    new: Optional[Path] = typer.Argument(None, help="New .dspec or compiled plan .json."),
    base: Optional[str] = typer.Option(None, "--base", metavar="REF",
                                       help="Compare SPEC with itself as of git REF: the spec and the tracked files "
                                            "it reads, as they were there."),
    data: bool = typer.Option(False, "--data", help="Run both plans and compare their rows: fates, split moves, "
                                                    "values, generated rows, gate verdicts (docs/review.md)."),
    fmt: str = typer.Option("text", "--format", help="text, markdown (a pull-request comment) or json "
                                                     "(docs/datadiff.schema.json)."),
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 5 when something changed: with --data the "
                                                              "rows, without it the policy."),
    fail_on: str = typer.Option("", "--fail-on", metavar="CATEGORY,…",
                                help="With --data: exit 5 when any of these changes: drops-more, keeps-more, redrops, "
                                     "moves-splits, changes-values, changes-generated, changes-reads, fails-gates, "
                                     "changes-gates, or any."),
    examples: int = typer.Option(3, "--examples", min=0, max=100, help="With --data: example rows per change."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="With --data: worker processes per run."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="With --data: a folder of its own for the stage "
                                         "cache, kept between diffs (default: a temporary one, removed)."),
    allow_endpoint: list[str] = typer.Option([], "--allow-endpoint", metavar="URL[#KEY_ENV]",
                                             help="With --data: as for `dsc run`."),
    allow_outside_project: bool = typer.Option(False, "--allow-outside-project",
                                               help="With --data or --base: as for `dsc run`."),
):
    """Show what changed in the policy between two specs, classified for reviewers; with --data, what
    that does to the rows."""
    from dsc.datadiff import CATEGORIES, data_changed, failing
    from dsc.datadiff_render import render

    if fmt not in FORMATS:
        raise typer.BadParameter(f"unknown format '{fmt}': use text, markdown or json", param_hint="--format")
    categories = [c.strip() for c in fail_on.split(",") if c.strip()]
    unknown = [c for c in categories if c != "any" and c not in CATEGORIES]
    if unknown:
        raise typer.BadParameter(f"unknown categor{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}: "
                                 f"use {', '.join(CATEGORIES)} or any", param_hint="--fail-on")
    if categories and not data:
        raise typer.BadParameter("the categories are changes of the data: add --data", param_hint="--fail-on")
    categories = list(CATEGORIES) if "any" in categories else categories
    if cache is not None and any((cache / name).exists() for name in ("manifest.json", ".dsc-owned")):
        raise typer.BadParameter(f"{cache} is a run's output folder; give the diff's cache a folder of its own",
                                 param_hint="--cache")
    run = dict(data=data, examples=examples, workers=workers, cache=cache, allow_endpoint=allow_endpoint,
               allow_outside_project=allow_outside_project)
    if base is not None:
        if old is None or new is not None:
            raise typer.BadParameter("with --base, name one spec: dsc diff --base REF SPEC", param_hint="--base")
        new_side = _side(old, str(old), strict=True)
        with _materialized(base, old, allow_outside_project) as (old_path, label):
            old_side = _side(old_path, label, strict=False) if old_path is not None else _absent(label)
            report = _report(old_side, new_side, fmt, spec=old, **run)
    else:
        if old is None or new is None:
            raise typer.BadParameter("name the old and the new spec (or --base REF SPEC)", param_hint="OLD NEW")
        old_side = _absent(str(old)) if str(old) == NO_SPEC else _side(old, str(old), strict=not data)
        new_side = _side(new, str(new), strict=True)
        report = _report(old_side, new_side, fmt, spec=new, **run)
    if report is not None:
        typer.echo(render(report, fmt), nl=False)
    if data:
        hit = failing(report, categories)
        if hit:
            typer.echo(f"dsc diff: {', '.join(hit)} changed (--fail-on)", err=True)
        if hit or (exit_code and data_changed(report)):
            raise typer.Exit(EXIT_DATA_CHANGED)
    elif exit_code and _fingerprint(old_side) != _fingerprint(new_side):
        raise typer.Exit(EXIT_DATA_CHANGED)


def _fingerprint(side) -> str | None:
    from dsc.plan import fingerprint

    return fingerprint(side.plan) if side.plan is not None else None


def _side(path: Path, label: str, strict: bool):
    """One side from a .dspec or a plan .json. `strict`: a side that does not compile exits as `dsc
    check` does (2, or 4 for a missing file); else it is reported, with its diagnostics on standard error."""
    from dsc.datadiff import Side

    base_dir = Path(path).resolve().parent
    if strict:
        return Side(label, _plan_of(path), base_dir)
    from dsc.api import compile_file
    from dsc.plan import plan_from_json
    from dsc.syntax.load import read_source

    if Path(path).suffix == ".json":
        source, diags = read_source(path)
        if source is None:
            typer.echo(render_all(diags, None), err=True)
            return Side(label, problem="cannot be read")
        try:
            return Side(label, plan_from_json(source.text), base_dir)
        except ValueError as err:
            return Side(label, problem=f"is not a dsc plan ({str(err).splitlines()[0]})")
    result = compile_file(path)
    if result.missing and not result.ok and not Path(path).exists():
        typer.echo(render_all(result.diagnostics, result.source), err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    if not result.ok:
        errors = [d for d in result.diagnostics if d.severity == "error"]
        typer.echo(f"the old side ({label}) does not compile; the new side is shown alone:", err=True)
        typer.echo(render_all(result.diagnostics, result.source), err=True)
        first = f"; first: {errors[0].code}: {errors[0].message}" if errors else ""
        return Side(label, problem=f"does not compile ({len(errors)} error{'s' * (len(errors) != 1)}{first})")
    return Side(label, result.plan, base_dir)


def _absent(label: str):
    from dsc.datadiff import Side

    return Side(label, problem="absent")


class _materialized:
    """`dsc.gitbase.materialize` as a context: (the old spec's path in its copy, its label), or
    (None, label) when the spec did not exist at REF; other refusals exit with their code."""

    def __init__(self, ref: str, spec: Path, allow_outside_project: bool):
        self.ref, self.spec, self.allow = ref, spec, allow_outside_project
        self.copy = None

    def __enter__(self):
        from dsc.errors import render
        from dsc.gitbase import SpecNotAtRef, materialize

        label = f"{self.ref}:{self.spec}"
        try:
            self.copy = materialize(self.ref, self.spec, allow_outside_project=self.allow)
        except SpecNotAtRef:
            return None, label
        except Exception as err:  # GitBaseError (a DscError), or git itself failing: never a traceback
            code = getattr(err, "exit_code", EXIT_INPUT_ERROR)
            typer.echo(render(err) if hasattr(err, "exit_code") else f"--base {self.ref}: {err}", err=True)
            raise typer.Exit(code if isinstance(code, int) else EXIT_INPUT_ERROR)
        return Path(self.copy.spec), label

    def __exit__(self, *exc):
        if self.copy is not None:
            self.copy.close()


def _report(old_side, new_side, fmt: str, spec: Path, data: bool, examples: int, workers: int,
            cache: Optional[Path], allow_endpoint: list[str], allow_outside_project: bool):
    """The report to render. Without --data: the policy changes (None after printing the classic text
    diff, unchanged since before --data). With --data: both sides run and compared; a failed new
    side exits as `dsc run` does."""
    from dsc.datadiff import data_diff, policy_report

    if not data:
        if fmt == "text" and old_side.plan is not None:
            from dsc.diff import diff_plans, render_diff

            changes = diff_plans(old_side.plan, new_side.plan)
            typer.echo(render_diff(changes, old_side.plan, new_side.plan, old_side.label, new_side.label), nl=False)
            return None
        return policy_report(old_side, new_side)
    from dsc.commands.common import console

    from dsc.engines.permissions import Permissions
    from dsc.errors import DscError, render

    try:
        permissions = Permissions.from_operator(allow_endpoint, allow_outside_project)
        with console(stderr=True).status("running both plans", spinner="dots") as status:
            return data_diff(old_side, new_side, work_dir=cache, workers=workers, examples=examples,
                             progress=lambda msg: status.update(msg), permissions=permissions)
    except DscError as err:
        typer.echo(render(err, spec), err=True)
        raise typer.Exit(err.exit_code)
