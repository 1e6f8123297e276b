"""Rules that need an optional extra of dsc (DSC221): a package `pip install dsc` leaves out.

`dedupe fuzzy` trains with the `dedupe` library, a local augmentation model (`using`) runs on
torch and transformers, and a `finetune` block's comparison loads the model with transformers and
PEFT. Each rule's packages and the extra that installs them are one line of `EXTRAS`.

A missing package is a warning, not an error: the spec is right, and it checks, compiles,
explains and diffs the same on any machine; only running it needs the package. So `dsc check`
says what to install at the rule, and the run stops with the same words (`missing`).
Whether a package is there is asked of the import system (`importlib.util.find_spec`), which
imports nothing, so checking stays fast however heavy the package.
"""
from __future__ import annotations

import importlib.util
from typing import NamedTuple

from dsc import ast
from dsc.checks.common import clean_rules, head, warning
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic
from dsc.syntax.source import Span


class Extra(NamedTuple):
    modules: tuple[str, ...]  # what the rule imports
    name: str                 # the extra of dsc that installs them: pip install 'dsc[NAME]'


# A rule, as messages name it -> the packages it imports and the extra (pyproject.toml) with them.
EXTRAS: dict[str, Extra] = {
    "dedupe fuzzy": Extra(("dedupe",), "fuzzy"),
    "a local model (using)": Extra(("torch", "transformers"), "train"),
    "finetune": Extra(("torch", "transformers", "peft"), "train"),
}


def installed(module: str) -> bool:
    """Whether `module` can be imported here, found without importing it.

    >>> installed("json"), installed("no_such_module_for_dsc")
    (True, False)
    """
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a dotted name's parent is missing; a loaded module has no spec
        return False


def missing(rule: str) -> tuple[str, str] | None:
    """What `rule` (a key of `EXTRAS`) lacks on this machine, and how to install it: e.g.
    `("dedupe fuzzy needs the package dedupe, which is not installed here", "pip install 'dsc[fuzzy]'")`;
    None when nothing is missing."""
    extra = EXTRAS[rule]
    absent = [m for m in extra.modules if not installed(m)]
    if not absent:
        return None
    if len(absent) == 1:
        needs = f"the package {absent[0]}, which is"
    else:
        needs = f"the packages {', '.join(absent[:-1])} and {absent[-1]}, which are"
    return f"{rule} needs {needs} not installed here", f"pip install 'dsc[{extra.name}]'"


def check_extras(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """A warning (DSC221) at each rule whose optional packages are not installed here."""
    out: list[Diagnostic] = []
    for rule in clean_rules(spec):
        if isinstance(rule, ast.Dedupe) and rule.mode.value == "fuzzy":
            out += _warn("dedupe fuzzy", rule.mode.span)
    for block in spec.of(ast.AugmentBlock):
        for aug in block.rules:
            for opt in aug.options:
                if opt.key == "using":
                    out += _warn("a local model (using)", head(opt, "using"))
    for block in spec.of(ast.FinetuneBlock):
        out += _warn("finetune", head(block, "finetune"))
    return out


def _warn(rule: str, span: Span) -> list[Diagnostic]:
    found = missing(rule)
    if found is None:
        return []
    message, install = found
    return [warning("DSC221", message, span, f"{install} on the machine that runs the spec; checking and "
                                             "compiling need no extra")]
