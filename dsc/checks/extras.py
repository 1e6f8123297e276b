"""Rules that need an optional extra of dsc (DSC221): a package `pip install dsc` leaves out.

`dedupe fuzzy` trains with the `dedupe` library, a local augmentation model (`using`) runs on
torch and transformers, a `finetune` block's comparison loads the model with transformers and
PEFT, and `tokens()` counts with the base model's tokenizer (transformers). Each rule's packages
and the extra that installs them are one line of `dsc.extras.EXTRAS`.

A missing package is a warning, not an error: the spec is right, and it checks, compiles,
explains and diffs the same on any machine; only running it needs the package. So `dsc check`
says what to install at the rule, and the run stops with the same words (`missing`).
"""
from __future__ import annotations

from dsc import ast
from dsc.checks.common import clean_rules, head, warning
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic
from dsc.extras import missing
from dsc.syntax.source import Span


def check_extras(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """A warning (DSC221) at each rule whose optional packages are not installed here."""
    out: list[Diagnostic] = []
    for rule in clean_rules(spec):
        if isinstance(rule, ast.Dedupe) and rule.mode.value == "fuzzy":
            out += _warn("dedupe fuzzy", rule.mode.span)
        elif isinstance(rule, ast.Drop) and isinstance(rule.predicate, ast.MeasurePred) \
                and rule.predicate.func.value == "tokens":
            out += _warn("tokens()", rule.predicate.func.span)
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
