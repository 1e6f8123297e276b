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

    def load_tokenizer(self):
        """The model's tokenizer, or None (with the reason) when it has no tokenizer files."""
        from transformers import AutoTokenizer

        if self.folder is not None and not any((self.folder / f).exists() for f in _TOKENIZER_FILES):
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


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
