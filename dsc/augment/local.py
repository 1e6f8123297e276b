"""Local `transformers` models: seq2seq paraphrasers (T5-style) and translation models (MarianMT-style).

`using "PATH"` is resolved like a finetune block's base model (`dsc.finetune.model`): a folder
relative to the spec's folder, or `org/name@revision` read from the local Hugging Face cache
only; transformers is given the absolute folder either way, never an id it would look for under
the working directory. Nothing is downloaded and no remote code runs.

**Translation models.** A back-translation needs both directions for every pivot:

- a path with `{src}` and `{tgt}` names one model per language pair, e.g.
  `using "models/opus-mt-{src}-{tgt}"` reads `models/opus-mt-en-de` and `models/opus-mt-de-en`
  for the pivot `de` (the source language is the dataset's `locale`, English without one);
- a path without them names one multilingual model whose tokenizer has a target-language token
  per language (`>>de<<`, as Marian multi-target models do); the token is put before the text.

Every folder, language token and tokenizer is checked before any generation starts: a missing
folder, a model that is not sequence-to-sequence or a language the model lacks is a clear error.

**Generation** is greedy (`num_beams=1`, no sampling, at most `MAX_NEW_TOKENS` new tokens, fewer
when the decoder has fewer positions) on
the CPU, in batches of `BATCH` texts sorted by length: the same text gives the same output.
(Padding within a batch can, in a rare floating-point tie, change a token; the cache then pins
whichever output the first run made.) A T5-style paraphraser gets its task prefix from its
config's `task_specific_params["paraphrase"]["prefix"]`, else `paraphrase: ` for T5 models.

A local model's identity in the cache key is a fingerprint of its folder's files (names, sizes
and contents; for files over 64 MiB the first and last MiB), so replacing the weights changes
every key while reruns cost one quick pass over the folder.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dsc.augment.generate import Request, Result
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR
from dsc.finetune.errors import FinetuneError
from dsc.finetune.model import BaseModel, resolve_base
from dsc.ops.runtime import RunError
from dsc.plan import AugmentRule

MAX_NEW_TOKENS = 256
BATCH = 16
SETTINGS = {"num_beams": 1, "do_sample": False}
T5_PREFIX = "paraphrase: "
# Input length cap when a tokenizer states none (its model_max_length is then a huge sentinel).
DEFAULT_MAX_INPUT = 512
_LANG_TOKEN = re.compile(r"^>>([A-Za-z_]+)<<$")
_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
_FULL_HASH_LIMIT = 64 << 20
_SAMPLE = 1 << 20


@dataclass
class LocalModel:
    """One resolved model: where it is, its fingerprint, its tokenizer and, once loaded, its weights."""

    ref: str
    base: BaseModel
    fingerprint: str
    tokenizer: Any = None
    config: Any = None
    prefix: str = ""
    languages: frozenset[str] = field(default_factory=frozenset)
    model: Any = None
    generation_limit: int | None = None

    @property
    def settings(self) -> dict[str, Any]:
        """The generation settings: greedy, and at most MAX_NEW_TOKENS new tokens — fewer when the
        decoder has fewer positions (a model with learned positions, like Marian, cannot go past
        them) or the model's own generation_config.json sets a smaller `max_new_tokens`."""
        limits = [MAX_NEW_TOKENS]
        positions = getattr(self.config, "max_position_embeddings", None)
        if positions:
            limits.append(int(positions) - 1)  # the decoder's start token takes one position
        if self.generation_limit:
            limits.append(self.generation_limit)
        return dict(SETTINGS, max_new_tokens=min(limits))


