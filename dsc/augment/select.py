"""Which rows an augmentation rule picks: a stable hash of (seed, rule id, row id) against the ratio.

Each row is decided on its own: the text `rule id NUL row id` is hashed with xxh3-64, seeded
with the dataset seed (and namespaced, so the hash never coincides with the split hash of the
same key), and the row is picked when the 64-bit hash is below `floor(ratio × 2⁶⁴)`. So:

- adding or removing other rows never changes whether a row is picked;
- a rule picks about `ratio × n` of `n` rows (binomially), and two rules with the same ratio
  pick different rows (the rule id is hashed too);
- the boundary is an exact integer computed from the plan's decimal, the same on every platform.

Python's `hash()` is salted per process, so it is never used.
"""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import numpy as np
import xxhash

# Namespaces the hash: the same seed and key hashed by the split step gives another value.
_DOMAIN = b"dsc-augment\x00"
_FULL = 2**64


def threshold(ratio: Decimal | str) -> int:
    """The exclusive upper bound of the hashes a ratio picks: `floor(ratio × 2⁶⁴)`, exactly.

    >>> threshold(Decimal("0.25")) == 2**62, threshold("1") == 2**64, threshold("0")
    (True, True, 0)
    """
    value = Fraction(Decimal(ratio))
    return max(0, min(_FULL, int(value * _FULL)))


def row_hash(seed: int, rule_id: str, row_id: str) -> int:
    """The 64-bit selection hash of one row for one rule.

    >>> row_hash(0, "paraphrase[q]", "r1") == row_hash(0, "paraphrase[q]", "r1")
    True
    >>> row_hash(0, "paraphrase[q]", "r1") != row_hash(1, "paraphrase[q]", "r1")
    True
    """
    data = _DOMAIN + rule_id.encode("utf-8") + b"\x00" + row_id.encode("utf-8")
    return xxhash.xxh3_64_intdigest(data, seed % _FULL)


def selected(row_ids: Sequence[str], seed: int, rule_id: str, ratio: Decimal | str) -> np.ndarray:
    """A boolean mask: which of `row_ids` the rule picks.

    >>> ids = [f"r{i}" for i in range(1000)]
    >>> picked = selected(ids, 7, "paraphrase[q]", Decimal("0.25"))
    >>> 200 < int(picked.sum()) < 300
    True

    A row's verdict does not depend on the other rows:

    >>> bool(selected(ids[:10], 7, "paraphrase[q]", Decimal("0.25"))[3]) == bool(picked[3])
    True
    >>> selected(["a", "b"], 7, "r", Decimal(1)).tolist(), selected(["a", "b"], 7, "r", Decimal(0)).tolist()
    ([True, True], [False, False])
    """
    bound = threshold(ratio)
    if bound >= _FULL:  # every 64-bit hash is below 2**64, which a uint64 cannot hold
        return np.ones(len(row_ids), dtype=bool)
    hashes = np.fromiter((row_hash(seed, rule_id, r) for r in row_ids), dtype=np.uint64, count=len(row_ids))
    return hashes < np.uint64(bound)
