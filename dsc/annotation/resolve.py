"""Label resolution: one label per item from its annotators' labels, by the declared policy.

- `majority`: the label most annotators gave. With `prefer ROLE`, a tie is broken by the
  majority among that role's annotators.
- `unanimous`: the label when every annotator gave it; any disagreement leaves it open.
- `expert`: the majority among the experts (the `prefer` role, else the experts' role);
  the other annotators' labels do not vote.

What is left open — a tie, a disagreement under `unanimous`, no expert label under
`expert` — goes to the tie policy: `drop` the item, `flag` it (kept, no label written), or
`first`: the candidate that comes first in the label order (the schema's order; without one,
numbers by value and text alphabetically). Candidates are the tied labels, or every label
given when nothing was tied (disagreement, no expert). Only counts matter, never the order
the annotations were read in.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

POLICIES = ("majority", "unanimous", "expert")
TIES = ("drop", "flag", "first")


@dataclass(frozen=True)
class Vote:
    """One annotator's label for an item."""

    annotator: str
    label: str
    role: str | None = None


@dataclass(frozen=True)
class Resolution:
    """The label chosen (None when open), what happened (`status`), how and why, for people.

    status: `resolved`; `first` (left open, then the tie policy picked the first candidate);
    `drop` or `flag` (left open; the tie policy says what to do with the item).
    method, for a `resolved` label: `majority`, `unanimous`, `expert` (the experts' majority) or
    `prefer` (a majority tie broken by the `prefer` role's majority); None otherwise."""

    label: str | None
    status: str
    reason: str | None = None
    candidates: tuple[str, ...] = ()
    method: str | None = None


def resolve(votes: Sequence[Vote], policy: str = "majority", tie: str = "drop", *,
            expert_role: str | None = None, prefer: str | None = None,
            order: Sequence[str] = ()) -> Resolution:
    """Resolve one item's `votes` by `policy`, settling what is left open by `tie`.

    >>> v = [Vote("a", "bug"), Vote("b", "billing"), Vote("e", "billing", "expert")]
    >>> resolve(v).label, resolve(v[:2], tie="first", order=["bug", "billing"]).label
    ('billing', 'bug')
    >>> resolve(v[:2]).reason
    'tie between billing and bug (1 vote each)'
    >>> resolve(v, "expert", expert_role="expert").label, resolve(v, "unanimous", tie="flag").status
    ('billing', 'flag')
    >>> resolve(v).method, resolve([v[0], v[2]], prefer="expert").method, resolve(v[:2]).method
    ('majority', 'prefer', None)
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown resolve policy '{policy}'")
    if tie not in TIES:
        raise ValueError(f"unknown tie policy '{tie}'")
    rank = {label: i for i, label in enumerate(order)}

    def sort_key(label: str) -> tuple:
        # labels outside `order` (no schema) come after it, alphabetically
        return (rank.get(label, len(rank)), label)

    if not votes:
        return Resolution(None, tie if tie != "first" else "drop", "no labels")
    given = sorted({v.label for v in votes}, key=sort_key)
    if policy == "unanimous":
        if len(given) == 1:
            return Resolution(given[0], "resolved", method="unanimous")
        return _open(f"annotators disagree ({_counts(votes, sort_key)})", tuple(given), tie)
    if policy == "expert":
        role = prefer or expert_role
        experts = [v for v in votes if v.role == role]
        if not experts:
            return _open(f"no {role} label to resolve by", tuple(given), tie)
        top = _top(experts)
        if len(top) == 1:
            return Resolution(top[0], "resolved", method="expert")
        return _open(f"{role} tie between {_tied(top, experts, sort_key)}", tuple(sorted(top, key=sort_key)), tie)
    top = _top(votes)
    if len(top) == 1:
        return Resolution(top[0], "resolved", method="majority")
    if prefer is not None:
        preferred = [v for v in votes if v.role == prefer and v.label in top]
        best = _top(preferred) if preferred else []
        if len(best) == 1:
            return Resolution(best[0], "resolved", method="prefer")
    return _open(f"tie between {_tied(top, votes, sort_key)}", tuple(sorted(top, key=sort_key)), tie)


def _top(votes: Sequence[Vote]) -> list[str]:
    """The labels with the most votes, in sorted order (never the order votes came in)."""
    counts: dict[str, int] = {}
    for v in votes:
        counts[v.label] = counts.get(v.label, 0) + 1
    most = max(counts.values())
    return sorted(label for label, n in counts.items() if n == most)


def _open(reason: str, candidates: tuple[str, ...], tie: str) -> Resolution:
    if tie == "first":
        return Resolution(candidates[0], "first", f"{reason}; took '{candidates[0]}', first in label order",
                          candidates)
    return Resolution(None, tie, reason, candidates)


def _tied(top: list[str], votes: Sequence[Vote], sort_key) -> str:
    n = sum(1 for v in votes if v.label == top[0])
    names = sorted(top, key=sort_key)
    joined = ", ".join(names[:-1]) + " and " + names[-1]
    return f"{joined} ({n} vote{'s' if n != 1 else ''} each)"


def _counts(votes: Sequence[Vote], sort_key) -> str:
    counts: dict[str, int] = {}
    for v in votes:
        counts[v.label] = counts.get(v.label, 0) + 1
    return ", ".join(f"{label} ×{counts[label]}" for label in sorted(counts, key=sort_key))
