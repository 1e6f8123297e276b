"""The estimates: tokens as train.py's SFTTrainer sees them, the FLOPs and memory formulas, the
resource chain, and the warnings with their numbers."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from transformers import AutoConfig, AutoTokenizer

from dsc.finetune import compute
from dsc.finetune.errors import FinetuneError
from dsc.finetune.estimate import estimate
from dsc.finetune.params import model_facts
from dsc.finetune.rows import example_text, trl_example
from dsc.finetune.settings import recipe
from dsc.finetune.tokens import count_tokens
from dsc.plan import FinetunePlan
from ft_support import offline, rows  # noqa: F401, F811  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "models" / "tiny-gpt2"
GPU = {"gpu_tflops": Decimal(312), "utilization": Decimal("0.4"), "gpu_power_w": Decimal(400),
       "carbon_kg_per_kwh": Decimal("0.48")}


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(TINY, local_files_only=True)


@pytest.fixture(scope="module")
def facts():
    return model_facts(AutoConfig.from_pretrained(TINY, local_files_only=True))


@pytest.fixture(scope="module")
def examples(rows, tokenizer):
    return [trl_example(r, tokenizer.chat_template) for r in rows]


@pytest.fixture(scope="module")
def counts(examples, tokenizer):
    return count_tokens(examples, tokenizer)


def make(method: str, **settings):
    return recipe(FinetunePlan(method=method, settings=settings), seed=1)


def test_token_counts_are_exact_with_the_tokenizer(counts):
    # The tokens equal those TRL's SFTTrainer prepares: tests/finetune/test_ft_trl.py holds them against it.
    assert counts.exact and counts.method == "exact: the base model's TokenizersBackend and its chat template"
    assert all(0 < u < n for n, u in zip(counts.lengths, counts.untrained))  # a prompt, then a trained answer


def test_flops_follow_the_documented_formulas(facts, counts):
    full = estimate(make("full", **GPU), facts, counts)
    lora = estimate(make("lora", r=Decimal(4), target="c_attn"), facts, counts)
    prompt = estimate(make("prompt_tuning", virtual_tokens=Decimal(5)), facts, counts)
    tokens, epochs, attention = full["tokens"]["per_epoch"], 3, full["flops"]["attention_forward_per_epoch"]
    n = facts.matmul
    assert full["flops"]["total"] == epochs * (6 * n * tokens + 3 * attention)
    adapter = 4 * 2 * (64 + 192)  # r·(in + out) per c_attn, two layers
    assert lora["flops"]["total"] == epochs * (4 * (n + adapter) * tokens + 2 * adapter * tokens + 3 * attention)
    assert prompt["tokens"]["per_epoch"] == tokens + 5 * len(counts.lengths)
    assert prompt["flops"]["total"] == epochs * (4 * n * prompt["tokens"]["per_epoch"]
                                                 + 3 * prompt["flops"]["attention_forward_per_epoch"])


def test_memory_parts(facts, counts):
    full = estimate(make("full"), facts, counts)["memory"]
    assert (full["weights"], full["gradients"], full["optimizer"]) == (4 * facts.total, 4 * facts.total, 8 * facts.total)
    lora = estimate(make("lora", r=Decimal(4), optimizer="sgd", precision="fp32"), facts, counts)
    mem, n_lora = lora["memory"], lora["parameters"]["trainable"]
    assert (mem["weights"], mem["gradients"], mem["optimizer"]) == (4 * facts.total + 4 * n_lora, 4 * n_lora, 0)
    assert mem["total"] == mem["weights"] + mem["gradients"] + mem["optimizer"] + mem["activations"]


def test_resource_chain_and_rounding(facts, counts):
    est = estimate(make("full", gpu_count=Decimal(2), pue=Decimal("1.2"), **GPU), facts, counts)
    hours = Decimal(est["flops"]["total"]) / (Decimal(312) * 10**12 * Decimal("0.4")) / 3600
    assert est["gpu_hours"] == compute.significant(hours)
    assert est["wall_clock_hours"] == compute.significant(hours / 2)
    kwh = hours * 400 * Decimal("1.2") / 1000
    assert (est["energy_kwh"], est["co2_kg"]) == (compute.significant(kwh), compute.significant(kwh * Decimal("0.48")))
    assert est["not_estimated"] == {}


@pytest.mark.parametrize("given, missing", [
    ({}, {"gpu_hours": "add gpu_tflops and utilization for your GPU"}),
    ({"gpu_tflops": Decimal(312), "utilization": Decimal("0.4")}, {"energy_kwh": "add gpu_power_w"}),
    ({k: v for k, v in GPU.items() if k != "carbon_kg_per_kwh"}, {"co2_kg": "add carbon_kg_per_kwh for your grid"}),
])
def test_missing_figures_are_named_never_guessed(facts, counts, given, missing):
    est = estimate(make("lora", **given), facts, counts)
    for key, reason in missing.items():
        assert est[key] is None and est["not_estimated"][key] == reason


def test_warnings_carry_the_numbers(facts, counts):
    full = estimate(make("full", gpu_memory_gb=Decimal("0.001")), facts, counts)
    ids = [w["id"] for w in full["warnings"]]
    assert ids == ["overfitting", "memory"]
    assert f"{full['tokens']['per_epoch']:,} train tokens for {facts.total:,} trainable parameters" in \
        full["warnings"][0]["message"]
    prompt = estimate(make("prompt_tuning"), facts, counts)
    shift = next(w for w in prompt["warnings"] if w["id"] == "domain_shift")
    assert "only near 10B parameters; this base has 149,248" in shift["message"]
    assert f"{prompt['tokens']['per_word']} tokens per word" in shift["message"]


def test_max_length_is_checked_against_the_model(facts, counts):
    assert estimate(make("lora"), facts, counts)["settings"]["max_length"] == 256  # the default, capped
    with pytest.raises(FinetuneError) as caught:
        estimate(make("lora", max_length=Decimal(512)), facts, counts)
    assert caught.value.message == "max_length 512 is longer than the 256 positions of this gpt2 model"
    with pytest.raises(FinetuneError, match="virtual_tokens 300 leaves no room"):
        estimate(make("prompt_tuning", virtual_tokens=Decimal(300)), facts, counts)


def test_approximate_tokens_are_labelled(rows):
    plain = [trl_example(r) for r in rows]  # no tokenizer, so no chat template: Alpaca text
    approx = count_tokens(plain, None, "no tokenizer files in m")
    assert not approx.exact and approx.method.startswith("approximate: ⌈characters / 4⌉ + 1 per row")
    assert approx.lengths == tuple(-(-len(example_text(e)) // 4) + 1 for e in plain)
