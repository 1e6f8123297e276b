"""One method's estimates: parameters, tokens, FLOPs, memory, GPU-hours, energy, CO2, warnings.

`estimate` returns JSON-ready data: exact integers for counts, Decimals rounded to three
significant digits for rates, and `None` with a `not_estimated` reason for every figure whose
inputs the spec does not give. Nothing is fetched and nothing is guessed: each missing
figure names the setting that would supply it.
"""
from __future__ import annotations

from decimal import Decimal, localcontext

from dsc.finetune import compute
from dsc.finetune.errors import FinetuneError
from dsc.finetune.params import ModelFacts, Trainable, trainable
from dsc.finetune.settings import Recipe
from dsc.finetune.tokens import TokenCounts, TokenStats, token_stats

# Fewer train tokens than trainable parameters: fewer prediction targets than free parameters,
# the regime in which a model can fit every target exactly, i.e. memorise the split.
MIN_TOKENS_PER_PARAMETER = 1
# Lester et al. (2021): prompt tuning closes the gap to full fine-tuning only near 10B parameters.
PROMPT_TUNING_PARITY = 10**10


def estimate(recipe: Recipe, facts: ModelFacts, counts: TokenCounts) -> dict:
    """Every estimate for one recipe on one model and train split."""
    max_length = _max_length(recipe, facts)
    virtual = int(recipe.virtual_tokens or 0) if recipe.method == "prompt_tuning" else 0
    if virtual >= max_length:
        raise FinetuneError("DSC209", f"virtual_tokens {virtual} leaves no room for text within max_length "
                                      f"{max_length}", setting="virtual_tokens",
                            hint=f"use fewer than {max_length} virtual tokens")
    # Virtual tokens count against max_length: rows are cut so that the whole sequence fits.
    stats = token_stats(counts, max_length - virtual, virtual, whole_text=recipe.loss == "all")
    train = trainable(recipe, facts)
    with localcontext() as ctx:
        ctx.prec = 28  # the default, stated: every figure is computed under the same context
        flops = _flops(recipe, facts, train, stats)
        memory = _memory(recipe, facts, train, stats)
        resources = _resources(recipe, flops)
    out = {
        "method": recipe.method,
        "source": _source(recipe),
        "base": recipe.base,
        "settings": _settings(recipe, max_length),
        "defaults": sorted(recipe.defaults),
        "parameters": _parameters(facts, train, recipe.method),
        "tokens": _tokens(stats, counts, recipe, max_length, virtual, train),
        "flops": flops,
        "memory": memory,
        **resources,
    }
    out["warnings"] = warnings(out, recipe, facts, counts)
    return out


def _max_length(recipe: Recipe, facts: ModelFacts) -> int:
    if facts.positions is None or recipe.max_length <= facts.positions:
        return recipe.max_length
    if recipe.is_default("max_length"):
        return facts.positions  # the documented default is capped at the model's context
    raise FinetuneError("DSC209", f"max_length {recipe.max_length} is longer than the {facts.positions} positions "
                                  f"of this {facts.model_type} model", setting="max_length",
                        hint=f"use max_length {facts.positions} or less")


def _flops(recipe: Recipe, facts: ModelFacts, train: Trainable, stats: TokenStats) -> dict:
    weights = facts.matmul + train.adapter_matmul
    attention = compute.attention_flops(facts.layers, facts.attention_width, stats.squares)
    total = compute.training_flops(weights, train.trainable_matmul, stats.tokens, attention, recipe.epochs)
    return {"total": total, "per_epoch": total // recipe.epochs, "matmul_weights": weights,
            "trainable_matmul_weights": train.trainable_matmul, "attention_forward_per_epoch": attention}


def _memory(recipe: Recipe, facts: ModelFacts, train: Trainable, stats: TokenStats) -> dict:
    weights = compute.weight_bytes(recipe.method, facts.total, train.count, recipe.precision)
    grads = 4 * train.count  # gradients of fp32 trainable weights
    state = compute.optimizer_bytes(recipe.optimizer, train.count, train.shapes)
    acts = compute.activation_bytes(facts.layers, facts.hidden, facts.vocab, stats.longest, recipe.batch_size,
                                    recipe.precision)
    total = weights + grads + state + acts
    return {"weights": weights, "gradients": grads, "optimizer": state, "activations": acts, "total": total,
            "total_gib": compute.gib(total), "sequence": stats.longest, "batch_size": recipe.batch_size}


def _resources(recipe: Recipe, flops: dict) -> dict:
    """GPU-hours, energy and CO2 where the spec gives their figures; else why not."""
    out: dict = {"gpu": {"name": recipe.gpu, "count": recipe.gpu_count, "tflops": recipe.gpu_tflops,
                         "utilization": recipe.utilization, "power_w": recipe.gpu_power_w, "pue": recipe.pue,
                         "memory_gib": recipe.gpu_memory_gb},
                 "gpu_hours": None, "wall_clock_hours": None, "energy_kwh": None, "co2_kg": None,
                 "carbon_kg_per_kwh": recipe.carbon_kg_per_kwh, "not_estimated": {}}
    missing = [n for n in ("gpu_tflops", "utilization") if getattr(recipe, n) is None]
    if missing:
        reason = "add " + " and ".join(missing) + " for your GPU"
        out["not_estimated"] = {"gpu_hours": reason, "energy_kwh": reason, "co2_kg": reason}
        return out
    hours = compute.gpu_hours(flops["total"], recipe.gpu_tflops, recipe.utilization)
    out["gpu_hours"] = compute.significant(hours)
    out["wall_clock_hours"] = compute.significant(hours / recipe.gpu_count)
    if recipe.gpu_power_w is None:
        out["not_estimated"] = {"energy_kwh": "add gpu_power_w", "co2_kg": "add gpu_power_w and carbon_kg_per_kwh"}
        return out
    kwh = compute.energy_kwh(hours, recipe.gpu_power_w, recipe.pue)
    out["energy_kwh"] = compute.significant(kwh)
    if recipe.carbon_kg_per_kwh is None:
        out["not_estimated"] = {"co2_kg": "add carbon_kg_per_kwh for your grid"}
        return out
    out["co2_kg"] = compute.significant(compute.co2_kg(kwh, recipe.carbon_kg_per_kwh))
    return out


