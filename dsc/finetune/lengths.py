"""Token lengths per split, for the report: how long each exported row is for the model, and how
many rows its context would cut.

A run with a `finetune` block whose base has a tokenizer counts, for every split, the rows its
first export wrote (the file `dsc finetune`'s train.py reads) the way train.py trains on them:
each row's TRL example (`dsc.finetune.rows.trl_example`, in the tokenizer's chat template when it
has one) tokenized as TRL's SFTTrainer does (`dsc.finetune.tokens.example_lengths`). A row longer
than `max_length` — the first block's, or the documented default capped at the model's positions,
less prompt tuning's virtual tokens, as the estimates use it — is one SFTTrainer truncates. Every
figure is an integer count but the shares (a count over a count), so `stats.json` is the same
bytes run after run. Without a tokenizer nothing is approximated: the section says why it has no
counts.
"""
from __future__ import annotations

from pathlib import Path

from dsc.plan import Plan

# Lengths are shown in bins that double, from this many tokens up to max_length, then "longer".
FIRST_BIN = 16
PERCENTILES = (("p50", 50), ("p90", 90), ("p99", 99))


def token_lengths(plan: Plan, base_dir: Path, split_files: dict[str, Path], export: str) -> dict:
    """The `tokens` section of stats.json: per split (in `split_files` order, each the file the
    first export — `export`, as the spec writes it — wrote for it) the token-length distribution
    and the rows max_length truncates; or `{"error": why}` when there is nothing to count with.
    """
    from dsc.extras import missing
    from dsc.finetune.errors import FinetuneError
    from dsc.finetune.model import resolve_base
    from dsc.finetune.settings import recipe

    lacking = missing("tokens()")
    if lacking is not None:
        return {"error": "; ".join(lacking)}
    block = plan.finetune[0]
    spec = recipe(block, plan.dataset.seed)
    try:
        base = resolve_base(spec.base, base_dir)
        if base.folder is not None and not base.has_tokenizer_files():
            return {"error": f"no tokenizer files in {spec.base}, so no token is counted (no approximation)"}
        tokenizer, fingerprint = _tokenizer(base)
        positions = _positions(base)
        split_rows = {name: _examples(path, tokenizer) for name, path in split_files.items()}
    except FinetuneError as err:
        return {"error": str(err) + (f"; {err.hint}" if err.hint else "")}
    except OSError as err:  # a hub model the local cache lacks
        return {"error": f"base model '{spec.base}' cannot be read ({err})"}
    from dsc.finetune.tokens import example_lengths

    context = min(spec.max_length, positions) if positions else spec.max_length
    # Prompt tuning's virtual tokens take their place in every sequence: the text is cut before them.
    virtual = int(spec.virtual_tokens or 0) if spec.method == "prompt_tuning" else 0
    max_length = max(context - virtual, 1)
    edges = bin_edges(max_length)
    splits = []
    for name, (examples, untrainable) in split_rows.items():
        splits.append({"name": name, **distribution(example_lengths(tokenizer, examples), max_length, edges),
                       "without_text": untrainable})
    template = getattr(tokenizer, "chat_template", None)
    return {
        "base": spec.base,
        "tokenizer": type(tokenizer).__name__,
        "fingerprint": fingerprint,
        "export": export,
        "chat_template": bool(template),
        "max_length": max_length,
        "max_length_from": _max_length_from(spec.max_length, spec.is_default("max_length"), positions, virtual),
        "splits": splits,
    }


def distribution(lengths: list[int], max_length: int, edges: list[int] | None = None) -> dict:
    """Rows, tokens, the shortest, percentiles (nearest rank), the longest, the rows longer than
    max_length and their share, and the rows per bin (`upto`: the bin's largest length; null for
    the rows longer than max_length).

    >>> d = distribution([3, 20, 20, 40, 300], 256)
    >>> d["rows"], d["tokens"], d["min"], d["p50"], d["max"], d["truncated"], d["truncated_share"]
    (5, 383, 3, 20, 300, 1, 0.2)
    >>> [(b["upto"], b["rows"]) for b in d["histogram"]]
    [(16, 1), (32, 2), (64, 1), (128, 0), (256, 0), (None, 1)]
    """
    edges = edges or bin_edges(max_length)
    ordered = sorted(lengths)
    n = len(ordered)
    counts = [0] * (len(edges) + 1)
    for length in ordered:
        counts[next((i for i, edge in enumerate(edges) if length <= edge), len(edges))] += 1
    truncated = counts[-1]
    return {
        "rows": n,
        "tokens": sum(ordered),
        "min": ordered[0] if n else None,
        **{name: ordered[-(-q * n // 100) - 1] if n else None for name, q in PERCENTILES},
        "max": ordered[-1] if n else None,
        "truncated": truncated,
        "truncated_share": truncated / n if n else 0.0,
        "histogram": [{"upto": edge, "rows": c} for edge, c in zip([*edges, None], counts)],
    }


def bin_edges(max_length: int) -> list[int]:
    """The largest length of each bin: doubling from FIRST_BIN, then max_length itself.

    >>> bin_edges(256), bin_edges(1000), bin_edges(8)
    ([16, 32, 64, 128, 256], [16, 32, 64, 128, 256, 512, 1000], [8])
    """
    edges = []
    edge = FIRST_BIN
    while edge < max_length:
        edges.append(edge)
        edge *= 2
    return [*edges, max_length]


def _tokenizer(base):
    from dsc.finetune.tokens import loaded_tokenizer

    fingerprint = base.tokenizer_fingerprint()
    return loaded_tokenizer(base, fingerprint), fingerprint


def _positions(base) -> int | None:
    """The model's positions (its context), from its config; None when it does not say."""
    from transformers.utils import logging

    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        config = base.load_config()
    finally:
        logging.set_verbosity(verbosity)
    positions = getattr(config, "max_position_embeddings", None)
    return positions if isinstance(positions, int) and positions > 0 else None


def _examples(path: Path, tokenizer) -> tuple[list[dict], int]:
    """The TRL examples of an exported split file, and how many of its rows have no training text."""
    from dsc.finetune.rows import read_rows, trl_example

    template = getattr(tokenizer, "chat_template", None)
    examples = [trl_example(row, template) for row in read_rows(path)]
    return [e for e in examples if e is not None], sum(e is None for e in examples)


def _max_length_from(written: int, default: bool, positions: int | None, virtual: int = 0) -> str:
    """Where the length rows are cut at comes from, in words.

    >>> _max_length_from(1024, True, 256), _max_length_from(128, False, 256, 20)
    ("the default 1024, capped at the model's 256 positions", "the finetune block's 128, less 20 virtual tokens")
    """
    where = f"the default {written}" if default else f"the finetune block's {written}"
    if positions and written > positions:
        where += f", capped at the model's {positions} positions"
    return where + (f", less {virtual} virtual tokens" if virtual else "")
