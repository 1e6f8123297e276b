"""`dsc run` (a spec over its data, with the local or the Ray engine) and `dsc report` (a run's
report rendered again)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from dsc.commands.common import compile_or_exit
from dsc.commands.progress import RunProgress
from dsc.exitcodes import EXIT_GATE_FAILED, EXIT_INPUT_ERROR, EXIT_OK


def run(
    spec: Path = typer.Argument(..., help="The .dspec file."),
    out: str = typer.Option(..., "--out", help="Output directory (kept rows, rejects, exports, report, manifest)."),
    # 64: more workers than cores adds nothing (outputs are the same for any N), and a rule that runs
    # Python per row forks every worker at once, so an unbounded N would be a fork bomb.
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Workers for the local engine (at most 64): threads for compiled and "
                                     "Arrow kernels, processes for rules that run Python per row."),
    engine: str = typer.Option("local", "--engine", help="local (this process) or ray (Ray Data; see docs/ray.md)."),
    address: Optional[str] = typer.Option(None, "--address", help="With --engine ray: the cluster to join, auto or "
                                          "the head's HOST:PORT (default: start a local Ray instance)."),
    allow_endpoint: list[str] = typer.Option([], "--allow-endpoint", metavar="URL[#KEY_ENV]",
                                             help="Let augmentation send rows to this endpoint (a URL prefix; "
                                                  "#KEY_ENV pins the key variable). Repeatable; also "
                                                  "DSC_ALLOW_ENDPOINTS. None by default."),
    allow_outside_project: bool = typer.Option(False, "--allow-outside-project",
                                               help="Let the run read files that links lead outside the project."),
    # Off by default: kept.parquet already holds every kept row, and the jsonl copy doubled what a run wrote.
    kept_jsonl: bool = typer.Option(False, "--kept-jsonl",
                                    help="Also write kept.jsonl, the kept rows as JSON lines (kept.parquet is "
                                         "always written). Without it, a kept.jsonl an earlier run wrote is removed."),
    format: str = typer.Option("text", "--format", help="text (for people) or json (the run's summary as one JSON "
                                                         "object on standard output; docs/cli.md)."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No progress on standard error."),
    log_format: str = typer.Option("text", "--log-format",
                                   help="text (a live line per stage on a terminal, one plain line per stage "
                                        "elsewhere) or json (one JSON object per stage on standard error)."),
):
    """Run a spec over its data with the local or the Ray engine: write every output, print a per-rule summary
    and every failed gate (exit 3 when an error gate failed)."""
    from dsc.commands.common import console

    from dsc.engines.permissions import Permissions
    from dsc.environment import changes
    from dsc.errors import DscError, render
    from dsc.report import summary_table

    if format not in ("text", "json"):
        raise typer.BadParameter(f"unknown format '{format}': use text or json", param_hint="--format")
    if log_format not in ("text", "json"):
        raise typer.BadParameter(f"unknown log format '{log_format}': use text or json", param_hint="--log-format")
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
    err = console(stderr=True)
    try:
        permissions = Permissions.from_operator(allow_endpoint, allow_outside_project)
        with RunProgress(err, quiet=quiet, log_format=log_format) as progress:
            if engine == "ray":
                from dsc.engines.ray import run_plan as run_on_ray

                outcome = run_on_ray(result.plan, spec.resolve().parent, out_dir, address=address,
                                     progress=progress, permissions=permissions, kept_jsonl=kept_jsonl)
            else:
                from dsc.engines.local import run_plan

                outcome = run_plan(result.plan, spec.resolve().parent, out_dir, workers=workers,
                                   progress=progress, permissions=permissions, kept_jsonl=kept_jsonl)
    except DscError as err:  # located at the spec's line, with its code (dsc.errors.render)
        typer.echo(render(err, result.source or spec), err=True)
        raise typer.Exit(err.exit_code)
    versions = changes(recorded, outcome.manifest["environment"])
    if versions:
        typer.echo(f"note: {out_dir}/ was last written under other versions ({versions}); "
                   "outputs may differ for that alone", err=True)
    gates, failed = outcome.gates, outcome.failed
    errors = [g for g in failed if g.severity == "error"]
    code = EXIT_GATE_FAILED if errors or outcome.annotation_failures else EXIT_OK
    text = format == "text"
    if text:
        console().print(summary_table(outcome.manifest))
        for split in outcome.manifest["splits"]:
            typer.echo(f"split {split['name']}: {split['rows']:,} row{'' if split['rows'] == 1 else 's'}" +
                       (f" -> {', '.join(split['outputs'])}" if split["outputs"] else ""))
    # Every failed gate is listed, errors and warnings alike, each with its measured value and limit.
    for gate in failed:
        typer.echo(f"{spec}:{gate.line}: {'error' if gate.severity == 'error' else 'warning'}: gate {gate.message}",
                   err=True)
    for failure in outcome.annotation_failures:
        typer.echo(f"{spec}: error: {failure}", err=True)
    # The annotation warnings (agreement below a `below_threshold flag|drop` floor, records not
    # used), which the report shows too: a run that exits 0 still says them where it is read.
    for _field, summary in sorted((outcome.stats.get("annotations") or {}).items()):
        for warning in summary.get("warnings") or []:
            typer.echo(f"{spec}: warning: {warning}", err=True)
    if not text:
        typer.echo(json.dumps(run_summary(spec, out_dir, outcome.manifest, outcome.annotation_failures, code),
                              indent=2, ensure_ascii=False))
        raise typer.Exit(code)
    if gates:
        typer.echo(f"gates: {len(gates) - len(failed)} passed, {len(errors)} failed, "
                   f"{len(failed) - len(errors)} warning{'s' * (len(failed) - len(errors) != 1)}")
    typer.echo(f"outputs in {out_dir}/ ({', '.join(_main_outputs(outcome.manifest))}); "
               f"report: {out_dir / 'report.md'} and {out_dir / 'report.html'}")
    raise typer.Exit(code)


def _main_outputs(manifest: dict) -> list[str]:
    """The files the summary line names: the manifest and the run's rows, only those this run wrote
    (`kept.jsonl` is there only with `--kept-jsonl`).

    >>> _main_outputs({"outputs": {"kept.parquet": {}, "rejects.jsonl": {}, "stats.json": {}}})
    ['manifest.json', 'kept.parquet', 'rejects.jsonl', 'stats.json']
    """
    written = manifest.get("outputs", {})
    names = ("kept.parquet", "kept.jsonl", "rejects.jsonl", "stats.json")
    return ["manifest.json", *(n for n in names if n in written)]


def run_summary(spec: Path, out_dir: Path, manifest: dict, annotation_failures: list[str], code: int) -> dict:
    """`dsc run --format json`: what the text summary says, as one object (keys in docs/cli.md)."""
    return {
        "spec": str(spec),
        "out": str(out_dir),
        "dataset": manifest.get("dataset"),
        "fingerprint": manifest.get("plan_fingerprint"),
        "engine": manifest.get("engine"),
        "counts": manifest.get("counts"),
        "rules": manifest.get("rules", []),
        "splits": [{"name": s["name"], "rows": s["rows"], "outputs": s["outputs"]} for s in manifest.get("splits", [])],
        "gates": manifest.get("gates", []),
        "annotation_failures": list(annotation_failures),
        "outputs": sorted(manifest.get("outputs", {})),
        "report": [str(out_dir / "report.md"), str(out_dir / "report.html")],
        "exit_code": code,
    }


def _recorded_environment(out: Path) -> dict | None:
    """The library versions a previous run recorded in OUT/manifest.json, if it did."""
    import json

    try:
        recorded = json.loads((out / "manifest.json").read_text(encoding="utf-8")).get("environment")
    except (OSError, ValueError, AttributeError):
        return None
    return recorded if isinstance(recorded, dict) else None


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
