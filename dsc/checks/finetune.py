"""`finetune METHOD { … }`: the method, and each setting against the table of that method.

Several finetune blocks may sit in one spec — one per method, to compare their estimated
cost — but not two for the same method. The resource figures form a chain (GPU-hours need
`gpu_tflops` and `utilization`; energy needs those and `gpu_power_w`; CO2 needs energy and
`carbon_kg_per_kwh`): a block that gives a later link without the earlier ones asks for an
estimate it cannot get, and says what to add. Checks that need the model itself (target
modules, ranks) run in `dsc finetune`, which reads the model's config.
"""
from __future__ import annotations

from pathlib import Path

from dsc import ast
from dsc.checks.common import at_line, clean_rules, error, first_seen, one_of, unknown_value, warning
from dsc.checks.context import CheckContext
from dsc.checks.ranges import NUMBERS, out_of_range
from dsc.diagnostics import Diagnostic, did_you_mean

METHODS = ("full", "lora", "prompt_tuning")
PRECISIONS = ("bf16", "fp16", "fp32")
OPTIMIZERS = ("adamw", "sgd", "adafactor")
# What the loss covers: the completion (the assistant turns) only, or the whole text.
LOSSES = ("completion", "all")
# A setting's value: a Range for one number (its entry in NUMBERS, the table of every number's
# range); "text" for one string (or name); "names" for a list; a tuple for one name out of a fixed
# vocabulary.
COMMON = {
    "base": "text", "epochs": NUMBERS["epochs"], "lr": NUMBERS["lr"], "batch_size": NUMBERS["batch_size"],
    "max_length": NUMBERS["max_length"], "gpu": "text", "gpu_tflops": NUMBERS["gpu_tflops"],
    "utilization": NUMBERS["utilization"], "gpu_power_w": NUMBERS["gpu_power_w"],
    "carbon_kg_per_kwh": NUMBERS["carbon_kg_per_kwh"], "gpu_count": NUMBERS["gpu_count"], "pue": NUMBERS["pue"],
    "gpu_memory_gb": NUMBERS["gpu_memory_gb"], "precision": PRECISIONS, "optimizer": OPTIMIZERS, "loss": LOSSES,
}
# Each resource estimate, the settings it needs, and the estimates it builds on.
ESTIMATE_NEEDS = {
    "GPU-hours": ("gpu_tflops", "utilization"),
    "energy": ("gpu_tflops", "utilization", "gpu_power_w"),
    "CO2": ("gpu_tflops", "utilization", "gpu_power_w", "carbon_kg_per_kwh"),
}
# The setting whose presence asks for each estimate.
_ASKS = {"gpu_count": "GPU-hours", "gpu_tflops": "GPU-hours", "utilization": "GPU-hours",
         "gpu_power_w": "energy", "pue": "energy", "carbon_kg_per_kwh": "CO2"}
SETTINGS = {
    "full": COMMON,
    "lora": {**COMMON, "r": NUMBERS["r"], "alpha": NUMBERS["alpha"], "dropout": NUMBERS["dropout"], "target": "names"},
    "prompt_tuning": {**COMMON, "virtual_tokens": NUMBERS["virtual_tokens"], "init_text": "text"},
}

# Names the training libraries (transformers, PEFT) use for our settings.
_ALIASES = {
    "rank": "r", "lora_r": "r", "lora_alpha": "alpha", "lora_dropout": "dropout", "target_modules": "target",
    "learning_rate": "lr", "num_epochs": "epochs", "num_train_epochs": "epochs", "model": "base",
    "base_model": "base", "num_virtual_tokens": "virtual_tokens", "prompt_tuning_init_text": "init_text",
    "per_device_train_batch_size": "batch_size", "max_seq_length": "max_length", "optim": "optimizer",
    "dtype": "precision", "torch_dtype": "precision", "tdp": "gpu_power_w", "power_w": "gpu_power_w",
    "completion_only_loss": "loss", "assistant_only_loss": "loss",
}


def check_finetune(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Known method (DSC203), one block per method (DSC202), and its settings.

    A setting no method has is DSC216 (with a suggestion); one that belongs to another
    method is DSC217; a repeat is DSC214; a value of the wrong kind or out of range is
    DSC209, a name outside a setting's vocabulary DSC203. A block without `base` (the model
    to tune) gets a warning (DSC212): it can be compared and diffed, but not turned into a
    training configuration. A resource figure without the figures its estimate also needs
    is DSC212.
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
        out += _estimate_inputs(block)
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
    if isinstance(kind, tuple):
        if isinstance(value, ast.Num):
            return [error("DSC209", f"'{name}' is one of {', '.join(kind)}, not a number", value.span)]
        return unknown_value(ast.Name(value.value, span=value.span), name, kind)
    if not isinstance(value, ast.Num):
        return [error("DSC209", f"'{name}' must be a number ({kind.describe()})", value.span)]
    return out_of_range(value, f"'{name}'", kind)


