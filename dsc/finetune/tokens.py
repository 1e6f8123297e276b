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
from functools import lru_cache

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


# ── tokens(COL): a column's text counted with the base model's tokenizer ──────────────────────────
# Rows per call of the tokenizer's batch encoder: large enough for its threads, small enough that a
# batch's encodings never hold much memory.
BATCH_ROWS = 4096


def rule_tokenizer(ref: str, base_dir, fingerprint: str | None = None):
    """The tokenizer a `tokens()` rule counts with: the finetune block's `base` (`ref`, relative to
    the spec's folder `base_dir`), loaded by `BaseModel.load_tokenizer` — the one loader of dsc —
    once per process and set of files. When the plan pinned the tokenizer's files (`fingerprint`),
    they must still be those files. FinetuneError (DSC307, exit 4) with the reason when it cannot
    be used.
    """
    from pathlib import Path

    from dsc.finetune.errors import FinetuneError
    from dsc.finetune.model import resolve_base

    base = resolve_base(ref, Path(base_dir))
    try:
        found = base.tokenizer_fingerprint()
    except OSError as err:
        raise FinetuneError("DSC307", f"the tokenizer of {ref} cannot be read ({err})", setting="base",
                            missing=True) from None
    if fingerprint is not None and found != fingerprint:
        raise FinetuneError("DSC307", f"the tokenizer files of {ref} changed since the plan was compiled "
                                      f"(plan {fingerprint[:19]}, files now {found[:19]})", setting="base",
                            hint="compile the spec again: a plan pins the tokenizer its tokens() rules count with",
                            missing=True)
    return loaded_tokenizer(base, found)


@lru_cache(maxsize=4)
def loaded_tokenizer(base, fingerprint: str):
    """`base`'s tokenizer (`BaseModel.load_tokenizer`), loaded once per process for one set of its
    files (`fingerprint`, `BaseModel.tokenizer_fingerprint`); FinetuneError (DSC307) with the reason
    when there is none."""
    from transformers.utils import logging

    from dsc.finetune.errors import FinetuneError

    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        tokenizer, why = base.load_tokenizer()
    finally:
        logging.set_verbosity(verbosity)
    if tokenizer is None:
        raise FinetuneError("DSC307", why, setting="base", missing=True,
                            hint="the finetune block's base needs tokenizer files that load (tokenizer.json, …)")
    return tokenizer


def text_tokens(tokenizer, texts: list[str], special: bool = False) -> list[int]:
    """The number of tokens of each text, as `tokenizer(text, add_special_tokens=special)` counts
    it: by default the text on its own, without the special tokens a model adds around a sequence
    (BOS, EOS). Batches of `BATCH_ROWS` go to the fast tokenizer's batch encoder (in Rust, on its
    own threads), which counts without building any Python list of ids; a tokenizer with no fast
    form is given each batch through its own batch call.
    """
    from transformers.utils import logging

    backend = getattr(tokenizer, "backend_tokenizer", None) if getattr(tokenizer, "is_fast", False) else None
    if backend is not None:
        # As transformers' own call leaves the backend for one: no truncation, no padding, special
        # tokens in the text split or not as the tokenizer says.
        if backend.truncation is not None:
            backend.no_truncation()
        if backend.padding is not None:
            backend.no_padding()
        split = getattr(tokenizer, "split_special_tokens", False)
        if backend.encode_special_tokens != split:
            backend.encode_special_tokens = split
        encode = getattr(backend, "encode_batch_fast", backend.encode_batch)  # fast: no offsets
        return [len(e) for i in range(0, len(texts), BATCH_ROWS)
                for e in encode(texts[i:i + BATCH_ROWS], add_special_tokens=special)]
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # "longer than the model's maximum length": counting is not feeding it
    try:
        return [len(ids) for i in range(0, len(texts), BATCH_ROWS)
                for ids in tokenizer(texts[i:i + BATCH_ROWS], add_special_tokens=special)["input_ids"]]
    finally:
        logging.set_verbosity(verbosity)


def example_lengths(tokenizer, examples: list[dict]) -> list[int]:
    """The tokens of each `trl_example` as TRL's SFTTrainer tokenizes it before it cuts rows at
    max_length — `example_tokens(tokenizer, e)[0]` for each — counted in batches: the standard
    examples (text, or prompt + completion, with the end-of-sequence text appended as TRL does)
    through `text_tokens` with the special tokens, the conversations through one call of the
    chat template per batch.
    """
    from transformers.utils import logging

    eos = tokenizer.eos_token or ""
    out = [0] * len(examples)
    plain: list[tuple[int, str]] = []
    chats: list[tuple[int, list]] = []
    for i, e in enumerate(examples):
        if "messages" in e:
            chats.append((i, e["messages"]))
        elif "text" in e:
            plain.append((i, e["text"] if e["text"].endswith(eos) else e["text"] + eos))
        elif isinstance(e["prompt"], list):
            chats.append((i, e["prompt"] + e["completion"]))
        else:
            completion = e["completion"] if e["completion"].endswith(eos) else e["completion"] + eos
            plain.append((i, e["prompt"] + completion))
    for (i, _), n in zip(plain, text_tokens(tokenizer, [t for _, t in plain], special=True)):
        out[i] = n
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        for start in range(0, len(chats), BATCH_ROWS):
            batch = chats[start:start + BATCH_ROWS]
            ids = tokenizer.apply_chat_template([c for _, c in batch], tokenize=True, return_dict=True)["input_ids"]
            for (i, _), row in zip(batch, ids):
                out[i] = len(row)
    finally:
        logging.set_verbosity(verbosity)
    return out
