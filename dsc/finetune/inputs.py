"""Everything the estimates read besides the spec: the base model's facts and the train split.

The train split is the file the spec's export writes for the `train` split, inside the run's
output folder (`dsc run SPEC --out DIR`; `out/<spec name>` when not given, where `make demo`
puts it), or any file given with `--train`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dsc.finetune.errors import FinetuneError
from dsc.finetune.model import BaseModel, resolve_base
from dsc.finetune.params import ModelFacts, model_facts
from dsc.finetune.rows import examples_of, read_rows
from dsc.finetune.tokens import TokenCounts, count_tokens
from dsc.plan import Plan


@dataclass(frozen=True)
class Inputs:
    """The base model, its facts, and the train split's token counts."""

    base: BaseModel
    facts: ModelFacts
    counts: TokenCounts
    train_path: Path


def train_split_path(plan: Plan, spec_path: Path, run_dir: Path | None = None, train: Path | None = None) -> Path:
    """Where the train split is: `train` as given, else the spec's export for the train split
    inside the run folder.

    >>> from dsc.plan import ExportPlan
    >>> p = Plan(exports=[ExportPlan(format="jsonl", path="data/{split}.jsonl")])
    >>> train_split_path(p, Path("specs/qa.dspec")).as_posix()
    'out/qa/data/all.jsonl'
    """
    if train is not None:
        return train
    folder = run_dir if run_dir is not None else Path("out") / spec_path.stem
    return folder / train_export(plan)


def train_export(plan: Plan) -> str:
    """The path, inside a run's output folder, of the spec's export for the train split (`train`,
    else the first split; `all` for a spec without a split block, as the run names it).

    >>> from dsc.plan import ExportPlan
    >>> train_export(Plan(exports=[ExportPlan(format="jsonl", path="data/{split}.jsonl")]))
    'data/all.jsonl'
    """
    if not plan.exports:
        raise FinetuneError("DSC212", "the spec has no export, so there is no train split to count tokens in",
                            hint="add an export (export jsonl \"{split}.jsonl\" shape instruction) or pass --train FILE")
    from dsc.engines.layout import WHOLE

    # Without a split block the run exports every row as the one split `all`: that is the train split.
    names = [p.name for p in plan.split.parts] if plan.split else [WHOLE]
    split = "train" if "train" in names else names[0]
    return plan.exports[0].path.replace("{split}", split)


def load_inputs(base_ref: str | None, spec_dir: Path, train_path: Path) -> Inputs:
    """Resolve the base model, read its config and tokenizer, and count the train split's tokens."""
    from transformers.utils import logging

    base = resolve_base(base_ref, spec_dir)
    rows = read_rows(train_path)
    examples_of(rows, train_path)  # data problems first: they need no model
    # A small or unusual config makes transformers log advice meant for model authors; estimates
    # only need the shapes.
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        config = base.load_config()
        facts = model_facts(config)
        tokenizer, why = base.load_tokenizer()
    finally:
        logging.set_verbosity(verbosity)
    # The examples train.py gives TRL: in the tokenizer's chat template when it has one.
    examples = examples_of(rows, train_path, getattr(tokenizer, "chat_template", None))
    return Inputs(base, facts, count_tokens(examples, tokenizer, why or ""), train_path)