class LocalBackend:
    """A local model (or one per language pair) answering one augmentation rule's requests."""

    def __init__(self, rule: AugmentRule, base_dir: Path, language: str):
        self.rule = rule
        self.base_dir = base_dir
        self.language = language
        self.per_pair = "{src}" in rule.model or "{tgt}" in rule.model
        self.models: dict[str, LocalModel] = {}

    # ── before any generation ─────────────────────────────────────────────────────────────
    def prepare(self) -> None:
        """Resolve every model the rule needs and check it can do the job; raise RunError if not."""
        from dsc.extras import missing

        lacking = missing("a local model (using)")  # `dsc check` warned (DSC221); here it stops the run
        if lacking:
            raise self._error("; ".join(lacking), code="DSC312")
        rule = self.rule
        if rule.method == "paraphrase":
            model = self._model(rule.model)
            model.prefix = _paraphrase_prefix(model.config)
            return
        for pivot in rule.pivots:
            if pivot == self.language:
                raise self._error(f"the pivot '{pivot}' is the source language (the dataset's locale); "
                                  "back-translation needs another language", exit_code=EXIT_SPEC_ERROR, code="DSC310")
            for src, tgt in ((self.language, pivot), (pivot, self.language)):
                model = self._model(self._pair_ref(src, tgt))
                if not self.per_pair and tgt not in model.languages:
                    known = ", ".join(sorted(model.languages)) or "none"
                    raise self._error(
                        f"the model '{rule.model}' has no target-language token >>{tgt}<< "
                        f"(its language tokens: {known}); name one model per language pair with "
                        f'{{src}} and {{tgt}}, e.g. using "models/opus-mt-{{src}}-{{tgt}}"', exit_code=EXIT_SPEC_ERROR)

    def _pair_ref(self, src: str, tgt: str) -> str:
        return self.rule.model.replace("{src}", src).replace("{tgt}", tgt)

    def _model(self, ref: str) -> LocalModel:
        if ref in self.models:
            return self.models[ref]
        base = self._resolve(ref)
        config = self._config(base, ref)
        if not getattr(config, "is_encoder_decoder", False):
            raise self._error(f"the model '{ref}' ({getattr(config, 'model_type', '?')}) is not a "
                              "sequence-to-sequence model; use a T5-style paraphraser or a MarianMT-style "
                              "translation model", exit_code=EXIT_SPEC_ERROR)
        if base.folder is not None and not any((base.folder / w).exists() for w in _WEIGHTS):
            raise self._error(f"the model folder '{ref}' has no weights ({' or '.join(_WEIGHTS[::2])})")
        tokenizer, why = base.load_tokenizer()
        if tokenizer is None:
            raise self._error(f"the model '{ref}' cannot be used: {why}")
        fingerprint = folder_fingerprint(base.folder) if base.folder is not None else f"hub:{base.hub_id}@{base.revision}"
        model = LocalModel(ref, base, fingerprint, tokenizer, config, languages=_languages(tokenizer),
                           generation_limit=_generation_limit(base))
        self.models[ref] = model
        return model

    def _resolve(self, ref: str) -> BaseModel:
        try:
            return resolve_base(ref, self.base_dir)
        except FinetuneError as err:
            if err.missing:
                where = self.base_dir / ref
                raise self._error(f"the model '{ref}' was not found: no folder {where} (dsc never downloads; "
                                  "for a hub model write \"org/name@revision\" and fetch it once with "
                                  "huggingface-cli download)") from None
            raise self._error(f"the model '{ref}': {err.message}", exit_code=EXIT_SPEC_ERROR) from None

    def _config(self, base: BaseModel, ref: str):
        try:
            return base.load_config()
        except FinetuneError as err:
            if err.missing and base.hub_id is not None:
                raise self._error(f"the model '{ref}' is not in the local Hugging Face cache (dsc never downloads; "
                                  f"fetch it once: huggingface-cli download {base.hub_id} --revision "
                                  f"{base.revision})") from None
            raise self._error(f"the model '{ref}' cannot be read: {err.message}",
                              exit_code=EXIT_INPUT_ERROR if err.missing else EXIT_SPEC_ERROR) from None

    def _error(self, message: str, exit_code: int = EXIT_INPUT_ERROR, code: str = "DSC306") -> RunError:
        return RunError(f"{self.rule.id}: {message}; nothing was generated", exit_code, code=code, line=self.rule.line)

    def before_calls(self) -> None:
        """Load every model's weights (only when some generation is not cached): a damaged weights
        file stops the run before the first generation."""
        for model in self.models.values():
            _load_weights(model, self.rule)

    # ── generation ────────────────────────────────────────────────────────────────────────
    def _for(self, request: Request) -> LocalModel:
        if request.task == "paraphrase":
            return self.models[self.rule.model]
        return self.models[self._pair_ref(request.source, request.target)]

    def _input(self, request: Request, model: LocalModel) -> str:
        if request.task == "paraphrase":
            return model.prefix + request.text
        return request.text if self.per_pair else f">>{request.target}<< {request.text}"

    def key_parts(self, request: Request) -> dict[str, Any]:
        model = self._for(request)
        return {"backend": "local", "task": request.task, "pair": [request.source, request.target],
                "model": model.fingerprint, "settings": model.settings, "input": self._input(request, model)}

    def run(self, requests: list[Request], emit: Callable[[int, Result], None]) -> None:
        """Generate in batches per model, shortest texts together (less padding)."""
        groups: dict[str, list[int]] = {}
        for i, r in enumerate(requests):
            groups.setdefault(self._for(r).ref, []).append(i)
        for ref, indices in groups.items():
            model = self.models[ref]
            _load_weights(model, self.rule)
            texts = {i: self._input(requests[i], model) for i in indices}
            order = sorted(indices, key=lambda i: (len(texts[i]), i))
            for start in range(0, len(order), BATCH):
                batch = order[start:start + BATCH]
                try:
                    outputs = _generate(model, [texts[i] for i in batch])
                except (RuntimeError, ValueError, IndexError) as err:  # the model itself broke: every batch would
                    first = (str(err).strip() or type(err).__name__).splitlines()[0]
                    raise RunError(f"{self.rule.id}: the model '{ref}' failed while "
                                   f"generating ({type(err).__name__}: {first}); generations made before it are "
                                   "kept in the cache", code="DSC306", line=self.rule.line) from None
                for i, text in zip(batch, outputs):
                    emit(i, Result(text))


