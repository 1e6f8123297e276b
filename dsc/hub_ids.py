"""Hub ids: a dataset `owner/name`, a model `owner/name@revision`.

A bare name is refused: `datasets.load_dataset("x")` and transformers' `from_pretrained("x")`
first look for a folder `x` under the *working directory*, and a bare name is also a builder's
name (`json`). The checks say so at the id in the spec (`dsc.checks.hub_ids`, DSC209); the hub
reader (`dsc.io.hub`) and the finetune model resolver (`dsc.finetune.model`) apply the same rules
when they run.
"""
from __future__ import annotations


def repo_id_problem(text: str) -> str | None:
    """Why `text` is not a hub repository id `owner/name`, or None: it needs an owner (a bare name
    is also a builder's name, e.g. `json`, which reads the working directory) and must pass
    huggingface_hub's own `validate_repo_id`.

    >>> repo_id_problem("tatsu-lab/alpaca") is None, repo_id_problem("secret_ds")
    (True, 'a hub id is owner/name')
    >>> repo_id_problem("org/na..me")
    "Cannot have -- or .. in repo_id: 'org/na..me'."
    """
    if text.count("/") != 1:
        return "a hub id is owner/name"
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(text)
    except HFValidationError as err:
        return str(err)
    return None


def model_id_problem(ref: str) -> str | None:
    """Why `ref` is not a hub model id `owner/name@revision`, or None.

    >>> model_id_problem("gpt2-org/tiny@0123abc") is None, model_id_problem("gpt2-org/tiny@")
    (True, "it names no revision after '@'")
    """
    name, at, revision = ref.partition("@")
    if not at:
        return "it names no revision (owner/name@revision)"
    return repo_id_problem(name) or (None if revision else "it names no revision after '@'")
