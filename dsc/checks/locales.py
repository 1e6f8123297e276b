"""Locales (DSC204), pivot languages and ISO 4217 currencies (DSC205), from babel's data.

A locale is whatever `babel.Locale.parse(x, sep="_")` accepts — the same call the
standardisers make, so a spec that checks is a spec that runs. Reading a locale, the hint for a
misspelt one (`dsc.locale.locales.suggest_locale`) and the currencies there are
(`dsc.locale.money.currency_codes`) are the standardisers'; this module says where a spec is wrong.
"""
from __future__ import annotations

from typing import Iterator

from dsc import ast
from dsc.checks.common import at_line, clean_rules, error, first_seen
from dsc.checks.context import CheckContext
from dsc.checks.ranges import NUMBERS, out_of_range
from dsc.diagnostics import Diagnostic, closest, suggestion
from dsc.locale.locales import parse_locale, suggest_locale
from dsc.locale.money import currency_codes


def check_locales(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Every locale and pivot language is one babel knows (DSC204).

    Locales appear in the header (`locale en_US`) and in `standardize … from [..]` and
    `… locale X`; back-translation pivots are languages (`de`, `fr`; a full locale is accepted).
    """
    out: list[Diagnostic] = []
    for name, what in _locale_refs(spec):
        if parse_locale(name.value) is None:
            out.append(error("DSC204", f"unknown {what} '{name.value}'", name.span, suggest_locale(name.value)))
    return out


def _locale_refs(spec: ast.Spec) -> Iterator[tuple[ast.Name, str]]:
    for block in spec.of(ast.DatasetBlock):
        yield from ((s.value, "locale") for s in block.body if isinstance(s, ast.Locale))
    for rule in clean_rules(spec):
        if isinstance(rule, ast.Standardize):
            for opt in rule.options:
                if opt.key in ("from", "locale"):
                    yield from ((v, "locale") for v in opt.values if isinstance(v, ast.Name))
    for block in spec.of(ast.AugmentBlock):
        for rule in block.rules:
            yield from ((p, "pivot language") for p in rule.pivots)


def check_currencies(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Money targets and rate tables name ISO 4217 currencies (DSC205) and make sense.

    A rate table converts *to* the target currency, so it needs one (DSC212); a rate for the
    target itself (DSC214) or for the same currency twice (DSC214) is a mistake; a rate is in its
    range (NUMBERS, DSC209).
    """
    out: list[Diagnostic] = []
    for rule in clean_rules(spec):
        if isinstance(rule, ast.Standardize) and rule.kind.value == "money":
            out += _money(rule)
    return out


def _money(rule: ast.Standardize) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    target = rule.target
    if target is not None and target.value not in currency_codes():
        out.append(_unknown_currency(target))
    rates = [r for opt in rule.options if opt.key == "rates" for r in opt.values if isinstance(r, ast.Rate)]
    if rates and target is None:
        table = next(opt for opt in rule.options if opt.key == "rates")
        out.append(error("DSC212", "a rate table needs a target currency to convert to", table.span,
                         f"name it after 'money', e.g. standardize {rule.column.value} as money EUR rates {{…}}"))
    for rate in rates:
        code = rate.currency
        if code.value not in currency_codes():
            out.append(_unknown_currency(code))
        elif target is not None and code.value == target.value:
            out.append(error("DSC214", f"a rate for {code.value}, the target currency itself", code.span,
                             f"{code.value} converts to itself at 1; remove this rate"))
        out += out_of_range(rate.value, f"the rate for {code.value}", NUMBERS["rate"])
    for repeat, first in first_seen((r.currency.value, r.currency) for r in rates):
        out.append(error("DSC214", f"two rates for {repeat.value}", repeat.span,
                         f"the first is {at_line(first, repeat)}"))
    return out


def _unknown_currency(code: ast.Name | ast.Str) -> Diagnostic:
    upper = code.value.upper()
    hint = suggestion(upper if upper in currency_codes() else closest(code.value, currency_codes()))
    return error("DSC205", f"unknown currency code '{code.value}'", code.span,
                 hint or "currencies are ISO 4217 codes, like EUR or USD")
