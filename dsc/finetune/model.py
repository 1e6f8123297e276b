"""The base model a finetune block names: found on disk, never downloaded.

`base "PATH"` is a folder relative to the spec's folder holding the model's `config.json`
(and, optionally, its tokenizer files; weights are not needed for any estimate).
`base "org/name@revision"` is a Hugging Face hub model pinned to a revision; it is read from
the local Hugging Face cache only (its snapshot folder there), so a model that was never fetched
is a clear error that says how to fetch it — dsc itself does not touch the network. transformers
is only ever given an absolute folder, never an id, which it would first look for as a folder
under the working directory (`dsc.hub_ids`). Remote code in a model's folder is never run
(`trust_remote_code=False`): a spec is data, not code.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from dsc.finetune.errors import FinetuneError
from dsc.hub_ids import model_id_problem, repo_id_problem

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "tokenizer.model")
# The files a tokenizer may be read from (transformers' names for them): what `tokenizer_fingerprint`
# hashes. Not the weights, and not the chat template, which changes no count of a text's tokens.
_TOKENIZER_NAMES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                    "vocab.json", "vocab.txt", "merges.txt")
_TOKENIZER_SUFFIXES = (".model", ".tiktoken")  # sentencepiece (tokenizer.model, spiece.model, …), tiktoken


@dataclass(frozen=True)
class BaseModel:
    """Where the base model's files are: a local folder, or a hub id at a revision in the cache."""

    ref: str
    folder: Path | None = None
    hub_id: str | None = None
    revision: str | None = None

    @cached_property
    def source(self) -> str:
        """What `from_pretrained` is given: the folder, or the hub model's snapshot folder in the local
        Hugging Face cache — an absolute path either way; LocalEntryNotFoundError (an OSError) when
        the cache lacks the model at that revision."""
        if self.folder is not None:
            return str(self.folder)
        from huggingface_hub import snapshot_download

        return snapshot_download(self.hub_id, revision=self.revision, local_files_only=True)

    def load_config(self):
        """The model's transformers config, from the folder or the local cache."""
        from transformers import AutoConfig

        try:
            return AutoConfig.from_pretrained(self.source, local_files_only=True, trust_remote_code=False)
        except OSError as err:
            raise self._missing("config.json", err) from None
        except ValueError as err:  # an unknown model_type, or a config that needs remote code
            raise FinetuneError("DSC203", f"base model '{self.ref}': {_first_line(err)}", setting="base",
                                hint="use a model type this version of transformers knows") from None

    def has_tokenizer_files(self) -> bool:
        """Whether the model's folder (or, for a hub model, its snapshot in the cache) holds tokenizer
        files: what `load_tokenizer` asks before it loads anything. OSError when the cache lacks it."""
        folder = self.folder if self.folder is not None else Path(self.source)
        return any((folder / f).exists() for f in _TOKENIZER_FILES)

    def tokenizer_fingerprint(self) -> str:
        """sha256 of the tokenizer's files (`tokenizer_files`), as `sha256:HEX`; what a plan pins a
        `tokens()` rule to, so that the plan changes when the tokenizer does. OSError when a file
        cannot be read, or the cache lacks the model.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = (Path(d) / "tokenizer.json").write_text("{}")
        ...     base = BaseModel("m", folder=Path(d))
        ...     before = base.tokenizer_fingerprint()
        ...     _ = (Path(d) / "model.safetensors").write_text("weights")
        ...     same = base.tokenizer_fingerprint() == before
        ...     _ = (Path(d) / "tokenizer.json").write_text('{"added_tokens": []}')
        ...     before[:15], same, base.tokenizer_fingerprint() == before
        ('sha256:4e9686f3', True, False)
        """
        import hashlib

        folder = self.folder if self.folder is not None else Path(self.source)
        listing = "".join(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n"
                          for path in tokenizer_files(folder))
        return "sha256:" + hashlib.sha256(listing.encode()).hexdigest()

    def load_tokenizer(self):
        """The model's tokenizer, or None (with the reason) when it has no tokenizer files."""
        from transformers import AutoTokenizer

        if self.folder is not None and not self.has_tokenizer_files():
            return None, f"no tokenizer files in {self.ref}"
        try:
            return AutoTokenizer.from_pretrained(self.source, local_files_only=True, trust_remote_code=False), None
        except (OSError, ValueError, TypeError) as err:
            return None, f"the tokenizer of {self.ref} could not be loaded ({_first_line(err)})"

    def _missing(self, what: str, err: Exception) -> FinetuneError:
        if self.hub_id is not None:
            return FinetuneError(
                "DSC307", f"base model '{self.ref}' is not in the local Hugging Face cache", setting="base",
                hint=f"dsc never downloads; fetch it once: huggingface-cli download {self.hub_id} "
                     f"--revision {self.revision}", missing=True)
        return FinetuneError("DSC307", f"base model folder '{self.ref}' has no readable {what} "
                                       f"({_first_line(err)})", setting="base", missing=True)


def resolve_base(ref: str | None, spec_dir: Path) -> BaseModel:
    """The BaseModel a `base` setting names, relative to the spec's folder.

    An existing folder wins; otherwise `org/name@revision` is a hub id; anything else is a
    folder that is not there (exit 4). A hub id without a revision is refused: a spec must
    name the exact model it was estimated for.

    >>> resolve_base("gpt2-org/tiny@0123abc", Path(".")).hub_id
    'gpt2-org/tiny'
    """
    if not ref:
        raise FinetuneError("DSC212", "the finetune block has no 'base' model", setting=None,
                            hint='add: base "models/NAME" (a folder next to the spec) or base "org/name@revision"')
    folder = spec_dir / ref
    if os.path.isdir(folder):  # False, not an error, for a name too long to be a folder
        if not (folder / "config.json").is_file():
            raise FinetuneError("DSC307", f"base model folder '{ref}' has no config.json", setting="base",
                                hint="the folder must hold the model's config.json (weights are not needed)",
                                missing=True)
        return BaseModel(ref, folder=folder.resolve())
    if "@" in ref:
        why = model_id_problem(ref)
        if why is not None:
            raise FinetuneError("DSC209", f"base '{ref}' is not a hub id at a revision: {why}", setting="base",
                                hint='write it as base "org/name@revision"')
        name, _, revision = ref.partition("@")
        return BaseModel(ref, hub_id=name, revision=revision)
    hint = f"looked for the folder {folder}"
    if repo_id_problem(ref) is None:
        hint += f"; for a hub model, pin a revision: base \"{ref}@REVISION\""
    raise FinetuneError("DSC307", f"base model '{ref}' not found", setting="base", hint=hint, missing=True)


def tokenizer_files(folder: Path) -> list[Path]:
    """The files of `folder` a tokenizer is read from, sorted by name: transformers' tokenizer files
    (`tokenizer.json`, `tokenizer_config.json`, `vocab.json`, `merges.txt`, a sentencepiece `.model`,
    …), and `config.json` when `tokenizer_config.json` names no `tokenizer_class` (transformers
    then picks the class from the config's model type). Weights and the chat template are left out.
    """
    import json

    names = [p for p in sorted(Path(folder).iterdir(), key=lambda p: p.name) if p.is_file() and (
        p.name in _TOKENIZER_NAMES or p.suffix in _TOKENIZER_SUFFIXES)]
    try:
        settings = json.loads((Path(folder) / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        settings = {}
    named = isinstance(settings, dict) and settings.get("tokenizer_class")
    if not named and (Path(folder) / "config.json").is_file():
        names = sorted([*names, Path(folder) / "config.json"], key=lambda p: p.name)
    return names


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
