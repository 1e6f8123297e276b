"""A finetune block's settings resolved into a Recipe: what the spec wrote, else a documented default.

The defaults are listed in `DEFAULTS` (and in docs/finetune.md) with where each comes from;
a Recipe remembers which of its values are defaults so every output can say so. Resource
figures (GPU peak, utilisation, power, carbon intensity) have no default: an estimate that
needs a missing one is reported as not estimated, naming the setting to add.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from dsc.plan import FinetunePlan, Plan

METHODS = ("full", "lora", "prompt_tuning")

# Defaults shared by every method. epochs and batch_size: transformers' TrainingArguments;
# max_length: TRL's SFTConfig (capped at the model's positions); precision and optimizer: the
# common recipe on current GPUs (bf16 autocast, AdamW); pue 1: the GPU's own energy only; loss
# completion: TRL's completion-only / assistant-only loss (`loss all` trains on the whole text).
COMMON_DEFAULTS: dict[str, object] = {
    "epochs": 3, "batch_size": 8, "max_length": 1024, "precision": "bf16", "optimizer": "adamw",
    "gpu_count": 1, "pue": Decimal(1), "loss": "completion",
}
# Per method. lr: 2e-5 for full fine-tuning (Devlin et al. 2019); 2e-4 for LoRA (Hu et al. 2021,
# GPT-2 experiments); 3e-2 for prompt tuning (PEFT's prompt-tuning example). LoRA's r, alpha and
# dropout are PEFT's LoraConfig defaults; its target modules, PEFT's default for the architecture.
# 20 virtual tokens: Lester et al. 2021 found gains flatten beyond 20.
METHOD_DEFAULTS: dict[str, dict[str, object]] = {
    "full": {"lr": Decimal("0.00002")},
    "lora": {"lr": Decimal("0.0002"), "r": 8, "alpha": Decimal(8), "dropout": Decimal(0)},
    "prompt_tuning": {"lr": Decimal("0.03"), "virtual_tokens": 20},
}
# Settings a method derived for `compare` borrows from the spec's own block: the model, the data
# handling and the hardware are the same; only the method and its own settings differ.
SHARED = ("base", "epochs", "batch_size", "max_length", "precision", "optimizer", "gpu", "gpu_tflops",
          "utilization", "gpu_power_w", "carbon_kg_per_kwh", "gpu_count", "pue", "gpu_memory_gb", "loss")


@dataclass(frozen=True)
class Recipe:
    """Everything needed to configure and estimate one fine-tuning run."""

    method: str
    base: str | None
    epochs: int
    lr: Decimal
    batch_size: int
    max_length: int
    precision: str
    optimizer: str
    gpu_count: int
    pue: Decimal
    seed: int = 0
    line: int = 0
    r: int | None = None
    alpha: Decimal | None = None
    dropout: Decimal | None = None
    target: tuple[str, ...] | None = None
    virtual_tokens: int | None = None
    init_text: str | None = None
    gpu: str | None = None
    gpu_tflops: Decimal | None = None
    utilization: Decimal | None = None
    gpu_power_w: Decimal | None = None
    carbon_kg_per_kwh: Decimal | None = None
    gpu_memory_gb: Decimal | None = None
    loss: str = "completion"  # "all": the loss covers the whole text
    defaults: tuple[str, ...] = ()  # settings that took a documented default
    derived: bool = False  # no block for this method in the spec: made for `compare`

    def is_default(self, name: str) -> bool:
        return name in self.defaults


def recipe(block: FinetunePlan, seed: int = 0) -> Recipe:
    """The Recipe of one finetune block.

    >>> r = recipe(FinetunePlan(method="lora", settings={"base": "m", "r": Decimal(16), "target": "c_attn"}))
    >>> r.r, r.alpha, r.target, r.lr, r.is_default("alpha"), r.is_default("r")
    (16, Decimal('8'), ('c_attn',), Decimal('0.0002'), True, False)
    """
    values = {**COMMON_DEFAULTS, **METHOD_DEFAULTS.get(block.method, {})}
    defaults = [k for k in values if k not in block.settings]
    values.update(block.settings)
    return Recipe(
        method=block.method, base=_text(values.get("base")), epochs=int(values["epochs"]),
        lr=Decimal(values["lr"]), batch_size=int(values["batch_size"]), max_length=int(values["max_length"]),
        precision=str(values["precision"]), optimizer=str(values["optimizer"]),
        gpu_count=int(values["gpu_count"]), pue=Decimal(values["pue"]), seed=seed, line=block.line,
        r=_int(values.get("r")), alpha=_dec(values.get("alpha")), dropout=_dec(values.get("dropout")),
        target=_names(values.get("target")), virtual_tokens=_int(values.get("virtual_tokens")),
        init_text=_text(values.get("init_text")), gpu=_text(values.get("gpu")),
        gpu_tflops=_dec(values.get("gpu_tflops")), utilization=_dec(values.get("utilization")),
        gpu_power_w=_dec(values.get("gpu_power_w")), carbon_kg_per_kwh=_dec(values.get("carbon_kg_per_kwh")),
        gpu_memory_gb=_dec(values.get("gpu_memory_gb")), loss=str(values["loss"]), defaults=tuple(defaults),
    )


def recipes_for_comparison(plan: Plan) -> list[Recipe]:
    """One Recipe per method, in METHODS order: the spec's block where it has one, else a
    derived one that shares the first block's model, data and hardware settings.

    >>> plan = Plan(finetune=[FinetunePlan(method="lora", settings={"base": "m", "epochs": Decimal(2)})])
    >>> [(r.method, r.epochs, r.derived) for r in recipes_for_comparison(plan)]
    [('full', 2, True), ('lora', 2, False), ('prompt_tuning', 2, True)]
    """
    blocks = {b.method: b for b in plan.finetune}
    anchor = plan.finetune[0]
    shared = {k: v for k, v in anchor.settings.items() if k in SHARED}
    out = []
    for method in METHODS:
        if method in blocks:
            out.append(recipe(blocks[method], plan.dataset.seed))
        else:
            made = recipe(FinetunePlan(line=anchor.line, method=method, settings=shared), plan.dataset.seed)
            out.append(replace(made, derived=True))
    return out


def _int(value) -> int | None:
    return None if value is None else int(value)


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def _text(value) -> str | None:
    return None if value is None else str(value)


def _names(value) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(value) if isinstance(value, list) else (str(value),)
