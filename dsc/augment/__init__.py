"""Augmentation: paraphrases and back-translations of a share of the rows, seeded, cached, traceable.

One entry point, `augment(table, rules, ctx, out_dir)`, called by the engine after the split step
(so every row already has its `_dsc_split`). For each rule, in plan order:

1. **select** the rows of the rule's splits whose stable hash of (seed, rule id, row id) falls
   under the ratio (`select.py`) — adding rows never changes which existing rows are picked;
2. **generate** with a local model (`local.py`) or a chat-completions endpoint (`chat.py`,
   `endpoint.py`, `prompts.py`), through the content-addressed generation cache in the output
   directory (`cache.py`): a rerun makes no call, a killed run resumes where it stopped;
3. **guard** every generation (`guard.py`): empty, identical, too similar, too dissimilar, too
   short or too long generations are rejected with their reason.

Every rule is prepared (models found, template compiled and tried, key read, endpoint reached)
before any rule generates, so a bad model path, template, key or URL stops the run before the
first generation. Rules read the input rows only — a generation is never augmented again.

Generated rows copy their source row, `_dsc_split` included, so no paraphrase of a validation
row can land in train; they carry provenance columns (`rows.py`) and ids `<source id>+<rule id>`.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa

from dsc.augment.cache import GenerationCache
from dsc.augment.endpoint import EndpointSettings
from dsc.augment.guard import DEFAULT_BOUNDS, Bounds
from dsc.augment.jobs import RuleJob, RuleStats, language_of
from dsc.augment.rows import SourceRows, generated_table, rejected_table
from dsc.plan import AugmentRule
from dsc.reserved import AUG_PROVENANCE

# Inside the engine's cache folder (`.dsc-cache`, a reserved name no export may take).
CACHE_SUBDIR = Path(".dsc-cache") / "augment"


@dataclass
class AugmentContext:
    """What augmentation needs from the run: where the spec's relative paths resolve, the dataset
    seed and locale (the source language), a progress callback, the environment (for API keys),
    the guard's bounds and the endpoint client's timeouts and retries."""

    base_dir: Path
    seed: int = 0
    locale: str | None = None
    progress: Callable[[str], None] | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    bounds: Bounds = DEFAULT_BOUNDS
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)

    @property
    def language(self) -> str:
        return language_of(self.locale)


@dataclass
class AugmentOutcome:
    """The generated rows (input columns + provenance), the rejected generations, per-rule stats."""

    generated: pa.Table
    rejected: pa.Table
    stats: list[RuleStats]

    def saved(self) -> dict:
        """The deterministic summary the run's stats.json keeps (no call or cache-hit counts)."""
        return {"generated": self.generated.num_rows, "rejected": self.rejected.num_rows,
                "rules": [s.saved() for s in self.stats]}


def augment(table: pa.Table, rules: list[AugmentRule], ctx: AugmentContext, out_dir: Path) -> AugmentOutcome:
    """Apply every augmentation rule to the (split) input rows; see the module docstring."""
    note = ctx.progress or (lambda _msg: None)
    cache = GenerationCache(out_dir / CACHE_SUBDIR)
    try:
        jobs = [RuleJob(rule, SourceRows(table, rule), ctx, cache) for rule in rules]
        for job in jobs:
            note(f"{job.rule.id}: preparing")
            job.prepare()
        for job in jobs:
            job.run(note)
            s = job.stats
            note(f"{s.rule}: {s.generated} generated, {s.rejected} rejected ({s.calls} calls, {s.cache_hits} cached)")
    finally:
        cache.close()
    generated = [generated_table(j.rows, j.rule, j.generated, j.template_hash) for j in jobs if j.generated]
    rejected = [rejected_table(j.rows, j.rule, j.rejected) for j in jobs if j.rejected]
    return AugmentOutcome(
        generated=pa.concat_tables(generated) if generated else _no_rows(table),
        rejected=pa.concat_tables(rejected) if rejected else rejected_table(None, None, []),
        stats=[j.stats for j in jobs],
    )


def _no_rows(table: pa.Table) -> pa.Table:
    """An empty generated table with the input's columns and the provenance columns."""
    empty = table.slice(0, 0)
    for name in AUG_PROVENANCE:
        empty = empty.append_column(name, pa.array([], pa.string()))
    return empty


__all__ = ["AugmentContext", "AugmentOutcome", "RuleStats", "augment", "Bounds", "EndpointSettings"]
