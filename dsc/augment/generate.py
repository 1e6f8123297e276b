"""Generation requests, their results, and running a list of them through the cache and a backend.

A backend (a local model, or a chat-completions endpoint) answers `Request`s. `execute` looks
every request up in the generation cache first, sends each distinct missing one to the backend
once (identical texts in several rows cost one call), stores every answer the moment it arrives
— so an interrupted run keeps what it had — and hands back one `Result` per request, in order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from dsc.augment.cache import GenerationCache, cache_key


@dataclass(frozen=True)
class Request:
    """One generation: paraphrase `text`, or translate it from `source` to `target` language."""

    task: str  # "paraphrase" | "translate"
    text: str
    source: str
    target: str | None = None
    step: str = "paraphrase"  # "paraphrase", or for a back-translation "forward" | "back"
    row: int = -1  # index of the source row, for templates that read its other columns


@dataclass(frozen=True)
class Result:
    """A generation's text, or why there is none (`reason`)."""

    text: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.text is not None


class Backend(Protocol):
    """What a backend (local.LocalBackend, chat.EndpointBackend) provides."""

    def prepare(self) -> None:
        """Find and check everything the rule names (models, template); raise RunError if unusable."""

    def before_calls(self) -> None:
        """Get ready to generate (load weights; read the key, reach the endpoint); raise RunError if not."""

    def key_parts(self, request: Request) -> dict[str, Any]:
        """Everything that determines the generation of `request` (hashed into its cache key)."""

    def run(self, requests: list[Request], emit: Callable[[int, Result], None]) -> None:
        """Generate every request, calling `emit(index, result)` on the calling thread as each is done."""


@dataclass
class Counts:
    """What `execute` did: requests needed, calls made this run, requests answered by the cache."""

    requests: int = 0
    calls: int = 0
    cache_hits: int = 0


def execute(requests: list[Request], backend: Backend, cache: GenerationCache, counts: Counts,
            note: Callable[[str], None] = lambda _m: None, label: str = "") -> list[Result]:
    """One Result per request, in order: cached ones from `cache`, the rest from `backend` (stored)."""
    keys = [cache_key(backend.key_parts(r)) for r in requests]
    results: list[Result | None] = [None] * len(requests)
    missing: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        text = cache.get(key)
        if text is not None:
            results[i] = Result(text)
        else:
            missing.setdefault(key, []).append(i)
    counts.requests += len(requests)
    counts.cache_hits += len(requests) - sum(len(v) for v in missing.values())
    order = list(missing)
    if order:
        note(f"{label}: {len(order)} to generate, {len(requests) - sum(map(len, missing.values()))} cached")
    done = 0

    def emit(j: int, result: Result) -> None:
        nonlocal done
        key = order[j]
        if result.ok:
            cache.put(key, result.text)
        for i in missing[key]:
            results[i] = result
        done += 1
        counts.calls += 1
        if done % 50 == 0:
            note(f"{label}: {done} of {len(order)} generated")

    if order:  # a backend is only touched when there is something to generate
        backend.run([requests[missing[k][0]] for k in order], emit)
    lost = [i for i, r in enumerate(results) if r is None]
    if lost:  # a backend that skips a request is a bug; never drop a row silently
        raise AssertionError(f"backend returned no result for {len(lost)} requests")
    return results  # type: ignore[return-value]
