"""`dsc standardize`: how a `standardize` rule reads one value."""
from __future__ import annotations

from typing import Optional

import typer
from typer.core import TyperCommand

from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR


class MinusValue(TyperCommand):
    """`dsc standardize` takes a value that starts with a minus (`-42,8°C`, `-1`, `-$5`) as the
    value, not as options: click would read `-1 lb` as the option `-l` with the value `b`.
    Every argument before a `--` that starts with one '-' and is not a short option of the
    command is moved after a `--`, where click takes it as an argument."""

    def parse_args(self, ctx, args):
        shorts = {o for p in self.get_params(ctx) for o in p.opts if len(o) == 2 and o != "--"}  # -h too
        end = args.index("--") if "--" in args else len(args)
        value = [len(a) > 1 and a[0] == "-" and a[:2] != "--" and a[:2] not in shorts for a in args[:end]]
        before = [a for a, v in zip(args, value) if not v]
        return super().parse_args(ctx, [*before, "--", *(a for a, v in zip(args, value) if v), *args[end + 1:]])


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
