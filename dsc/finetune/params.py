"""Exact parameter counts from a model's config, with no weights loaded.

`model_facts` builds the model on PyTorch's meta device (shapes without storage: a 70B model
costs no memory) and walks it once. From those facts, `trainable` counts what each method
trains, the way PEFT will build it:

- **full**: every parameter (tied weights, like GPT-2's input and output embeddings, once).
- **LoRA**: for each adapted layer, A (r × in) and B (out × r), so r·(in + out) parameters; an
  adapted Embedding has A (r × vocab) and B (dim × r). A target name adapts every layer whose
  name is it or ends in `.name` (PEFT's rule), so `c_proj` in GPT-2 adapts both the attention
  and the MLP projections. `all_linear` is PEFT's `all-linear`: every Linear/Conv1D but the
  output layer. No target means PEFT's default for the architecture.
- **prompt tuning**: virtual_tokens × hidden size × transformer submodules (1 for the decoder-only
  models dsc configures).
"""
from __future__ import annotations

from dataclasses import dataclass

from dsc.finetune.errors import FinetuneError
from dsc.finetune.settings import Recipe

ALL_LINEAR = "all_linear"  # a spec name cannot hold PEFT's "all-linear"


@dataclass(frozen=True)
class Layer:
    """A layer LoRA can adapt: its full module name, class, and input/output widths."""

    name: str
    kind: str
    fan_in: int
    fan_out: int

    @property
    def leaf(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class ModelFacts:
    """What the estimates need from the model, read once from its meta-device build."""

    model_type: str
    total: int  # every parameter, tied ones once
    matmul: int  # weights multiplied per token: Linear and Conv1D weights, the output layer included
    layers: int
    hidden: int
    heads: int
    attention_width: int  # heads × head dim: the width of the attention scores' products
    vocab: int
    positions: int | None
    shapes: tuple[tuple[int, ...], ...]  # every parameter's shape, tied ones once
    adaptable: tuple[Layer, ...]
    others: tuple[tuple[str, str], ...]  # (module name, class) of the layers LoRA cannot adapt
    output_layer: str | None
    default_targets: tuple[str, ...] | None


@dataclass(frozen=True)
class Trainable:
    """What one method trains: the count, the shapes (for optimizer state), and the adapters."""

    count: int
    shapes: tuple[tuple[int, ...], ...]
    adapter_matmul: int  # weights the adapters add to every token's matrix products
    trainable_matmul: int  # weights in matrix products whose gradient is computed
    targets: tuple[str, ...] = ()  # LoRA target names as PEFT is given them
    by_target: tuple[tuple[str, int, int], ...] = ()  # (target, layers adapted, parameters)


def model_facts(config) -> ModelFacts:
    """Build the causal LM for `config` on the meta device and read its facts."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.pytorch_utils import Conv1D

    model_type = getattr(config, "model_type", "?")
    if getattr(config, "is_encoder_decoder", False):
        raise FinetuneError("DSC203", f"base model type '{model_type}' is an encoder-decoder model; dsc "
                                      "configures decoder-only (causal) language models", setting="base")
    try:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
    except ValueError as err:  # transformers' answer for a config with no causal-LM class
        raise FinetuneError("DSC203", f"base model type '{model_type}' cannot be built as a causal language "
                                      f"model ({str(err).splitlines()[0]})", setting="base") from None
    adaptable, others, matmul = [], [], 0
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            adaptable.append(Layer(name, "Linear", module.in_features, module.out_features))
            matmul += module.weight.numel()
        elif isinstance(module, Conv1D):  # GPT-2's layers: weight is (in, out)
            fan_in, fan_out = module.weight.shape
            adaptable.append(Layer(name, "Conv1D", int(fan_in), int(fan_out)))
            matmul += module.weight.numel()
        elif isinstance(module, torch.nn.Embedding):
            adaptable.append(Layer(name, "Embedding", module.num_embeddings, module.embedding_dim))
        elif name:
            others.append((name, type(module).__name__))
    output = model.get_output_embeddings()
    output_name = next((n for n, m in model.named_modules() if m is output), None) if output is not None else None
    params = list(model.parameters())  # parameters() yields a tied weight once
    heads = _required(config, "num_attention_heads")
    hidden = _required(config, "hidden_size")
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    return ModelFacts(
        model_type=model_type, total=sum(p.numel() for p in params), matmul=matmul,
        layers=_required(config, "num_hidden_layers"), hidden=hidden, heads=heads,
        attention_width=heads * head_dim, vocab=_required(config, "vocab_size"),
        positions=getattr(config, "max_position_embeddings", None),
        shapes=tuple(tuple(int(d) for d in p.shape) for p in params), adaptable=tuple(adaptable),
        others=tuple(others), output_layer=output_name, default_targets=_peft_default_targets(model_type),
    )


def trainable(recipe: Recipe, facts: ModelFacts) -> Trainable:
    """What `recipe.method` trains on this model (pure: the facts hold every shape).

    >>> facts = ModelFacts("toy", 100, 80, 1, 4, 2, 4, 10, 8, ((10, 4), (4, 12)), (
    ...     Layer("h.0.attn.c_attn", "Conv1D", 4, 12), Layer("wte", "Embedding", 10, 4)), (), None, ("c_attn",))
    >>> from dsc.finetune.settings import recipe
    >>> from dsc.plan import FinetunePlan
    >>> t = trainable(recipe(FinetunePlan(method="lora", settings={"r": 2})), facts)
    >>> t.count, t.shapes, t.by_target
    (32, ((2, 4), (12, 2)), (('c_attn', 1, 32),))
    """
    if recipe.method == "full":
        return Trainable(facts.total, facts.shapes, adapter_matmul=0, trainable_matmul=facts.matmul)
    if recipe.method == "prompt_tuning":
        rows = int(recipe.virtual_tokens or 0)  # × 1 transformer submodule for a decoder-only model
        return Trainable(rows * facts.hidden, ((rows, facts.hidden),), adapter_matmul=0, trainable_matmul=0)
    return _lora(recipe, facts)


def _lora(recipe: Recipe, facts: ModelFacts) -> Trainable:
    r = int(recipe.r or 0)
    targets = _targets(recipe, facts)
    layers = _all_linear(facts) if targets == (ALL_LINEAR,) else _matched(targets, facts)
    narrow = [(layer, tgt) for tgt, group in layers for layer in group if r > min(layer.fan_in, layer.fan_out)]
    if narrow:
        layer, _ = min(narrow, key=lambda item: min(item[0].fan_in, item[0].fan_out))
        width = min(layer.fan_in, layer.fan_out)
        raise FinetuneError("DSC209", f"r {r} is larger than the layer {layer.name} ({layer.kind} "
                                      f"{layer.fan_in} → {layer.fan_out})", setting="r",
                            hint=f"a rank above min(in, out) = {width} is no longer low-rank; use r ≤ {width}")
    count, matmul, shapes, by_target = 0, 0, [], []
    for tgt, group in layers:
        params = 0
        for layer in group:
            a, b = (r, layer.fan_in), (layer.fan_out, r)
            params += r * (layer.fan_in + layer.fan_out)
            # An adapted embedding looks A up (no product) and multiplies by B; a linear layer multiplies by both.
            matmul += r * layer.fan_out if layer.kind == "Embedding" else r * (layer.fan_in + layer.fan_out)
            shapes += [a, b]
        by_target.append((tgt, len(group), params))
        count += params
    return Trainable(count, tuple(shapes), adapter_matmul=matmul, trainable_matmul=matmul,
                     targets=targets, by_target=tuple(by_target))


def _targets(recipe: Recipe, facts: ModelFacts) -> tuple[str, ...]:
    if recipe.target:
        return tuple(dict.fromkeys(recipe.target))  # a name written twice adapts its layers once
    if facts.default_targets:
        return facts.default_targets
    raise FinetuneError("DSC212", f"PEFT has no default LoRA target modules for model type '{facts.model_type}'",
                        setting=None, hint=f"name them: target {', '.join(_leaf_names(facts)[:3])} "
                                           f"(this model has: {', '.join(_leaf_names(facts))})")


def _matched(targets: tuple[str, ...], facts: ModelFacts) -> list[tuple[str, list[Layer]]]:
    """For each target, the layers PEFT adapts: named exactly so, or ending in `.target`."""
    out = []
    for tgt in targets:
        if tgt == ALL_LINEAR:
            raise FinetuneError("DSC214", f"'{ALL_LINEAR}' already adapts every linear layer", setting="target",
                                value=tgt,
                                hint=f"write target {ALL_LINEAR} alone")
        group = [layer for layer in facts.adaptable if _matches(layer.name, tgt)]
        if not group:
            kinds = sorted({kind for name, kind in facts.others if _matches(name, tgt)})
            if kinds:
                raise FinetuneError("DSC203", f"'{tgt}' is a {' / '.join(kinds)}, not a layer LoRA can adapt",
                                    setting="target", value=tgt, hint=f"LoRA adapts Linear, Conv1D and Embedding layers; "
                                                           f"this model has: {', '.join(_leaf_names(facts))}")
            raise FinetuneError("DSC203", f"{facts.model_type} has no module '{tgt}' to adapt", setting="target",
                                value=tgt, hint=f"its adaptable layers are: {', '.join(_leaf_names(facts))}")
        out.append((tgt, group))
    return out


def _all_linear(facts: ModelFacts) -> list[tuple[str, list[Layer]]]:
    group = [layer for layer in facts.adaptable if layer.kind != "Embedding" and layer.name != facts.output_layer]
    return [(ALL_LINEAR, group)]


def _matches(name: str, target: str) -> bool:
    return name == target or name.endswith("." + target)


def _leaf_names(facts: ModelFacts) -> list[str]:
    """Distinct layer names, linear ones first (the usual targets), each group sorted."""
    linear = sorted({x.leaf for x in facts.adaptable if x.kind != "Embedding"})
    embedding = sorted({x.leaf for x in facts.adaptable if x.kind == "Embedding"} - set(linear))
    return linear + embedding


def _peft_default_targets(model_type: str) -> tuple[str, ...] | None:
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as DEFAULTS

    found = DEFAULTS.get(model_type)
    return tuple(found) if found else None


def _required(config, name: str) -> int:
    value = getattr(config, name, None)
    if not isinstance(value, int):
        raise FinetuneError("DSC212", f"the base model's config has no '{name}'", setting="base",
                            hint="dsc reads the layer count, widths and vocabulary from config.json")
    return value