def _estimate_inputs(block: ast.FinetuneBlock) -> list[Diagnostic]:
    """DSC212 for each estimate a block asks for (by giving one of its figures) but cannot get.

    Each missing figure is reported once, at the setting that asked for the furthest estimate.
    """
    given = {s.name.value: s for s in block.settings}
    asked = [(name, _ASKS[name]) for name in given if name in _ASKS]
    if not asked:
        return []
    order = list(ESTIMATE_NEEDS)
    name, estimate = max(asked, key=lambda a: order.index(a[1]))
    missing = [need for need in ESTIMATE_NEEDS[estimate] if need not in given]
    if not missing:
        return []
    article = "an" if estimate[0] in "aeiou" else "a"
    return [error("DSC212", f"'{name}' asks for {article} {estimate} estimate, which also needs "
                            f"{_and(missing)}", given[name].name.span,
                  "add: " + ", ".join(f"{m} {_EXAMPLE[m]}" for m in missing) + " (figures for your GPU and grid)")]


def _and(names: list[str]) -> str:
    """`'a'`, `'a' and 'b'`, `'a', 'b' and 'c'`."""
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


# Example values in hints — an A100's dense BF16 peak and board power, a typical utilisation.
_EXAMPLE = {"gpu_tflops": "312", "utilization": "40%", "gpu_power_w": "400", "carbon_kg_per_kwh": "0.4"}


def check_token_rules(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """`tokens(COL)` counts with the finetune block's base tokenizer, so a spec with such a rule
    needs a finetune block whose `base` has tokenizer files (DSC212, at the rule: never a silent
    approximation in a filter); finetune blocks that name different bases leave it unclear which
    tokenizer counts (DSC214). With the spec's folder, the base must resolve (`resolve_base`: a
    folder, or a hub model in the local cache) and hold tokenizer files, as the compiler fingerprints
    them; without it, only the block and its base are looked for.
    """
    rules = [r.predicate.func for r in clean_rules(spec) if isinstance(r, ast.Drop)
             and isinstance(r.predicate, ast.MeasurePred) and r.predicate.func.value == "tokens"]
    if not rules:
        return []
    blocks = spec.of(ast.FinetuneBlock)
    bases = [v for b in blocks for s in b.settings if s.name.value == "base" for v in s.values[:1]
             if isinstance(v, (ast.Str, ast.Name))]  # a number there is check_finetune's DSC209
    if not blocks or not bases:
        why = "the spec has no finetune block" if not blocks else "the finetune block has no 'base'"
        return [error("DSC212", f"tokens() counts with the finetune block's base tokenizer, and {why}", func.span,
                      'add: finetune lora { base "models/NAME" } (a folder with the model\'s config.json and '
                      "tokenizer files), or count words() or chars()") for func in rules]
    distinct = list(dict.fromkeys(b.value for b in bases))
    if len(distinct) > 1:
        return [error("DSC214", f"tokens() counts with one tokenizer, and the finetune blocks name "
                                f"{len(distinct)} bases ({', '.join(distinct)})", bases[1].span,
                      "give every finetune block the same base")]
    problem = _tokenizer_problem(bases[0].value, ctx)
    return [] if problem is None else [error("DSC212", f"tokens() counts with the tokenizer of base "
                                                       f"'{bases[0].value}', {problem}", func.span, _TOKENIZER_HINT)
                                       for func in rules]


_TOKENIZER_HINT = ("put the model's tokenizer files (tokenizer.json, tokenizer_config.json, …) in the base "
                   "folder, or count words() or chars()")


def _tokenizer_problem(ref: str, ctx: CheckContext) -> str | None:
    """Why the base `ref` has no tokenizer to count with, or None (also when the spec's folder is
    unknown, or the path itself is unsafe: `check_hub_ids` and `check_paths` say so)."""
    from dsc.finetune.errors import FinetuneError
    from dsc.finetune.model import resolve_base
    from dsc.paths import linked_out, unsafe

    if ctx.base_dir is None:
        return None
    base_dir = Path(ctx.base_dir).resolve()
    if unsafe(ref, base_dir, ctx.project_root) or linked_out(ref, base_dir, ctx.project_root):
        return None
    try:
        base = resolve_base(ref, base_dir)
        return None if base.has_tokenizer_files() else "which has no tokenizer files"
    except FinetuneError as err:
        return f"which cannot be used: {err}"
    except OSError:  # a hub model the local cache lacks
        return (f"which is not in the local Hugging Face cache (dsc never downloads; fetch it once: "
                f"huggingface-cli download {base.hub_id} --revision {base.revision})")