def _parameters(facts: ModelFacts, train: Trainable, method: str) -> dict:
    share = compute.significant(Decimal(100) * train.count / facts.total) if facts.total else Decimal(0)
    return {"base_total": facts.total, "trainable": train.count, "trainable_percent": share,
            "with_adapters": facts.total if method == "full" else facts.total + train.count,
            "lora_targets": list(train.targets),
            "by_target": [{"target": t, "layers": n, "parameters": p} for t, n, p in train.by_target]}


def _tokens(stats: TokenStats, counts: TokenCounts, recipe: Recipe, max_length: int, virtual: int,
            train: Trainable) -> dict:
    text_tokens = stats.tokens - virtual * stats.rows
    per_param = compute.significant(Decimal(text_tokens) / train.count) if train.count else None
    fertility = compute.significant(Decimal(sum(counts.lengths)) / counts.words) if counts.words else None
    return {"rows": stats.rows, "per_epoch": stats.tokens, "text_per_epoch": text_tokens,
            "seen": stats.tokens * recipe.epochs, "longest": stats.longest, "truncated_rows": stats.truncated,
            "dropped_rows": stats.dropped,
            "max_length": max_length, "virtual_tokens_per_row": virtual, "exact": stats.exact,
            "counted_by": stats.method, "per_trainable_parameter": per_param,
            "per_word": fertility if counts.exact else None}


def warnings(est: dict, recipe: Recipe, facts: ModelFacts, counts: TokenCounts) -> list[dict]:
    """The seed's caveats, with this model's and this split's numbers in them."""
    out = []
    params, tokens = est["parameters"], est["tokens"]
    if tokens["per_trainable_parameter"] is not None and tokens["per_trainable_parameter"] < MIN_TOKENS_PER_PARAMETER:
        out.append({"id": "overfitting", "message": (
            f"{tokens['text_per_epoch']:,} train tokens for {params['trainable']:,} trainable parameters "
            f"({tokens['per_trainable_parameter']} per parameter): fewer training targets than free parameters, "
            f"so the model can memorise the split{_epochs(recipe.epochs)}. More data, fewer epochs or fewer "
            "trainable parameters lower the risk; watch the validation loss.")})
    if recipe.method == "prompt_tuning":
        text = (f"prompt tuning learns only {recipe.virtual_tokens} virtual tokens ({params['trainable']:,} "
                "parameters) and leaves the model's weights as they are: it steers what the base model already "
                "does and may not absorb a large shift of domain.")
        if facts.total < PROMPT_TUNING_PARITY:
            text += (f" Lester et al. (2021) found it matches full fine-tuning only near 10B parameters; this "
                     f"base has {facts.total:,}.")
        if tokens["per_word"] is not None:
            text += (f" The base tokenizer needs {tokens['per_word']} tokens per word on this split; many pieces "
                     "per word is one sign of text far from the model's pre-training.")
        out.append({"id": "domain_shift", "message": text})
    if tokens["truncated_rows"]:
        out.append({"id": "truncation", "message": (
            f"{tokens['truncated_rows']:,} of {tokens['rows'] + tokens['dropped_rows']:,} rows are longer than max_length "
            f"{tokens['max_length']} and are cut; their ends are not trained on.")})
    if tokens["dropped_rows"]:
        out.append({"id": "untrained_rows", "message": (
            f"{tokens['dropped_rows']:,} rows have no completion token within max_length {tokens['max_length']} "
            "(their prompt fills it), so TRL leaves them out of training; they are not counted.")})
    limit = recipe.gpu_memory_gb
    if limit is not None and est["memory"]["total"] > limit * 2**30:
        out.append({"id": "memory", "message": (
            f"about {est['memory']['total_gib']} GiB per GPU at batch_size {recipe.batch_size}, more than the "
            f"declared {limit} GiB: lower batch_size or max_length, or use a PEFT method.")})
    return out


def _epochs(epochs: int) -> str:
    return f", and over {epochs} epochs it sees each row {epochs} times" if epochs > 1 else ""


def _source(recipe: Recipe) -> str:
    if recipe.derived:
        return f"derived from the block at line {recipe.line}: its model, data and hardware; method defaults"
    return f"the finetune {recipe.method} block at line {recipe.line}"


def _settings(recipe: Recipe, max_length: int) -> dict:
    out = {"epochs": recipe.epochs, "lr": recipe.lr, "batch_size": recipe.batch_size, "max_length": max_length,
           "precision": recipe.precision, "optimizer": recipe.optimizer, "loss": recipe.loss}
    if recipe.method == "lora":
        out.update(r=recipe.r, alpha=recipe.alpha, dropout=recipe.dropout)
    if recipe.method == "prompt_tuning":
        out.update(virtual_tokens=recipe.virtual_tokens, init_text=recipe.init_text)
    return out
