"""Parameter counts against the real libraries: dsc's estimate (meta device, no weights) must equal
what PEFT reports for a randomly initialised model built from the same config, wrapped with the
PEFT config dsc emits."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import torch
from peft import get_peft_config, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM

from dsc.finetune import jsontext
from dsc.finetune.config import peft_config
from dsc.finetune.errors import FinetuneError
from dsc.finetune.params import model_facts, trainable
from dsc.finetune.settings import recipe
from dsc.plan import FinetunePlan
from ft_support import offline  # noqa: F401  (fixture: no network)

ROOT = Path(__file__).resolve().parents[2]
MODELS = {"gpt2": ROOT / "examples" / "models" / "tiny-gpt2", "llama": ROOT / "tests" / "fixtures" / "finetune" / "tiny-llama"}

LORA = [
    ("gpt2", 4, "c_attn"),
    ("gpt2", 8, ["c_attn", "c_proj"]),  # c_proj names both the attention and the MLP projection
    ("gpt2", 2, "c_fc"),
    ("gpt2", 8, "all_linear"),
    ("gpt2", 4, "wte"),  # an Embedding
    ("gpt2", 16, None),  # PEFT's default for gpt2: c_attn
    ("gpt2", 64, "c_attn"),  # r = min(in, out): the largest rank allowed
    ("llama", 8, None),  # PEFT's default for llama: q_proj, v_proj
    ("llama", 4, ["q_proj", "k_proj", "v_proj", "o_proj"]),
    ("llama", 16, ["gate_proj", "up_proj", "down_proj"]),
    ("llama", 2, "all_linear"),
    ("llama", 32, "k_proj"),  # grouped-query attention: k_proj is 64 → 32
    ("llama", 4, ["embed_tokens", "lm_head"]),
]


@pytest.fixture(scope="module")
def configs():
    return {name: AutoConfig.from_pretrained(path, local_files_only=True) for name, path in MODELS.items()}


@pytest.fixture(scope="module")
def facts(configs):
    return {name: model_facts(config) for name, config in configs.items()}


def real_model(config):
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(config)


def emitted(cfg: dict) -> dict:
    """The PEFT config as train.py reads it back from peft_config.json."""
    return json.loads(jsontext.dumps(cfg))


def plan(method: str, **settings) -> FinetunePlan:
    return FinetunePlan(method=method, settings={k: v for k, v in settings.items() if v is not None})


@pytest.mark.parametrize("model, r, target", LORA, ids=lambda v: str(v))
def test_lora_counts_equal_peft(configs, facts, model, r, target):
    rec = recipe(plan("lora", base="m", r=Decimal(r), target=target))
    expected = trainable(rec, facts[model])
    wrapped = get_peft_model(real_model(configs[model]), get_peft_config(emitted(peft_config(rec, facts[model]))))
    trainable_params, all_params = wrapped.get_nb_trainable_parameters()
    assert (trainable_params, all_params) == (expected.count, facts[model].total + expected.count)


@pytest.mark.parametrize("model, tokens, init_text", [("gpt2", 10, None), ("gpt2", 20, "Answer the question:"),
                                                      ("llama", 7, None)])
def test_prompt_tuning_counts_equal_peft(configs, facts, model, tokens, init_text):
    rec = recipe(plan("prompt_tuning", base=str(MODELS[model]), virtual_tokens=Decimal(tokens), init_text=init_text))
    expected = trainable(rec, facts[model])
    wrapped = get_peft_model(real_model(configs[model]), get_peft_config(emitted(peft_config(rec, facts[model]))))
    assert wrapped.get_nb_trainable_parameters() == (expected.count, facts[model].total + expected.count)
    assert expected.count == tokens * configs[model].hidden_size


@pytest.mark.parametrize("model", sorted(MODELS))
def test_full_counts_every_parameter_once(configs, facts, model):
    real = real_model(configs[model])
    assert facts[model].total == sum(p.numel() for p in real.parameters())
    assert trainable(recipe(plan("full")), facts[model]).count == facts[model].total


def test_gpt2_small_config_gives_its_published_size():
    """GPT-2 small, as shipped in examples/models/gpt2 (config only): 124,439,808 parameters."""
    config = AutoConfig.from_pretrained(ROOT / "examples" / "models" / "gpt2", local_files_only=True)
    assert model_facts(config).total == 124_439_808


@pytest.mark.parametrize("target, r, code, words", [
    ("q_proj", 4, "DSC203", "gpt2 has no module 'q_proj' to adapt"),
    ("ln_1", 4, "DSC203", "'ln_1' is a LayerNorm, not a layer LoRA can adapt"),
    ("c_attn", 65, "DSC209", "r 65 is larger than the layer"),
])
def test_bad_targets_and_ranks(facts, target, r, code, words):
    with pytest.raises(FinetuneError) as caught:
        trainable(recipe(plan("lora", r=Decimal(r), target=target)), facts["gpt2"])
    assert caught.value.code == code and words in caught.value.message
    if code == "DSC203":
        assert caught.value.hint.endswith("c_attn, c_fc, c_proj, lm_head, wpe, wte")


def test_rank_message_names_the_narrowest_layer(facts):
    with pytest.raises(FinetuneError) as caught:
        trainable(recipe(plan("lora", r=Decimal(40), target="all_linear")), facts["llama"])
    assert caught.value.message.endswith("(Linear 64 → 32)")
    assert caught.value.hint.startswith("a rank above min(in, out) = 32")
