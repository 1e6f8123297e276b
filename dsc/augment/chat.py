"""The endpoint backend: prompts rendered from the rule's template, sent with bounded concurrency.

Requests go out on at most `concurrency` threads, with no more than twice that many waiting, so
a large job holds little in memory and an interruption abandons little work. Answers are handed
to `execute` on the calling thread as they complete (which stores them in the cache at once);
their order does not matter, since each is matched to its request by index.

The endpoint is only contacted when a generation is not in the cache: a rerun of a finished run
needs neither the server nor the API key.
"""
from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

from dsc.augment.apikey import ApiKey, KeyProblem
from dsc.augment.endpoint import ChatClient, EndpointFatal, EndpointSettings
from dsc.augment.generate import Request, Result
from dsc.augment.prompts import PromptTemplate, TemplateProblem, language_name, load_template
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR
from dsc.ops.runtime import RunError
from dsc.plan import AugmentRule


class EndpointBackend:
    """One rule's endpoint, model, key and prompt template."""

    def __init__(self, rule: AugmentRule, base_dir: Path, seed: int, environ: Mapping[str, str],
                 settings: EndpointSettings, rows):
        self.rule = rule
        self.base_dir = base_dir
        self.environ = environ
        self.settings = settings
        self.rows = rows  # .data(i): the source row's data columns; .id(i): its row id
        # Fixed generation settings, part of every cache key: the most repeatable choice a server offers.
        self.params = {"temperature": 0, "seed": seed}
        self.template: PromptTemplate | None = None
        self.client: ChatClient | None = None
        self._prompts: dict[Request, tuple[str | None, str | None]] = {}

    @property
    def template_hash(self) -> str:
        return self.template.hash

    def _error(self, message: str, exit_code: int = EXIT_SPEC_ERROR) -> RunError:
        return RunError(f"{self.rule.id}: {message}", exit_code, code="DSC306", line=self.rule.line)

    def prepare(self) -> None:
        """Load and compile the prompt template (errors before any request)."""
        try:
            self.template = load_template(self.rule.template, self.base_dir)
        except TemplateProblem as err:
            raise self._error(f"{err}; nothing was generated", EXIT_INPUT_ERROR if err.missing else EXIT_SPEC_ERROR) from None

    def probe(self, requests: list[Request]) -> None:
        """Render the first request of each language (and, for a back-translation, the back step
        too), so a template that fails on the data stops the run before any request."""
        seen: set[str | None] = set()
        for r in requests:
            if r.target in seen:
                continue
            seen.add(r.target)
            back = Request("translate", r.text, r.target, r.source, "back", r.row)
            for probe in [r] if r.task == "paraphrase" else [r, back]:
                _, why = self._prompt(probe)
                if why is not None:
                    raise self._error(f"the prompt template {self.template.name} fails on row "
                                      f"{self.rows.id(r.row)} ({why}); nothing was generated")

    def before_calls(self) -> None:
        """Read the key and check something listens at the endpoint (only when a call is needed)."""
        if self.client is not None:
            return
        try:
            key = ApiKey.from_environ(self.environ, self.rule.key_env) if self.rule.key_env else None
        except KeyProblem as err:
            raise self._error(f"{err}; nothing was generated", EXIT_INPUT_ERROR) from None
        try:
            client = ChatClient(self.rule.endpoint, self.rule.model, key, self.settings)
            client.preflight()
        except EndpointFatal as err:
            raise self._error(f"{err}; start it or fix the URL; nothing was generated", EXIT_INPUT_ERROR) from None
        self.client = client

    def _prompt(self, request: Request) -> tuple[str | None, str | None]:
        """The rendered prompt, or why the template failed on this request (rendered once, then kept)."""
        if request not in self._prompts:
            self._prompts[request] = self._render(request)
        return self._prompts[request]

    def _render(self, r: Request) -> tuple[str | None, str | None]:
        pivot = "" if r.task == "paraphrase" else (r.target if r.step == "forward" else r.source)
        variables = {"text": r.text, "task": r.task, "method": self.rule.method, "step": r.step,
                     "source_lang": r.source, "target_lang": r.target or "", "source_name": language_name(r.source),
                     "target_name": language_name(r.target) if r.target else "", "pivot": pivot,
                     "column": self.rule.column, "row": self.rows.data(r.row)}
        try:
            prompt = self.template.render(variables)
        except TemplateProblem as err:
            raise self._error(f"{err} (row {self.rows.id(r.row)})") from None
        except Exception as err:  # noqa: BLE001 — a user template may fail in any way on one row's data
            return None, f"the prompt template failed: {type(err).__name__}: {err}"
        if not prompt.strip():
            return None, "the prompt template rendered an empty prompt"
        return prompt, None

    def key_parts(self, request: Request) -> dict[str, Any]:
        prompt, why = self._prompt(request)
        return {"backend": "endpoint", "endpoint": self.rule.endpoint, "model": self.rule.model,
                "template": self.template.hash, "settings": self.params, "task": request.task,
                "pair": [request.source, request.target], "prompt": prompt, "failed": why}

    def run(self, requests: list[Request], emit: Callable[[int, Result], None]) -> None:
        self.before_calls()
        pending: dict[cf.Future, int] = {}
        work = iter(enumerate(requests))
        limit = max(1, self.rule.concurrency)
        pool = cf.ThreadPoolExecutor(max_workers=limit, thread_name_prefix="dsc-augment")
        try:
            while True:
                while len(pending) < 2 * limit:
                    item = next(work, None)
                    if item is None:
                        break
                    i, request = item
                    prompt, why = self._prompt(request)
                    if prompt is None:
                        emit(i, Result(reason=why))
                        continue
                    pending[pool.submit(self.client.complete, prompt, self.params)] = i
                if not pending:
                    return
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    i = pending.pop(future)
                    try:
                        result = future.result()
                    except EndpointFatal as err:
                        raise self._error(f"{err}; generations made before it are kept in the cache", EXIT_INPUT_ERROR) from None
                    emit(i, result)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
