"""`dsc agreement`: inter-annotator agreement of an annotation file on its own."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR

_SHOWN = 10  # records not used that the text output lists (--json lists all)


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
        found, ingested = file_agreement(file, fmt, field, metric, weights if metric == "cohen" else level)
    except AnnotationFileError as err:
        typer.echo(f"{file}: {err}", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    except (MetricError, ValueError) as err:
        typer.echo(f"{file}: {err}", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR)
    data = found.as_dict()
    problems = ingested.problems
    if as_json:
        typer.echo(json.dumps({**data, "records": ingested.records, "not_used": [p.as_dict() for p in problems]},
                              sort_keys=True))
    else:
        value = "undefined" if data["value"] is None else f"{data['value']:.4f}"
        typer.echo(f"{data['metric']}{' ' + data['level'] if data['level'] else ''}: {value} over "
                   f"{data['items']} items, {data['annotators']} annotators"
                   + (f" ({data['reason']})" if data["reason"] else ""))
        if problems:  # the records left out of the figure, each with why (a run lists them in its stats)
            typer.echo(f"{len(problems)} of {ingested.records} records not used:", err=True)
            for problem in problems[:_SHOWN]:
                typer.echo(f"  {problem.source}: {problem.reason}", err=True)
            if len(problems) > _SHOWN:
                typer.echo(f"  … and {len(problems) - _SHOWN} more (--json lists them all)", err=True)
