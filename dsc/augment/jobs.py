"""One augmentation rule, start to finish: select, prepare, generate, guard.

`prepare` does everything that can fail before a generation exists — the column, the model
folders and language tokens, the prompt template (rendered once per kind of request), the API
key and a connection to the endpoint (only when some generation is not cached yet) — so that
`augment` can prepare every rule before it runs any.

`run` makes the generations: a paraphrase is one request per selected row; a back-translation is,
per pivot, a forward request (source → pivot), then a back request (pivot → source) for each
forward translation that came back non-empty. Every final text goes through the guard.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from dsc.augment.cache import GenerationCache, cache_key
from dsc.augment.chat import EndpointBackend
from dsc.augment.generate import Counts, Request, Result, execute
from dsc.augment.guard import judge, kind
from dsc.augment.local import LocalBackend
from dsc.augment.rows import Generated, Rejected, SourceRows
from dsc.augment.select import selected
from dsc.plan import AugmentRule


@dataclass
class RuleStats:
    """What one rule did. `requests` (generations it needed) is fixed by the data and the plan;
    `calls` (made this run) and `cache_hits` (answered by the cache) depend on what earlier runs
    left in the cache, so only the first set goes into stats.json."""

    rule: str
    line: int
    method: str
    selected: int = 0
    generated: int = 0
    rejected: int = 0
    requests: int = 0
    calls: int = 0
    cache_hits: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def saved(self) -> dict:
        """The deterministic part, for stats.json (reasons by kind, commonest first)."""
        reasons = sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        return {"rule": self.rule, "line": self.line, "method": self.method, "selected": self.selected,
                "generated": self.generated, "rejected": self.rejected, "requests": self.requests,
                "reasons": [{"reason": r, "rows": n} for r, n in reasons]}


class RuleJob:
    """The state of one rule between `prepare` and `run`."""

    def __init__(self, rule: AugmentRule, rows: SourceRows, ctx, cache: GenerationCache):
        self.rule, self.rows, self.ctx, self.cache = rule, rows, ctx, cache
        # The context's bounds, with those the rule's spec sets replacing them. Not part of any cache
        # key: changing a bound judges the cached generations again, without a call.
        self.bounds = ctx.bounds.overridden(rule.bounds)
        self.stats = RuleStats(rule.id, rule.line, rule.method)
        self.counts = Counts()
        self.generated: list[Generated] = []
        self.rejected: list[Rejected] = []
        self.first: list[Request] = []
        self.backend: LocalBackend | EndpointBackend | None = None

    @property
    def template_hash(self) -> str | None:
        return self.backend.template_hash if isinstance(self.backend, EndpointBackend) else None

    def prepare(self) -> None:
        rule, rows, lang = self.rule, self.rows, self.ctx.language
        in_splits = np.array([s in rule.splits for s in rows.splits], dtype=bool)
        picked = np.flatnonzero(selected(rows.ids, self.ctx.seed, rule.id, rule.ratio) & in_splits).tolist()
        self.stats.selected = len(picked)
        targets = [None] if rule.method == "paraphrase" else list(rule.pivots)
        for i in picked:
            text = rows.texts[i]
            for target in targets:
                if text is None or not text.strip():
                    self._reject(i, target, "the source text is empty", None)
                elif target is None:
                    self.first.append(Request("paraphrase", text, lang, None, "paraphrase", i))
                else:
                    self.first.append(Request("translate", text, lang, target, "forward", i))
        # The model (or template) is checked even when no row is picked: a bad reference is an error
        # whatever the data, not one that waits for the data to grow.
        self.backend = self._backend()
        self.backend.prepare()
        if isinstance(self.backend, EndpointBackend):
            self.backend.probe(self.first)
        if any(self.cache.get(cache_key(self.backend.key_parts(r))) is None for r in self.first):
            self.backend.before_calls()

    def _backend(self):
        rule, ctx = self.rule, self.ctx
        if rule.backend == "local":
            return LocalBackend(rule, ctx.base_dir, ctx.language)
        return EndpointBackend(rule, ctx.base_dir, ctx.seed, ctx.environ, ctx.endpoint, self.rows)

    def run(self, note: Callable[[str], None]) -> None:
        if self.first:
            results = execute(self.first, self.backend, self.cache, self.counts, note, self.rule.id)
            if self.rule.method == "paraphrase":
                for request, result in zip(self.first, results):
                    self._judge(request.row, None, result, "")
            else:
                self._back(results, note)
        self.stats.requests, self.stats.calls, self.stats.cache_hits = (
            self.counts.requests, self.counts.calls, self.counts.cache_hits)
        self.generated.sort(key=lambda g: (g.row, self._pivot_rank(g.pivot)))
        self.rejected.sort(key=lambda r: (r.row, self._pivot_rank(r.pivot)))
        self.stats.generated, self.stats.rejected = len(self.generated), len(self.rejected)

    def _back(self, forward: list[Result], note: Callable[[str], None]) -> None:
        back: list[Request] = []
        for request, result in zip(self.first, forward):
            pivot = request.target
            if not result.ok:
                self._reject(request.row, pivot, f"the translation to {pivot} failed: {result.reason}", None)
            elif not result.text.strip():
                self._reject(request.row, pivot, f"the translation to {pivot} is empty", None)
            else:
                back.append(Request("translate", result.text, pivot, request.source, "back", request.row))
        results = execute(back, self.backend, self.cache, self.counts, note, self.rule.id + " (back)")
        for request, result in zip(back, results):
            self._judge(request.row, request.source, result, f"the translation back from {request.source} failed: ")

    def _judge(self, row: int, pivot: str | None, result: Result, failed: str) -> None:
        if not result.ok:
            self._reject(row, pivot, failed + result.reason if failed else result.reason, None)
            return
        reason = judge(self.rows.texts[row], result.text, self.bounds)
        if reason is None:
            self.generated.append(Generated(row, result.text, pivot))
        else:
            self._reject(row, pivot, reason, result.text)

    def _reject(self, row: int, pivot: str | None, reason: str, text: str | None) -> None:
        self.rejected.append(Rejected(row, reason, text, pivot))
        key = kind(reason)
        self.stats.reasons[key] = self.stats.reasons.get(key, 0) + 1

    def _pivot_rank(self, pivot: str | None) -> int:
        return self.rule.pivots.index(pivot) if pivot is not None else 0


def language_of(locale: str | None) -> str:
    """The source language: the dataset locale's language, English without one.

    >>> language_of("de_DE"), language_of("pt-BR"), language_of(None)
    ('de', 'pt', 'en')
    """
    return (locale or "en").replace("-", "_").split("_")[0].lower()

