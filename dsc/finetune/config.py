"""A Recipe as files a training stack takes: the PEFT config, the trainer settings, train.py.

- `peft_config.json` (LoRA and prompt tuning): what `peft.get_peft_config` reads, i.e. the
  fields of LoraConfig / PromptTuningConfig with `peft_type` and `task_type`.
- `training_args.json`: keyword arguments of TRL's `SFTConfig` (transformers' `TrainingArguments`
  and TRL's own: `max_length`, the loss masks).
- `train.py`: a standalone script that reads both, turns each exported row into the example TRL
  documents for its shape with the same function dsc counted its tokens with
  (`dsc.finetune.rows.trl_example`), and trains with TRL's `SFTTrainer`.
- `estimates.json`: the estimates of this method, as `dsc finetune compare --json` gives them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dsc.finetune.model import BaseModel
from dsc.finetune.params import ALL_LINEAR, ModelFacts, trainable
from dsc.finetune.rows import embedded_source
from dsc.finetune.settings import Recipe

_OPTIM = {"adamw": "adamw_torch", "sgd": "sgd", "adafactor": "adafactor"}
_TITLES = {"full": "full fine-tuning", "lora": "LoRA", "prompt_tuning": "prompt tuning"}


def peft_config(recipe: Recipe, facts: ModelFacts) -> dict | None:
    """The PEFT config of a recipe (None for full fine-tuning, which has none).

    GPT-2's Conv1D layers store their weight as (in, out), which LoRA must know
    (`fan_in_fan_out`); the flag is set when every adapted layer is one.
    """
    if recipe.method == "full":
        return None
    if recipe.method == "prompt_tuning":
        out = {"peft_type": "PROMPT_TUNING", "task_type": "CAUSAL_LM", "num_virtual_tokens": recipe.virtual_tokens,
               "prompt_tuning_init": "RANDOM"}
        if recipe.init_text:
            # The init text is encoded with the base tokenizer; train.py points this at the model it loads.
            out.update(prompt_tuning_init="TEXT", prompt_tuning_init_text=recipe.init_text,
                       tokenizer_name_or_path=recipe.base, tokenizer_kwargs={"local_files_only": True})
        return out
    train = trainable(recipe, facts)
    adapted = _adapted_kinds(train.targets, facts)
    return {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": recipe.r, "lora_alpha": recipe.alpha,
            "lora_dropout": recipe.dropout, "bias": "none",
            "target_modules": "all-linear" if train.targets == (ALL_LINEAR,) else list(train.targets),
            "fan_in_fan_out": adapted == {"Conv1D"}}


def training_args(recipe: Recipe, max_length: int | None = None) -> dict:
    """SFTConfig keywords for a recipe; `train.py --cpu` turns mixed precision off.

    `max_length` is the sequence length the estimates use (the recipe's, capped at the model's
    positions); SFTConfig's `max_length` is what is left of it for the row's own tokens once prompt
    tuning's virtual tokens are in front. Without it, train.py uses the one it was generated with.

    >>> from dsc.finetune.settings import recipe
    >>> from dsc.plan import FinetunePlan
    >>> args = training_args(recipe(FinetunePlan(method="full", settings={"precision": "fp32"})), 256)
    >>> args["learning_rate"], args["optim"], args["bf16"], args["num_train_epochs"], args["max_length"]
    (Decimal('0.00002'), 'adamw_torch', False, 3, 256)
    >>> args["completion_only_loss"], args["gradient_checkpointing"]
    (True, False)
    """
    out = {
        "output_dir": "checkpoints",
        "num_train_epochs": recipe.epochs,
        "learning_rate": recipe.lr,
        "per_device_train_batch_size": recipe.batch_size,
        "gradient_accumulation_steps": 1,
        "optim": _OPTIM[recipe.optimizer],
        "lr_scheduler_type": "linear",
        "bf16": recipe.precision == "bf16",
        "fp16": recipe.precision == "fp16",
        "seed": recipe.seed,
        "data_seed": recipe.seed,
        "logging_steps": 10,
        "save_strategy": "epoch",
        "save_total_limit": 1,
        "report_to": "none",
        # SFTConfig checkpoints activations by default; the memory estimate counts them all kept.
        "gradient_checkpointing": False,
        # TRL's loss masks: the completion of a prompt-completion example; train.py also turns on
        # assistant_only_loss for conversations whose chat template marks the assistant's text.
        "completion_only_loss": recipe.loss == "completion",
        "assistant_only_loss": False,
    }
    if max_length is not None:
        out["max_length"] = max_length - _virtual(recipe)
    return out


def _virtual(recipe: Recipe) -> int:
    return int(recipe.virtual_tokens or 0) if recipe.method == "prompt_tuning" else 0


@dataclass(frozen=True)
class ScriptContext:
    """Where the generated script sits and what it names; paths become relative to its folder."""

    out_dir: Path
    spec: str
    dataset: str
    fingerprint: str
    train_file: Path | None


def train_script(recipe: Recipe, base: BaseModel, max_length: int, ctx: ScriptContext) -> str:
    """The rendered train.py for a recipe."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from dsc import __version__

    env = Environment(loader=PackageLoader("dsc", "templates"), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False)
    env.filters["pyrepr"] = repr  # every value lands in the script as a Python literal, never as code
    virtual = _virtual(recipe)
    base_model = _relative(base.folder, ctx.out_dir) if base.folder is not None else base.hub_id
    return env.get_template("train.py.j2").render(
        method=recipe.method, method_title=_TITLES[recipe.method], base_ref=base.ref, base_model=base_model,
        base_is_local=base.folder is not None, revision=base.revision,
        train_file=_relative(ctx.train_file, ctx.out_dir) if ctx.train_file else None,
        max_length=max_length, row_max_length=max_length - virtual, virtual_tokens=virtual,
        precision=recipe.precision, seed=recipe.seed, loss=recipe.loss, helpers=embedded_source().rstrip(),
        peft_type={"lora": "LoraConfig", "prompt_tuning": "PromptTuningConfig"}.get(recipe.method),
        version=__version__, spec=ctx.spec, dataset=ctx.dataset, fingerprint=ctx.fingerprint[:19],
    )


def _adapted_kinds(targets: tuple[str, ...], facts: ModelFacts) -> set[str]:
    if targets == (ALL_LINEAR,):
        return {x.kind for x in facts.adaptable if x.kind != "Embedding" and x.name != facts.output_layer}
    return {x.kind for x in facts.adaptable for t in targets if x.name == t or x.name.endswith("." + t)}


def _relative(path: Path, folder: Path) -> str:
    """`path` relative to `folder`, with forward slashes, so the script runs wherever the tree is."""
    return Path(os.path.relpath(Path(path).resolve(), Path(folder).resolve())).as_posix()
