"""Tokens in the train split: counted with the base model's tokenizer, or approximated and said so.

With a tokenizer, each row is encoded exactly as the generated train.py encodes it (special
tokens, then end-of-sequence). Without one, a row of c characters is taken as ⌈c / 4⌉ tokens
plus the end-of-sequence token — the usual rule of thumb for English text and BPE
vocabularies; code and non-English text give more tokens per character, so the
approximation is labelled as such wherever it is shown.
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


def count_tokens(texts: list[str], tokenizer, why_approximate: str = "") -> TokenCounts:
    """Token counts of the training texts, exact with `tokenizer`, approximate without.

    >>> c = count_tokens(["12345678", "123"], None, "no tokenizer")
    >>> c.lengths, c.exact, c.method
    ((3, 2), False, 'approximate: ⌈characters / 4⌉ + 1 per row (no tokenizer)')
    """
    words = sum(len(t.split()) for t in texts)
    if tokenizer is None:
        lengths = tuple(-(-len(t) // CHARS_PER_TOKEN) + 1 for t in texts)
        return TokenCounts(lengths, words, False,
                           f"approximate: ⌈characters / {CHARS_PER_TOKEN}⌉ + 1 per row ({why_approximate})")
    from transformers.utils import logging

    # Rows longer than the model's context only warn here; truncation is applied per method below.
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        encoded = tokenizer(texts, add_special_tokens=True)["input_ids"]
    finally:
        logging.set_verbosity(verbosity)
    eos = 1 if tokenizer.eos_token_id is not None else 0
    name = type(tokenizer).__name__
    return TokenCounts(tuple(len(ids) + eos for ids in encoded), words, True, f"exact: the base model's {name}")


def token_stats(counts: TokenCounts, max_length: int, virtual_tokens: int = 0) -> TokenStats:
    """Counts for one method: each row cut to `max_length`, then `virtual_tokens` prepended
    (prompt tuning puts its virtual tokens in front of every sequence).

    >>> c = TokenCounts((3, 10), 5, True, "exact")
    >>> s = token_stats(c, 8, virtual_tokens=2)
    >>> s.tokens, s.squares, s.longest, s.truncated
    (15, 125, 10, 1)
    """
    cut = [min(n, max_length) + virtual_tokens for n in counts.lengths]
    return TokenStats(rows=len(cut), tokens=sum(cut), squares=sum(n * n for n in cut), longest=max(cut, default=0),
                      truncated=sum(n > max_length for n in counts.lengths), exact=counts.exact, method=counts.method)
