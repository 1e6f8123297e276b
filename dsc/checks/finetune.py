"""`finetune METHOD { … }`: the method, and each setting against the table of that method.

Several finetune blocks may sit in one spec — one per method, to compare their estimated
cost — but not two for the same method.
"""
from __future__ import annotations

from decimal import Decimal

from dsc import ast
from dsc.checks.common import at_line, error, first_seen, one_of, unknown_value, warning
from dsc.checks.context import CheckContext
from dsc.checks.ranges import FRACTION, POSITIVE_COUNT, Range, out_of_range
from dsc.diagnostics import Diagnostic, did_you_mean

METHODS = ("full", "lora", "prompt_tuning")
_POSITIVE = Range(Decimal(0), low_open=True, percent=False)
_NON_NEGATIVE = Range(Decimal(0), percent=False)
_DROPOUT = Range(Decimal(0), Decimal(1), high_open=True)
# A setting's value: a Range for one number; "text" for one string (or name); "names" for a list.
COMMON = {
    "base": "text", "epochs": POSITIVE_COUNT, "lr": _POSITIVE, "batch_size": POSITIVE_COUNT,
    "max_length": POSITIVE_COUNT, "gpu": "text", "gpu_tflops": _POSITIVE, "utilization": FRACTION,
    "gpu_power_w": _POSITIVE, "carbon_kg_per_kwh": _NON_NEGATIVE, "gpu_count": POSITIVE_COUNT,
}
SETTINGS = {
    "full": COMMON,
    "lora": {**COMMON, "r": POSITIVE_COUNT, "alpha": _POSITIVE, "dropout": _DROPOUT, "target": "names"},
    "prompt_tuning": {**COMMON, "virtual_tokens": POSITIVE_COUNT, "init_text": "text"},
}

# Names the training libraries (transformers, PEFT) use for our settings.
_ALIASES = {
    "rank": "r", "lora_r": "r", "lora_alpha": "alpha", "lora_dropout": "dropout", "target_modules": "target",
    "learning_rate": "lr", "num_epochs": "epochs", "num_train_epochs": "epochs", "model": "base",
    "base_model": "base", "num_virtual_tokens": "virtual_tokens", "prompt_tuning_init_text": "init_text",
    "per_device_train_batch_size": "batch_size", "max_seq_length": "max_length",
}


def check_finetune(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Known method (DSC203), one block per method (DSC202), and its settings.

    A setting no method has is DSC216 (with a suggestion); one that belongs to another
    method is DSC217; a repeat is DSC214; a value of the wrong kind or out of range is
    DSC209. A block without `base` (the model to tune) gets a warning (DSC212): it can be
    compared and diffed, but not turned into a training configuration.
    """
    out: list[Diagnostic] = []
    blocks = spec.of(ast.FinetuneBlock)
    for repeat, first in first_seen((b.method.value, b.method) for b in blocks):
        out.append(error("DSC202", f"a second 'finetune {repeat.value}' block", repeat.span,
                         f"the first is {at_line(first, repeat)}; merge them into one"))
    for block in blocks:
        out += unknown_value(block.method, "fine-tuning method", METHODS)
        # Under an unknown method (already reported) any method's setting passes, to avoid noise.
        table = SETTINGS.get(block.method.value) or {k: v for t in SETTINGS.values() for k, v in t.items()}
        for repeat, first in first_seen((s.name.value, s.name) for s in block.settings):
            out.append(error("DSC214", f"'{repeat.value}' is given twice", repeat.span,
                             f"the first is {at_line(first, repeat)}; keep one"))
        for setting in block.settings:
            out += _setting(setting, block.method.value, table)
        if not any(s.name.value == "base" for s in block.settings):
            out.append(warning("DSC212", "finetune has no 'base' model, so no training configuration or "
                                         "parameter estimate can be made", block.method.span,
                               'add: base "org/model" (a hub id or a local path)'))
    return out


def _setting(setting: ast.Setting, method: str, table: dict) -> list[Diagnostic]:
    name = setting.name.value
    if name not in table:
        owners = [m for m, t in SETTINGS.items() if name in t]
        if owners:
            return [error("DSC217", f"'{name}' is a {one_of(owners)} setting, not a {method} one", setting.name.span,
                          f"{method} takes: {', '.join(table)}")]
        alias = _ALIASES.get(name)
        hint = f"did you mean '{alias}'?" if alias in table else did_you_mean(name, table)
        return [error("DSC216", f"unknown {method} setting '{name}'", setting.name.span,
                      hint or f"{method} takes: {', '.join(table)}")]
    kind, values = table[name], setting.values
    if kind == "names":
        bad = [v for v in values if not isinstance(v, ast.Name)]
        return [error("DSC209", f"'{name}' lists module names", v.span, "write them bare: q_proj, v_proj") for v in bad]
    if len(values) > 1:
        return [error("DSC217", f"'{name}' takes one value", values[1].span, "remove the rest")]
    value = values[0]
    if kind == "text":
        if isinstance(value, ast.Num):
            return [error("DSC209", f"'{name}' is a name, not a number", value.span, f'quote it: "{value.value:f}"')]
        return []
    if not isinstance(value, ast.Num):
        return [error("DSC209", f"'{name}' must be a number ({kind.describe()})", value.span)]
    return out_of_range(value, f"'{name}'", kind)
