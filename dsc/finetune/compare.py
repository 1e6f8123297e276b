"""`dsc finetune compare`: full fine-tuning vs LoRA vs prompt tuning, same base model, same data.

A method the spec has a block for is estimated as written; the others are derived from the
spec's first block (same model, data handling and hardware, the method's documented
defaults) and marked so. The comparison is JSON-ready data first; `render` draws it as a
rich table with the notes and warnings under it.
"""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from dsc.finetune import compute
from dsc.finetune.errors import FinetuneError
from dsc.finetune.estimate import estimate
from dsc.finetune.inputs import Inputs, load_inputs, train_split_path
from dsc.finetune.settings import Recipe, recipes_for_comparison
from dsc.plan import Plan

_TITLES = {"full": "full", "lora": "LoRA", "prompt_tuning": "prompt tuning"}


def compare_plan(plan: Plan, spec_path: Path, run_dir: Path | None = None, train: Path | None = None) -> dict:
    """The comparison for a compiled spec, over the train split of a run (or the file `train`).

    One call for the command line and for a run's report; raises FinetuneError for a problem
    a person can fix (the spec has no finetune block, its model or its train split is missing).
    """
    if not plan.finetune:
        raise FinetuneError("DSC212", "the spec has no finetune block",
                            hint='add a block "finetune lora { … }" holding a line base "models/NAME"')
    recipes = recipes_for_comparison(plan)
    base = one_base(recipes)
    recipes = [replace(r, base=base) for r in recipes]
    path = train_split_path(plan, spec_path, run_dir, train)
    return {"plan": plan.fingerprint, **compare(recipes, load_inputs(base, spec_path.resolve().parent, path))}


def one_base(recipes: list[Recipe]) -> str | None:
    """The base model every written block names; two different ones cannot be compared."""
    bases = list(dict.fromkeys(r.base for r in recipes if r.base and not r.derived))
    if len(bases) > 1:
        raise FinetuneError("DSC214", f"the finetune blocks name different base models ('{bases[0]}' and "
                                      f"'{bases[1]}'), so their methods cannot be compared", setting="base",
                            hint="compare methods on one base model; keep one 'base' for all blocks")
    return bases[0] if bases else None


def compare(recipes: list[Recipe], inputs: Inputs) -> dict:
    """The comparison as JSON-ready data: the shared inputs, then one estimate per method."""
    methods = []
    for r in recipes:
        try:
            methods.append(estimate(r, inputs.facts, inputs.counts))
        except FinetuneError as err:
            err.method = r.method  # lets the command line point at that method's block
            raise
    facts = inputs.facts
    return {
        "base": {"ref": inputs.base.ref, "model_type": facts.model_type, "parameters": facts.total,
                 "layers": facts.layers, "hidden": facts.hidden, "heads": facts.heads, "vocab": facts.vocab},
        "train": {"path": inputs.train_path.as_posix(), "rows": len(inputs.counts.lengths),
                  "tokens": sum(inputs.counts.lengths), "exact": inputs.counts.exact,
                  "counted_by": inputs.counts.method},
        "methods": methods,
    }


