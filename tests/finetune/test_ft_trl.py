"""Each export shape as TRL's own data preparation reads it, on a tiny GPT-2 made here (random
weights for examples/models/tiny-gpt2's config, its tokenizer with and without its chat template),
and dsc's token counts held against the tokens SFTTrainer prepares from train.py's examples."""
from __future__ import annotations

import copy
import math
from pathlib import Path

import datasets
import pyarrow as pa
import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

from dsc.engines.export import render_exports
from dsc.finetune.rows import examples_of
from dsc.finetune.tokens import count_tokens, token_stats
from dsc.plan import ExportPlan
from ft_support import ROWS, TINY_GPT2, offline  # noqa: F401  (fixture)

# The tiny split, with a system turn on two rows and a rejected answer for the preference shape.
DATA = [{**r, "system": "Be brief." if i % 4 == 0 else None, "chosen": r["output"], "rejected": "I don't know."}
        for i, r in enumerate(ROWS)]
DATA.append({"instruction": "Summarise the plot of a long novel. " * 12, "input": "", "output": "A quest.",
             "system": None, "chosen": "A quest.", "rejected": "?"})  # a prompt longer than a short max_length


@pytest.fixture(scope="module")
def tokenizers():
    """The tiny tokenizer with its chat template (which marks the assistant's text) and without one."""
    chat = AutoTokenizer.from_pretrained(TINY_GPT2, local_files_only=True)
    plain = AutoTokenizer.from_pretrained(TINY_GPT2, local_files_only=True)
    plain.chat_template = None
    assert chat.chat_template and "{% generation %}" in chat.chat_template
    return {"chat": chat, "plain": plain}


def model():
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(TINY_GPT2, local_files_only=True))


def exported(shape: str | None, tmp_path: Path, template: str | None = None) -> datasets.Dataset:
    """The train split as `export jsonl … shape SHAPE` (or `template`) writes it, loaded with datasets."""
    table = pa.Table.from_pylist([{**r, "_dsc_id": f"r{i}"} for i, r in enumerate(DATA)])
    base = tmp_path / "spec"
    base.mkdir(exist_ok=True)
    if template:
        (base / "t.j2").write_text(template, encoding="utf-8")
    [out] = render_exports([ExportPlan(format="jsonl", path="{split}.jsonl", shape=shape,
                                       template="t.j2" if template else None)], {"train": table}, base)
    path = tmp_path / f"{shape or 'text'}.jsonl"
    path.write_bytes(out.content())
    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache"))


def config(kind, tmp_path: Path, **settings):
    return kind(output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=4, learning_rate=1e-3,
                use_cpu=True, bf16=False, fp16=False, gradient_checkpointing=False, report_to="none",
                logging_steps=1, save_strategy="no", seed=0, **settings)


def trained(trainer, call: str) -> None:
    """Two steps; the loss is printed (seen with pytest -s) with the call that trained on the shape."""
    result = trainer.train()
    assert trainer.state.global_step == 2 and math.isfinite(result.training_loss)
    print(f"\n{call}: loss after 2 steps {result.training_loss:.4f}")


@pytest.mark.slow
@pytest.mark.parametrize("shape, tokenizer, settings", [
    ("prompt_completion", "plain", {}),  # TRL's standard prompt-completion: completion-only loss by default
    ("chat_prompt_completion", "chat", {}),  # conversational prompt-completion, in the chat template
    ("chat", "chat", {"assistant_only_loss": True}),  # conversational language modeling, assistant turns only
])
def test_trl_reads_the_shape_as_it_is(shape, tokenizer, settings, tokenizers, tmp_path):
    data = exported(shape, tmp_path)
    trainer = SFTTrainer(model=model(), args=config(SFTConfig, tmp_path, max_length=256, **settings),
                         train_dataset=data, processing_class=tokenizers[tokenizer])
    first = trainer.train_dataset[0]
    assert -100 in first["labels"] and any(t != -100 for t in first["labels"])  # the prompt is left out of the loss
    trained(trainer, f"{shape}: SFTTrainer(train_dataset=load_dataset('json', …)).train()")


@pytest.mark.slow
def test_the_instruction_shape_trains_through_train_pys_examples(tokenizers, tmp_path):
    """Alpaca is no TRL format (SFTTrainer looks for `text`): train.py's examples map it."""
    data = exported("instruction", tmp_path)
    assert data.column_names == ["instruction", "input", "output"]
    examples = examples_of(data.to_list(), Path("train.jsonl"), tokenizers["chat"].chat_template)
    assert isinstance(examples[0]["prompt"], list)  # the tokenizer's chat template is used
    trainer = SFTTrainer(model=model(), args=config(SFTConfig, tmp_path, max_length=256),
                         train_dataset=datasets.Dataset.from_list(examples), processing_class=tokenizers["chat"])
    trained(trainer, "instruction: SFTTrainer(train_dataset=Dataset.from_list(trl_example(row) …)).train()")


@pytest.mark.slow
def test_dpo_reads_the_preference_shape(tokenizers, tmp_path):
    data = exported("preference", tmp_path)
    assert data.column_names == ["prompt", "chosen", "rejected"]
    assert data[0]["prompt"].startswith("Be brief.\n\nAdd the two numbers.\n\n2 and 3")
    policy = model()
    trainer = DPOTrainer(model=policy, ref_model=copy.deepcopy(policy), args=config(DPOConfig, tmp_path, max_length=256),
                         train_dataset=data, processing_class=tokenizers["plain"])
    assert trainer.train_dataset[0]["chosen_ids"][-1] == tokenizers["plain"].eos_token_id
    trained(trainer, "preference: DPOTrainer(train_dataset=load_dataset('json', …)).train()")


CASES = [(shape, template) for shape in ("instruction", "chat", "prompt_completion", "chat_prompt_completion",
                                         "preference", None) for template in ("chat", "plain")]


@pytest.mark.parametrize("shape, tokenizer", CASES, ids=[f"{s or 'template'}-{t}" for s, t in CASES])
def test_token_counts_are_the_tokens_sfttrainer_prepares(shape, tokenizer, tokenizers, tmp_path):
    """dsc's counts, cut and dropped at max_length, equal the input_ids SFTTrainer prepares from the
    examples train.py gives it — row by row, with the prompt filling a short max_length dropped (the
    default loss) or kept (`loss all`, the whole text)."""
    tok = tokenizers[tokenizer]
    data = exported(shape, tmp_path, template="{{ instruction }} => {{ output }}" if shape is None else None)
    examples = examples_of(data.to_list(), Path("train.jsonl"), tok.chat_template)
    counts = count_tokens(examples, tok)
    conversations = any("messages" in e for e in examples)
    for max_length, whole_text in ((24, False), (256, False), (24, True)):
        args = config(SFTConfig, tmp_path, max_length=max_length, completion_only_loss=not whole_text,
                      assistant_only_loss=conversations and not whole_text)
        trainer = SFTTrainer(model=model(), args=args, train_dataset=datasets.Dataset.from_list(examples),
                             processing_class=tok)
        prepared = [len(ids) for ids in trainer.train_dataset["input_ids"]]
        expected = [min(n, max_length) for n, u in zip(counts.lengths, counts.untrained)
                    if (0 if whole_text else u) < min(n, max_length)]
        assert prepared == expected, (max_length, examples[0])
        stats = token_stats(counts, max_length, whole_text=whole_text)
        assert (stats.rows, stats.tokens, stats.dropped) == (len(prepared), sum(prepared), len(DATA) - len(prepared))
        if max_length == 24 and shape is not None:  # the long prompt fills it
            assert (stats.dropped == 0) == whole_text and stats.truncated >= 1
