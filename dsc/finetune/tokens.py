"""Tokens in the train split: counted with the base model's tokenizer, or approximated and said so.

With a tokenizer, each row's TRL example (`dsc.finetune.rows.trl_example`) is encoded the way
TRL's `SFTTrainer` encodes it for the generated train.py (`example_tokens`: its chat template,
its end-of-sequence rule), and cut and dropped as it cuts and drops rows at `max_length`.
Without one, a row of c characters is taken as ⌈c / 4⌉ tokens plus the end-of-sequence token —
the usual rule of thumb for English text and BPE vocabularies; code and non-English text give
more tokens per character, so the approximation is labelled as such wherever it is shown.
"""
from __future__ import annotations

from dataclasses import dataclass

CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class TokenCounts:
    """Per-row token counts before any truncation, and how they were obtained."""

    lengths: tuple[int, ...]
    words: int
    exact: bool
    method: str
    untrained: tuple[int, ...] = ()  # per row, the leading tokens the default loss leaves out (the prompt)


@dataclass(frozen=True)
class TokenStats:
    """The train split as one method sees it: truncated at max_length, virtual tokens added."""

    rows: int
    tokens: int  # tokens in one epoch
    squares: int  # Σ (row length)², for the attention term of the FLOPs
    longest: int  # the longest row after truncation: the activation memory's sequence length
    truncated: int  # rows cut at max_length
    exact: bool
    method: str
    dropped: int = 0  # rows whose trained tokens all lie beyond max_length: TRL leaves them out


def count_tokens(examples: list[dict], tokenizer, why_approximate: str = "") -> TokenCounts:
    """Token counts of the training examples, exact with `tokenizer`, approximate without.

    >>> c = count_tokens([{"text": "12345678"}, {"prompt": "12345", "completion": "6"}], None, "no tokenizer")
    >>> c.lengths, c.untrained, c.exact, c.method
    ((3, 3), (0, 2), False, 'approximate: ⌈characters / 4⌉ + 1 per row (no tokenizer)')
    """
    from dsc.finetune.rows import example_text, example_tokens

    words = sum(len(example_text(e).split()) for e in examples)
    if tokenizer is None:
        lengths = tuple(-(-len(example_text(e)) // CHARS_PER_TOKEN) + 1 for e in examples)
        untrained = tuple(-(-len(e["prompt"]) // CHARS_PER_TOKEN) if "prompt" in e else 0 for e in examples)
        return TokenCounts(lengths, words, False,
                           f"approximate: ⌈characters / {CHARS_PER_TOKEN}⌉ + 1 per row ({why_approximate})", untrained)
    from transformers.utils import logging

    # Rows longer than the model's context only warn here; truncation is applied per method below.
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        counted = [example_tokens(tokenizer, e) for e in examples]
    finally:
        logging.set_verbosity(verbosity)
    name = type(tokenizer).__name__
    template = " and its chat template" if any("messages" in e or isinstance(e.get("prompt"), list)
                                               for e in examples) else ""
    return TokenCounts(tuple(n for n, _ in counted), words, True, f"exact: the base model's {name}{template}",
                       tuple(u for _, u in counted))


def token_stats(counts: TokenCounts, max_length: int, virtual_tokens: int = 0, whole_text: bool = False) -> TokenStats:
    """Counts for one method, as TRL's SFTTrainer trains them: each row cut to `max_length`; a row
    whose trained tokens all lie beyond the cut left out (unless the loss covers the whole text);
    then `virtual_tokens` prepended (prompt tuning puts its virtual tokens in front of every sequence).

    >>> c = TokenCounts((3, 10, 12), 5, True, "exact", (1, 2, 9))
    >>> s = token_stats(c, 8, virtual_tokens=2)
    >>> s.rows, s.tokens, s.squares, s.longest, s.truncated, s.dropped
    (2, 15, 125, 10, 2, 1)
    >>> token_stats(c, 8, whole_text=True).rows
    3
    """
    untrained = counts.untrained or (0,) * len(counts.lengths)
    kept = [n for n, u in zip(counts.lengths, untrained) if (0 if whole_text else u) < min(n, max_length)]
    cut = [min(n, max_length) + virtual_tokens for n in kept]
    return TokenStats(rows=len(cut), tokens=sum(cut), squares=sum(n * n for n in cut), longest=max(cut, default=0),
                      truncated=sum(n > max_length for n in counts.lengths), exact=counts.exact, method=counts.method,
                      dropped=len(counts.lengths) - len(kept))