def _paraphrase_prefix(config) -> str:
    params = (getattr(config, "task_specific_params", None) or {}).get("paraphrase") or {}
    if isinstance(params.get("prefix"), str):
        return params["prefix"]
    return T5_PREFIX if getattr(config, "model_type", "") in ("t5", "mt5", "umt5", "longt5") else ""


def _generation_limit(base: BaseModel) -> int | None:
    """`max_new_tokens` from the model's generation_config.json, when it sets one."""
    from transformers import GenerationConfig

    try:
        config = GenerationConfig.from_pretrained(base.source, local_files_only=True)
    except (OSError, ValueError):
        return None  # no generation_config.json: the model sets no limit of its own
    value = getattr(config, "max_new_tokens", None)
    return int(value) if isinstance(value, int) and value > 0 else None


def _languages(tokenizer) -> frozenset[str]:
    """The target languages a multilingual Marian-style tokenizer names with `>>lang<<` tokens."""
    found = set()
    for token in tokenizer.get_vocab():
        match = _LANG_TOKEN.match(token)
        if match:
            found.add(match.group(1))
    return frozenset(found)


def folder_fingerprint(folder: Path) -> str:
    """A sha256 over a model folder's files: relative names, sizes and contents (sampled when huge).

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "config.json").write_text("{}")
    >>> a = folder_fingerprint(d); _ = (d / "config.json").write_text('{"x": 1}')
    >>> a != folder_fingerprint(d)
    True
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(folder).as_posix()}\0{size}\0".encode())
        with open(path, "rb") as fh:
            if size <= _FULL_HASH_LIMIT:
                digest.update(fh.read())
            else:
                digest.update(fh.read(_SAMPLE))
                fh.seek(size - _SAMPLE)
                digest.update(fh.read(_SAMPLE))
    return "sha256:" + digest.hexdigest()


# Loaded weights, kept for the process (a benchmark or test runs the same model many times).
_LOADED: dict[tuple[str, str], Any] = {}
_KEEP = 2


def _load_weights(model: LocalModel, rule: AugmentRule) -> None:
    if model.model is not None:
        return
    key = (model.base.source, model.fingerprint)
    if key not in _LOADED:
        import transformers
        from transformers import AutoModelForSeq2SeqLM

        bars = transformers.utils.logging.is_progress_bar_enabled()
        transformers.utils.logging.disable_progress_bar()  # the CLI shows its own progress
        try:
            loaded = AutoModelForSeq2SeqLM.from_pretrained(model.base.source, local_files_only=True,
                                                           trust_remote_code=False)
        except (OSError, ValueError) as err:
            first = (str(err).strip() or type(err).__name__).splitlines()[0]
            raise RunError(f"{rule.id}: the model '{model.ref}' could not be loaded: {first}", code="DSC306",
                           line=rule.line) from None
        finally:
            if bars:
                transformers.utils.logging.enable_progress_bar()
        loaded.eval()
        while len(_LOADED) >= _KEEP:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = loaded
    model.model = _LOADED[key]


def _generate(model: LocalModel, texts: list[str]) -> list[str]:
    import torch

    tokenizer = model.tokenizer
    limit = tokenizer.model_max_length if tokenizer.model_max_length < 100_000 else DEFAULT_MAX_INPUT
    positions = getattr(model.config, "max_position_embeddings", None)
    limit = min(limit, int(positions)) if positions else limit  # learned positions cap the input too
    encoded = tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=limit)
    encoded.pop("token_type_ids", None)
    with torch.inference_mode():
        output = model.model.generate(**encoded, **model.settings)
    return [t.strip() for t in tokenizer.batch_decode(output, skip_special_tokens=True)]
