"""Locales (DSC204), pivot languages and ISO 4217 currencies (DSC205), from babel's data.

A locale is whatever `babel.Locale.parse(x, sep="_")` accepts — the same call the
standardisers make, so a spec that checks is a spec that runs. Suggestions for a misspelt
locale stay within its language when the language is right (`en_UX` → `en_US`, the language's
most likely territory winning ties), and a language written out in English (`german`) is
mapped to its code.
"""
from __future__ import annotations

from functools import cache
from typing import Iterator

from babel import Locale
from babel.core import get_global
from babel.localedata import locale_identifiers
from babel.numbers import list_currencies

from dsc import ast
from dsc.checks.common import at_line, clean_rules, closest, error, first_seen
from dsc.checks.context import CheckContext
from dsc.checks.ranges import NUMBERS, out_of_range
from dsc.diagnostics import Diagnostic, suggestion
from dsc.locale.locales import parse_locale


@cache
def _identifiers() -> frozenset[str]:
    return frozenset(locale_identifiers())


@cache
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@cache
def _language_names() -> dict[str, str]:
    """English language names (lower case) → language code: `german` → `de`."""
    return {name.lower(): code for code, name in Locale("en").languages.items() if "_" not in code}


def suggest_locale(text: str) -> str | None:
    """A 'did you mean' hint for an unknown locale, or None.

    >>> suggest_locale("en_UX"), suggest_locale("en-GB"), suggest_locale("german")
    ("did you mean 'en_US'?", "did you mean 'en_GB'? (locales are written with '_')", "did you mean 'de' (German)?")
    """
    if "-" in text and parse_locale(text.replace("-", "_")):
        return f"did you mean '{text.replace('-', '_')}'? (locales are written with '_')"
    code = _language_names().get(text.lower())
    if code:
        return f"did you mean '{code}' ({Locale(code).english_name})?"
    language = text.split("_")[0].lower()
    ids = _identifiers()
    if language in ids and "_" in text:
        same = [i for i in ids if i == language or i.startswith(language + "_")]
        likely = get_global("likely_subtags").get(language, "")
        parts = likely.split("_")
        preferred = [f"{parts[0]}_{parts[-1]}"] if len(parts) > 1 else []
        return suggestion(closest(text, same, preferred))
    return suggestion(closest(text, ids))


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
    if target is not None and target.value not in _currencies():
        out.append(_unknown_currency(target))
    rates = [r for opt in rule.options if opt.key == "rates" for r in opt.values if isinstance(r, ast.Rate)]
    if rates and target is None:
        table = next(opt for opt in rule.options if opt.key == "rates")
        out.append(error("DSC212", "a rate table needs a target currency to convert to", table.span,
                         f"name it after 'money', e.g. standardize {rule.column.value} as money EUR rates {{…}}"))
    for rate in rates:
        code = rate.currency
        if code.value not in _currencies():
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
    hint = suggestion(upper if upper in _currencies() else closest(code.value, _currencies()))
    return error("DSC205", f"unknown currency code '{code.value}'", code.span,
                 hint or "currencies are ISO 4217 codes, like EUR or USD")
