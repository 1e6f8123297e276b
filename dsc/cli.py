"""The `dsc` command line: check, compile, explain, fmt, diff (and run, from the engine)."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperCommand

from dsc.atomic import WriteError, write_atomic
from dsc.command import compile_or_exit
from dsc.diagnostics import render_all
from dsc.exitcodes import (EXIT_GATE_FAILED, EXIT_INPUT_ERROR, EXIT_INTERNAL_ERROR, EXIT_INTERRUPTED, EXIT_OK,
                           EXIT_SPEC_ERROR)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="dsc — compile dataset specs (.dspec) into canonical, fingerprinted plans, and run them.",
    pretty_exceptions_enable=False,
)


@app.command()
def check(specs: list[Path] = typer.Argument(..., help="One or more .dspec files.")):
    """Check specs and report every problem at once (exit 2 on errors)."""
    from dsc.api import compile_file

    code = EXIT_OK
    for spec in specs:
        result = compile_file(spec)
        if result.diagnostics:
            typer.echo(render_all(result.diagnostics, result.source), err=True)
        if result.missing:
            code = max(code, EXIT_INPUT_ERROR)
        elif not result.ok:
            code = max(code, EXIT_SPEC_ERROR)
        else:
            typer.echo(f"{spec}: ok ({result.plan.fingerprint[:19]})")
    raise typer.Exit(code)


@app.command("compile")
def compile_cmd(
    spec: Path = typer.Argument(..., help="The .dspec file."),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="Write the plan here instead of stdout (- for stdout); into an "
                                               "existing folder as SPEC_NAME.plan.json."),
):
    """Compile a spec to its canonical plan JSON (byte-identical for the same policy)."""
    from dsc.plan import canonical_json

    result = compile_or_exit(spec)
    text = canonical_json(result.plan, indent=2) + "\n"
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    if output.is_dir():
        output = output / f"{spec.stem}.plan.json"
    try:
        write_atomic(output, text)
    except WriteError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    typer.echo(f"wrote {output} ({result.plan.fingerprint})", err=True)


@app.command()
def explain(spec: Path = typer.Argument(..., help="The .dspec file.")):
    """Explain, in plain words, what a spec will do."""
    from dsc.explain import explain as explain_plan

    result = compile_or_exit(spec)
    typer.echo(explain_plan(result.plan), nl=False)


@app.command()
def fmt(
    specs: list[Path] = typer.Argument(..., help="One or more .dspec files."),
    check_only: bool = typer.Option(False, "--check", help="Only report files that are not formatted (exit 2)."),
):
    """Rewrite specs in the canonical layout (comments kept)."""
    from dsc.fmt import format_source
    from dsc.syntax.load import read_source

    code = EXIT_OK
    for spec in specs:
        source, diags = read_source(spec)
        if source is None:
            typer.echo(render_all(diags, None), err=True)
            code = max(code, EXIT_INPUT_ERROR if any(d.code == "DSC107" for d in diags) else EXIT_SPEC_ERROR)
            continue
        text, diags = format_source(source)
        if text is None:
            typer.echo(render_all(diags, source), err=True)
            code = max(code, EXIT_SPEC_ERROR)
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


@app.command()
def diff(
    old: Path = typer.Argument(..., help="Old .dspec or compiled plan .json."),
    new: Path = typer.Argument(..., help="New .dspec or compiled plan .json."),
):
    """Show what changed in the policy between two specs, classified for reviewers."""
    from dsc.diff import diff_plans, render_diff

    old_plan, new_plan = _plan_of(old), _plan_of(new)
    typer.echo(render_diff(diff_plans(old_plan, new_plan), old_plan, new_plan, str(old), str(new)), nl=False)


@app.command()
def run(
    spec: Path = typer.Argument(..., help="The .dspec file."),
    out: str = typer.Option(..., "--out", help="Output directory (kept rows, rejects, exports, report, manifest)."),
    # 64: more workers than cores adds nothing (outputs are the same for any N), and every worker is
    # a forked process started at once, so an unbounded N would be a fork bomb.
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Worker processes for row-wise rules (local engine, at most 64)."),
    engine: str = typer.Option("local", "--engine", help="local (this process) or ray (Ray Data; see docs/ray.md)."),
    address: Optional[str] = typer.Option(None, "--address", help="With --engine ray: the cluster to join, auto or "
                                          "the head's HOST:PORT (default: start a local Ray instance)."),
    allow_endpoint: list[str] = typer.Option([], "--allow-endpoint", metavar="URL[#KEY_ENV]",
                                             help="Let augmentation send rows to this endpoint (a URL prefix; "
                                                  "#KEY_ENV pins the key variable). Repeatable; also "
                                                  "DSC_ALLOW_ENDPOINTS. None by default."),
    allow_outside_project: bool = typer.Option(False, "--allow-outside-project",
                                               help="Let the run read files that links lead outside the project."),
):
    """Run a spec over its data with the local or the Ray engine: write every output, print a per-rule summary
    and every failed gate (exit 3 when an error gate failed)."""
    from rich.console import Console

    from dsc.engines.permissions import Permissions
    from dsc.environment import changes
    from dsc.ops.runtime import RunError
    from dsc.report import summary_table

    if engine not in ("local", "ray"):
        raise typer.BadParameter(f"unknown engine '{engine}': use local or ray", param_hint="--engine")
    if address is not None and engine != "ray":
        raise typer.BadParameter("an address names a Ray cluster: add --engine ray", param_hint="--address")
    if not out:
        raise typer.BadParameter("an empty path would write into the current folder; name the output folder",
                                 param_hint="--out")
    out_dir = Path(out)
    result = compile_or_exit(spec)
    recorded = _recorded_environment(out_dir)
    console = Console(stderr=True)
    try:
        permissions = Permissions.from_operator(allow_endpoint, allow_outside_project)
        with console.status("running", spinner="dots") as status:
            if engine == "ray":
                from dsc.engines.ray import run_plan as run_on_ray

                outcome = run_on_ray(result.plan, spec.resolve().parent, out_dir, address=address,
                                     progress=lambda msg: status.update(msg), permissions=permissions)
            else:
                from dsc.engines.local import run_plan

                outcome = run_plan(result.plan, spec.resolve().parent, out_dir, workers=workers,
                                   progress=lambda msg: status.update(msg), permissions=permissions)
    except RunError as err:
        typer.echo(f"{spec}: error: {err}", err=True)
        raise typer.Exit(err.exit_code)
    versions = changes(recorded, outcome.manifest["environment"])
    if versions:
        typer.echo(f"note: {out_dir}/ was last written under other versions ({versions}); "
                   "outputs may differ for that alone", err=True)
    Console().print(summary_table(outcome.manifest))
    for split in outcome.manifest["splits"]:
        typer.echo(f"split {split['name']}: {split['rows']} rows" +
                   (f" -> {', '.join(split['outputs'])}" if split["outputs"] else ""))
    gates, failed = outcome.gates, outcome.failed
    # Every failed gate is listed, errors and warnings alike, each with its measured value and limit.
    for gate in failed:
        typer.echo(f"{spec}:{gate.line}: {'error' if gate.severity == 'error' else 'warning'}: gate {gate.message}",
                   err=True)
    errors = [g for g in failed if g.severity == "error"]
    for failure in outcome.annotation_failures:
        typer.echo(f"{spec}: error: {failure}", err=True)
    if gates:
        typer.echo(f"gates: {len(gates) - len(failed)} passed, {len(errors)} failed, "
                   f"{len(failed) - len(errors)} warning{'s' * (len(failed) - len(errors) != 1)}")
    typer.echo(f"outputs in {out_dir}/ (manifest.json, kept.jsonl, rejects.jsonl, stats.json); "
               f"report: {out_dir / 'report.md'} and {out_dir / 'report.html'}")
    if errors or outcome.annotation_failures:
        raise typer.Exit(EXIT_GATE_FAILED)


def _recorded_environment(out: Path) -> dict | None:
    """The library versions a previous run recorded in OUT/manifest.json, if it did."""
    import json

    try:
        recorded = json.loads((out / "manifest.json").read_text(encoding="utf-8")).get("environment")
    except (OSError, ValueError, AttributeError):
        return None
    return recorded if isinstance(recorded, dict) else None


@app.command()
def agreement(
    file: Path = typer.Argument(..., help="An annotation file: long format (jsonl/csv) or a Label Studio export."),
    fmt: str = typer.Option("long", "--format", help="long or labelstudio."),
    field: Optional[str] = typer.Option(None, "--field", help="Only the annotations of this field."),
    metric: str = typer.Option(..., "--metric", help="percent, cohen, fleiss or krippendorff."),
    level: Optional[str] = typer.Option(None, "--level", help="krippendorff: nominal, ordinal, interval, ratio."),
    weights: Optional[str] = typer.Option(None, "--weights", help="cohen: linear or quadratic."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Measure inter-annotator agreement of an annotation file on its own."""
    import json

    from dsc.annotation import AnnotationFileError, MetricError, file_agreement

    fmt = {"labelstudio": "label_studio"}.get(fmt, fmt)
    if fmt not in ("long", "label_studio"):
        typer.echo(f"unknown format '{fmt}': use long or labelstudio", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR)
    if weights is not None and metric != "cohen":
        typer.echo("--weights applies to --metric cohen only", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR)
    try:
        found, _ = file_agreement(file, fmt, field, metric, weights if metric == "cohen" else level)
    except AnnotationFileError as err:
        typer.echo(f"{file}: {err}", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    except (MetricError, ValueError) as err:
        typer.echo(f"{file}: {err}", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR)
    data = found.as_dict()
    if as_json:
        typer.echo(json.dumps(data, sort_keys=True))
    else:
        value = "undefined" if data["value"] is None else f"{data['value']:.4f}"
        typer.echo(f"{data['metric']}{' ' + data['level'] if data['level'] else ''}: {value} over "
                   f"{data['items']} items, {data['annotators']} annotators"
                   + (f" ({data['reason']})" if data["reason"] else ""))


@app.command()
def report(out: Path = typer.Argument(..., help="The output directory of a `dsc run`.")):
    """Re-render report.md and report.html from a run's saved stats.json."""
    from dsc.report import StatsError, rerender

    if not (out / "stats.json").is_file():
        typer.echo(f"{out}: no stats.json here; run `dsc run SPEC --out {out}` first", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    try:
        paths = rerender(out)
    except StatsError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    for path in paths:
        typer.echo(f"wrote {path}")


class _MinusValue(TyperCommand):
    """`dsc standardize` takes a value that starts with a minus (`-42,8°C`, `-1`, `-$5`) as the
    value, not as options: click would read `-1 lb` as the option `-l` with the value `b`.
    Every argument before a `--` that starts with one '-' and is not a short option of the
    command is moved after a `--`, where click takes it as an argument."""

    def parse_args(self, ctx, args):
        shorts = {o for p in self.params for o in p.opts if len(o) == 2 and o != "--"}
        end = args.index("--") if "--" in args else len(args)
        value = [len(a) > 1 and a[0] == "-" and a[:2] != "--" and a[:2] not in shorts for a in args[:end]]
        before = [a for a, v in zip(args, value) if not v]
        return super().parse_args(ctx, [*before, "--", *(a for a, v in zip(args, value) if v), *args[end + 1:]])


@app.command("standardize", cls=_MinusValue)
def standardize_cmd(
    kind: str = typer.Argument(..., help="date, datetime, number, money, quantity or bool."),
    value: str = typer.Argument(..., help="The value as it appears in the data."),
    locale: list[str] = typer.Option([], "--locale", "-l", help="A locale to read it in, e.g. de_DE (repeatable)."),
    order: Optional[str] = typer.Option(None, "--order", help="Day-month order of numeric dates: DMY, MDY or YMD "
                                        "(without it, each locale's own)."),
    years: Optional[str] = typer.Option(None, "--years", help="Dates: the century window that reads two-digit "
                                        "years, e.g. 1950..2049."),
    base: Optional[str] = typer.Option(None, "--base", help="The date relative dates count from (YYYY-MM-DD)."),
    currency: Optional[str] = typer.Option(None, "--currency", help="Money: the ISO 4217 code to convert to."),
    unit: Optional[str] = typer.Option(None, "--unit", help="Quantity: the unit to convert to, e.g. kg."),
    as_json: bool = typer.Option(False, "--json", help='Print {"input", "value", "status", "reason"} as JSON.'),
):
    """Try how a `standardize` rule reads one value: the standardised value, or why there is none.

    Exits 0 when the value is read, 4 when it is rejected or ambiguous, 2 for a bad option."""
    import json

    from dsc.locale import KINDS, OptionError, standardize
    from dsc.locale.dates import parse_years

    if kind not in KINDS:
        typer.echo(f"error: unknown kind '{kind}'; use one of {', '.join(KINDS)}", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR)
    try:
        window = parse_years(years) if years is not None else None
        result = standardize(kind, value, locale, order, base, unit if kind == "quantity" else currency,
                             years=window)
    except OptionError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR)
    if as_json:
        typer.echo(json.dumps(result.as_json(value), ensure_ascii=False))
    else:
        # an ambiguous value's reason starts with "ambiguous:" already
        typer.echo(result.text if result.ok else result.reason if result.status == "ambiguous"
                   else f"rejected: {result.reason}")
    raise typer.Exit(EXIT_OK if result.ok else EXIT_INPUT_ERROR)


_COLUMNS_HELP = "Comma-separated column names, e.g. instruction,input."


@app.command()
def profile(
    paths: list[Path] = typer.Argument(..., help="Data files (jsonl, json, csv, parquet; globs too), or one .dspec."),
    key: Optional[str] = typer.Option(None, "--key", help="Key columns for key duplicates and conflicts. " + _COLUMNS_HELP),
    target: Optional[str] = typer.Option(None, "--target", help="The column a key should determine (conflicts)."),
    text: Optional[str] = typer.Option(None, "--text", help="Text columns for the near-duplicate estimate "
                                       "(default: the columns that hold text; '' for none). " + _COLUMNS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the profile as JSON."),
    format: Optional[str] = typer.Option(None, "--format", help="jsonl, json, csv or parquet (default: by extension)."),
):
    """Profile data: duplicates, conflicts, empty and placeholder values, control characters, and
    which formats and locales read the date, number, money and measurement columns."""
    from dsc.profile.command import profile_command

    raise typer.Exit(profile_command(paths, key, target, text, as_json, format))


@app.command()
def init(
    paths: list[Path] = typer.Argument(..., help="Data files (jsonl, json, csv, parquet; globs too)."),
    output: Path = typer.Option(..., "-o", "--output", help="The policy to write, e.g. policy.dspec."),
    key: Optional[str] = typer.Option(None, "--key", help="Key columns for key duplicates and conflicts. " + _COLUMNS_HELP),
    target: Optional[str] = typer.Option(None, "--target", help="The column a key should determine (conflicts)."),
    text: Optional[str] = typer.Option(None, "--text", help="Text columns for near duplicates. " + _COLUMNS_HELP),
    format: Optional[str] = typer.Option(None, "--format", help="jsonl, json, csv or parquet (default: by extension)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the policy if it exists."),
):
    """Write a starter policy from a profile of the data: each rule with the counts behind it; it passes
    `dsc check`."""
    from dsc.profile.command import init_command

    raise typer.Exit(init_command(paths, output, key, target, text, format, force))


@app.command()
def version():
    """Print the dsc version."""
    from dsc import __version__

    typer.echo(f"dsc {__version__}")


from dsc.finetune.cli import finetune_app  # noqa: E402
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
    except WriteError as err:  # a command that writes a file it was asked to (init, finetune config)
        typer.echo(f"error: {err}", err=True)
        sys.exit(EXIT_INPUT_ERROR)
    except Exception as err:  # a bug: say so plainly; the traceback is for developers
        if os.environ.get("DSC_DEBUG"):
            raise
        typer.echo(f"internal error: {type(err).__name__}: {err}\n"
                   "this is a bug in dsc; rerun with DSC_DEBUG=1 for the traceback and report it", err=True)
        sys.exit(EXIT_INTERNAL_ERROR)


if __name__ == "__main__":
    main()
