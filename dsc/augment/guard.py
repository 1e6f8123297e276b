"""The quality guard: which generations are kept, and why the others are rejected.

A generation is rejected when it is

- **empty** (nothing but whitespace);
- **identical to the source** once case, Unicode form and whitespace are ignored — it would
  only duplicate the row;
- **too similar**: character-trigram Jaccard similarity to the source above `max_similarity`
  (default 0.95): a punctuation- or one-letter-level edit teaches a model nothing new;
- **too dissimilar**: similarity below `min_similarity` (default 0.1): unrelated sentences mostly
  score 0–0.08 on this measure, while paraphrases and back-translations, which keep names and
  most content words, mostly score 0.25–0.8; below the bound the model drifted, answered the
  prompt instead of rewriting it, or produced noise (a very free rewording can fall below it
  too: the guard prefers dropping a good row to keeping a bad one);
- **too short / too long**: fewer than `min_length_ratio` (default ⅓) or more than
  `max_length_ratio` (default 3) times the source's characters — a truncated output, or a model
  that kept talking.

A spec sets any of the four per rule (`paraphrase prompt … min_similarity 0.3`); the rule's
bounds replace the context's (`AugmentContext.bounds`, these defaults unless a caller changes
them) field by field. Every reason names the bound it broke, so it says which option to change.

The similarity is the Jaccard index of the sets of character 3-grams of the normalised texts
(NFKC, case-folded, whitespace collapsed, padded with one space at each end so short words
count). It needs no model, is symmetric, and is stable across platforms.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from dsc.plan import GUARD_BOUNDS

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Bounds:
    """The guard's limits. The defaults (`dsc.plan.GUARD_BOUNDS`) are documented above and in
    docs/augment.md; a spec sets them per rule (`min_similarity 0.3`)."""

    min_similarity: float = float(GUARD_BOUNDS["min_similarity"])
    max_similarity: float = float(GUARD_BOUNDS["max_similarity"])
    min_length_ratio: float = float(GUARD_BOUNDS["min_length_ratio"])
    max_length_ratio: float = float(GUARD_BOUNDS["max_length_ratio"])

    def overridden(self, given: Mapping[str, Decimal | float] | None) -> "Bounds":
        """These bounds with those in `given` (a rule's `bounds`) replacing them, field by field.

        >>> Bounds().overridden({"min_similarity": Decimal("0.3")})
        Bounds(min_similarity=0.3, max_similarity=0.95, min_length_ratio=0.3333333333333333, max_length_ratio=3.0)
        >>> Bounds().overridden(None) == Bounds()
        True
        """
        return replace(self, **{k: float(v) for k, v in given.items()}) if given else self


DEFAULT_BOUNDS = Bounds()


def normalise(text: str) -> str:
    """Text as the guard compares it: NFKC, case-folded, whitespace collapsed and stripped.

    >>> normalise("  What  IS\\tthis? ")
    'what is this?'
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def trigrams(text: str) -> set[str]:
    """The character 3-grams of normalised text, padded with a space at each end.

    >>> sorted(trigrams("Ab"))
    [' ab', 'ab ']
    """
    padded = f" {normalise(text)} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' trigram sets, in [0, 1].

    >>> similarity("the cat sat on the mat", "the cat sat on the mat")
    1.0
    >>> round(similarity("What is the capital of France?", "Which city is the capital of France?"), 2)
    0.65
    >>> round(similarity("Explain how photosynthesis works.", "Give me a list of five fruits."), 2)
    0.02
    """
    x, y = trigrams(a), trigrams(b)
    union = len(x | y)
    return len(x & y) / union if union else 1.0


def judge(source: str, generated: str | None, bounds: Bounds = DEFAULT_BOUNDS) -> str | None:
    """None when the generation is kept; otherwise the reason it is rejected.

    >>> judge("How do I bake bread?", "What is the way to bake bread?") is None
    True
    >>> judge("How do I bake bread?", "  ")
    'empty generation'
    >>> judge("How do I bake bread?", "how do i  bake bread?")
    'identical to the source'
    >>> judge("How do I bake bread?", "Give me a list of five fruits.")
    'too dissimilar to the source: similarity 0.00, below min_similarity 0.1'
    """
    if generated is None or not generated.strip():
        return "empty generation"
    if normalise(generated) == normalise(source):
        return "identical to the source"
    ratio = len(normalise(generated)) / max(1, len(normalise(source)))
    b = bounds
    if ratio < b.min_length_ratio:
        return f"too short: {ratio:.2f} of the source's length, below min_length_ratio {_shown(b.min_length_ratio)}"
    if ratio > b.max_length_ratio:
        return f"too long: {ratio:.2f} times the source's length, above max_length_ratio {_shown(b.max_length_ratio)}"
    sim = similarity(source, generated)
    if sim < b.min_similarity:
        return f"too dissimilar to the source: similarity {sim:.2f}, below min_similarity {_shown(b.min_similarity)}"
    if sim > b.max_similarity:
        return f"too similar to the source: similarity {sim:.2f}, above max_similarity {_shown(b.max_similarity)}"
    return None


def _shown(bound: float) -> str:
    """A bound as a spec would write it; one without a short decimal form (the default ⅓) rounded.

    >>> _shown(0.1), _shown(3.0), _shown(0.125), _shown(1 / 3)
    ('0.1', '3', '0.125', '0.33')
    """
    text = f"{bound:g}"
    return text if len(text) <= 6 and "e" not in text else f"{bound:.2f}"


def kind(reason: str) -> str:
    """A reason's kind, without its measured detail (the stats count rejects per kind).

    >>> kind("too dissimilar to the source: similarity 0.02, below min_similarity 0.1")
    'too dissimilar to the source'
    """
    return reason.split(":", 1)[0]
