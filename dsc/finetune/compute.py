"""The estimate formulas, as pure functions of exact numbers (docs/finetune.md gives the sources).

Counts (FLOPs, bytes) are exact integers of the stated formulas; rates (GPU-hours, kWh, kg)
are Decimals rounded by `significant`, so every figure prints the same on every platform.
"""
from __future__ import annotations

from decimal import Decimal

# Bytes per value of each precision.
BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}
# Optimizer state per trainable parameter, in bytes: AdamW keeps two fp32 moments; SGD as
# transformers configures it has no momentum; Adafactor's factored state is counted by shape.
OPTIMIZER_BYTES = {"adamw": 8, "sgd": 0}
# Activation bytes per layer per token per hidden unit at 16 bits (Korthikanti et al. 2022, §4.1).
ACTIVATION_FACTOR = 34
SECONDS_PER_HOUR = 3600


def attention_flops(layers: int, width: int, squares: int) -> int:
    """Forward FLOPs of attention's score and value products, 2·n_layer·d_attn·ΣL².

    Kaplan et al. (2020) count 2·n_layer·n_ctx·d_attn per token; a row of L tokens has n_ctx = L
    for each of its L tokens, hence the sum of squared row lengths.

    >>> attention_flops(layers=12, width=768, squares=100 * 100)
    184320000
    """
    return 2 * layers * width * squares


def training_flops(weights: int, trainable_weights: int, tokens: int, attention: int, epochs: int) -> int:
    """FLOPs of training: per token, 2·N forward, 2·N for the gradients of the activations,
    2·N_t for the gradients of the trainable weights; attention 3× its forward cost.

    `weights` are those in each token's matrix products (adapters included), `trainable_weights`
    those of them that get gradients. With every weight trainable this is Kaplan's 6·N·T:

    >>> training_flops(weights=10**8, trainable_weights=10**8, tokens=1000, attention=0, epochs=1) == 6 * 10**11
    True
    >>> training_flops(weights=10**8, trainable_weights=0, tokens=1000, attention=0, epochs=2) == 2 * 4 * 10**11
    True
    """
    per_epoch = 4 * weights * tokens + 2 * trainable_weights * tokens + 3 * attention
    return epochs * per_epoch


def adafactor_bytes(shapes: tuple[tuple[int, ...], ...]) -> int:
    """Adafactor's state (no first moment, as transformers configures it): a matrix keeps one
    fp32 value per row and per column, a vector one per element.

    >>> adafactor_bytes(((768, 2304), (2304,)))
    21504
    """
    total = 0
    for shape in shapes:
        if len(shape) >= 2:
            rest = 1
            for d in shape[:-2]:
                rest *= d
            total += 4 * rest * (shape[-2] + shape[-1])
        else:
            total += 4 * _product(shape)
    return total


def optimizer_bytes(optimizer: str, trainable: int, shapes: tuple[tuple[int, ...], ...]) -> int:
    """Optimizer state for the trainable parameters.

    >>> optimizer_bytes("adamw", 1000, ()), optimizer_bytes("sgd", 1000, ())
    (8000, 0)
    """
    if optimizer == "adafactor":
        return adafactor_bytes(shapes)
    return OPTIMIZER_BYTES[optimizer] * trainable


def weight_bytes(method: str, total: int, trainable: int, precision: str) -> int:
    """Weights in memory. Full fine-tuning keeps fp32 weights (mixed precision computes in 16
    bits but updates fp32 masters); PEFT loads the frozen base in the run's precision and keeps
    its adapters in fp32.

    >>> weight_bytes("full", 100, 100, "bf16"), weight_bytes("lora", 100, 10, "bf16")
    (400, 240)
    """
    if method == "full":
        return 4 * total
    return BYTES[precision] * total + 4 * trainable


def activation_bytes(layers: int, hidden: int, vocab: int, seq: int, batch: int, precision: str) -> int:
    """Activations kept for the backward pass: 34·s·b·h bytes per layer at 16 bits (Korthikanti
    et al. 2022, without the 5·a·s²·b attention-matrix term, which PyTorch's fused attention
    does not store), plus the logits and the fp32 copy the loss makes of them.

    >>> activation_bytes(layers=12, hidden=768, vocab=50257, seq=512, batch=8, precision="bf16")
    2518573056
    """
    scale = BYTES[precision] // 2
    logits = batch * seq * vocab * (BYTES[precision] + 4)
    return layers * ACTIVATION_FACTOR * seq * batch * hidden * scale + logits


def gpu_hours(flops: int, tflops: Decimal, utilization: Decimal) -> Decimal:
    """Hours on one GPU delivering `utilization` of its peak `tflops`.

    >>> significant(gpu_hours(6 * 10**18, Decimal(312), Decimal("0.4")))
    Decimal('13.4')
    """
    return Decimal(flops) / (tflops * Decimal(10) ** 12 * utilization) / SECONDS_PER_HOUR


def energy_kwh(hours: Decimal, power_w: Decimal, pue: Decimal) -> Decimal:
    """Energy drawn: GPU-hours × board power, times the data centre's PUE.

    >>> energy_kwh(Decimal(10), Decimal(400), Decimal("1.2"))
    Decimal('4.8')
    """
    return hours * power_w * pue / 1000


def co2_kg(kwh: Decimal, kg_per_kwh: Decimal) -> Decimal:
    """Emissions at the grid's carbon intensity.

    >>> co2_kg(Decimal("4.8"), Decimal("0.4"))
    Decimal('1.92')
    """
    return kwh * kg_per_kwh


def significant(value: Decimal, digits: int = 3) -> Decimal:
    """`value` rounded to `digits` significant digits (half-even), as a plain decimal.

    >>> significant(Decimal("13.3547008")), significant(Decimal("0.000123456")), significant(Decimal(0))
    (Decimal('13.4'), Decimal('0.000123'), Decimal('0'))
    """
    if value == 0:
        return Decimal(0)
    exponent = value.adjusted() - digits + 1
    return value.quantize(Decimal(1).scaleb(exponent))


def gib(n_bytes: int) -> Decimal:
    """Bytes in GiB, to two decimals.

    >>> gib(3 * 2**30 // 2)
    Decimal('1.50')
    """
    return (Decimal(n_bytes) / 2**30).quantize(Decimal("0.01"))


def _product(shape: tuple[int, ...]) -> int:
    out = 1
    for d in shape:
        out *= d
    return out