def render(comparison: dict):
    """The comparison as a rich renderable: a table (methods as columns) and the notes under it."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    cells = as_text(comparison)
    table = Table(title=cells["title"], title_justify="left")
    table.add_column("")
    for column in cells["columns"]:
        table.add_column(column, justify="right")
    for row in cells["rows"]:
        table.add_row(*row)
    return Group(table, Text("\n".join(cells["notes"])))


def as_text(comparison: dict) -> dict:
    """The comparison as text cells — title, method columns (* marks a derived block), rows, notes —
    for the command line and the run report."""
    methods = comparison["methods"]
    return {"title": _title(comparison),
            "columns": [_TITLES[m["method"]] + ("*" if m["source"].startswith("derived") else "") for m in methods],
            "rows": [[label, *(cell(m) for m in methods)] for label, cell in _ROWS],
            "notes": _notes(comparison).splitlines()}


def _title(c: dict) -> str:
    b, t = c["base"], c["train"]
    counted = "" if t["exact"] else " (approximate)"
    return (f"{b['ref']}: {b['model_type']}, {b['parameters']:,} parameters — train split {t['rows']:,} rows, "
            f"{t['tokens']:,} tokens{counted}")


def _plain(value: Decimal) -> str:
    """A decimal in plain notation, as the JSON writes it (never `1.2E-7`)."""
    return "0" if value == 0 else format(value.normalize(), "f")


def _count(n: int) -> str:
    return f"{n:,}"


def _sci(n: int) -> str:
    return format(compute.significant(Decimal(n)), ".2E") if n else "0"


def _maybe(key: str, unit: str = ""):
    def cell(m: dict) -> str:
        value = m[key]
        return f"{_plain(value)}{unit}" if value is not None else "—"
    return cell


_ROWS = (
    ("trainable parameters", lambda m: _count(m["parameters"]["trainable"])),
    ("trainable share", lambda m: f"{_plain(m['parameters']['trainable_percent'])}%"),
    ("train tokens / trainable param", lambda m: _plain(m["tokens"]["per_trainable_parameter"])),
    ("training FLOPs", lambda m: _sci(m["flops"]["total"])),
    ("peak memory (GiB)", lambda m: str(m["memory"]["total_gib"])),
    ("  weights + grads + optimizer", lambda m: str(compute.gib(m["memory"]["weights"] + m["memory"]["gradients"]
                                                                 + m["memory"]["optimizer"]))),
    ("  activations", lambda m: str(compute.gib(m["memory"]["activations"]))),
    ("GPU-hours", _maybe("gpu_hours")),
    ("energy (kWh)", _maybe("energy_kwh")),
    ("CO2 (kg)", _maybe("co2_kg")),
    ("warnings", lambda m: ", ".join(w["id"] for w in m["warnings"]) or "—"),
)


def _notes(c: dict) -> str:
    lines = []
    first = c["methods"][0]
    gpu = first["gpu"]
    if first["gpu_hours"] is not None:
        lines.append(f"GPU: {gpu['name'] or 'unnamed'} × {gpu['count']}, {gpu['tflops']} TFLOPS peak at "
                     f"{_plain(gpu['utilization'] * 100)}% utilisation"
                     + (f", {gpu['power_w']} W, PUE {gpu['pue']}" if gpu["power_w"] is not None else "")
                     + (f", {first['carbon_kg_per_kwh']} kg CO2/kWh" if first["carbon_kg_per_kwh"] is not None else ""))
    if gpu["count"] > 1:
        lines.append(f"wall-clock hours on {gpu['count']} GPUs (ideal scaling): "
                     + ", ".join(f"{_TITLES[m['method']]} {m['wall_clock_hours']}" for m in c["methods"]))
    reasons = sorted({f"{k.replace('_', ' ')}: {v}" for m in c["methods"] for k, v in m["not_estimated"].items()})
    if reasons:
        lines.append("not estimated — " + "; ".join(reasons))
    lines.append(f"tokens: {c['train']['counted_by']}")
    for m in c["methods"]:
        if m["source"].startswith("derived"):
            lines.append(f"* {_TITLES[m['method']]}: {m['source']} ({_defaults_text(m)})")
    for m in c["methods"]:
        for w in m["warnings"]:
            lines.append(f"warning[{w['id']}] {_TITLES[m['method']]}: {w['message']}")
    return "\n".join(lines)


def _defaults_text(m: dict) -> str:
    s = m["settings"]
    if m["method"] == "lora":
        return f"r {s['r']}, alpha {s['alpha']}, target {', '.join(m['parameters']['lora_targets'])}, lr {s['lr']}"
    if m["method"] == "prompt_tuning":
        return f"{s['virtual_tokens']} virtual tokens, lr {s['lr']}"
    return f"lr {s['lr']}"
