"""Hub and model ids (DSC209, DSC218): each names a repository on the Hugging Face hub or a folder
inside the project, and nothing else.

`datasets.load_dataset("x")` and transformers' `from_pretrained("x")` first look for a folder `x`
under the *working directory*, wherever dsc happens to run. So dsc never hands them an id: a folder
of the project goes to them as its absolute path, a hub dataset as `hf://datasets/OWNER/NAME`, which
the loader resolves on the hub or in its cache only (`dsc.io.hub.loader_path`), and a hub model as
its snapshot folder in the local Hugging Face cache (`dsc.finetune.model.BaseModel.source`). This
pass says at check time what a run would refuse:

- `hub "ID"` is a hub repository id `owner/name` (`dsc.hub_ids.repo_id_problem`), or a folder
  relative to the spec's folder (`dsc.io.hub.local_folder`; a folder of that name wins);
- `using "REF"` (augment) and `base "REF"` (finetune) are a folder relative to the spec's folder
  (an existing folder wins), or a hub model `owner/name@revision` (`dsc.finetune.model.resolve_base`);
  in `using`, `{src}` and `{tgt}` stand for language codes;
- a path of either kind stays inside the project (`dsc.paths.unsafe`), with no symlink out
  of it nor in a loop on the way (`dsc.paths.linked_out`).

Without the spec's folder (text checked on its own) no folder can be looked for, so only the
rules that need none apply.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from dsc import ast
from dsc.checks.common import error
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic
from dsc.hub_ids import model_id_problem, repo_id_problem
from dsc.paths import hint, linked_out, unsafe

_DATASET_HINT = 'write a hub dataset as "owner/name", or name a folder relative to the spec\'s folder'
_MODEL_HINT = 'write a hub model as "owner/name@revision", or name a folder relative to the spec\'s folder'
_LANGUAGE = "xx"  # what `{src}` / `{tgt}` stand for when a `using` id is checked


def check_hub_ids(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Every hub dataset id and model id is a hub id or a folder in the project (DSC209), and a path
    of either stays inside the project (DSC218)."""
    base = Path(ctx.base_dir).resolve() if ctx.base_dir is not None else None
    root = ctx.project_root
    out: list[Diagnostic] = []
    for value in _dataset_ids(spec):
        why = _path_problem(value.value, base, root)
        if why is not None:
            out.append(error("DSC218", f"hub dataset '{value.value}' is not allowed: {why}", value.span,
                             hint(why, _DATASET_HINT)))
            continue
        why = repo_id_problem(value.value)
        if why is not None and base is not None and not os.path.isdir(base / value.value):
            out.append(error("DSC209", f"hub dataset '{value.value}' is neither a hub id nor a folder in the "
                                       f"project: {why}", value.span, _DATASET_HINT))
    for value, what, sample in _model_refs(spec):
        out += _model_ref(value, what, sample, base, root)
    return out


def _model_ref(value: ast.Str, what: str, sample: str, base: Path | None, root: Path | None) -> list[Diagnostic]:
    """`value` (a model id; `sample` is it with language codes put in) as `resolve_base` reads it."""
    ref = value.value
    why = _path_problem(ref, base, root)
    if why is not None:
        return [error("DSC218", f"{what} path '{ref}' is not allowed: {why}", value.span, hint(why, _MODEL_HINT))]
    if "@" not in ref or base is None or os.path.isdir(base / ref):
        return []  # a folder inside the project: the run says whether it holds a model
    why = model_id_problem(sample)
    if why is None:
        return []
    return [error("DSC209", f"{what} '{ref}' is not a hub id at a revision: {why}", value.span, _MODEL_HINT)]


def _path_problem(path: str, base: Path | None, root: Path | None) -> str | None:
    """Why `path`, read as a path, would leave the project or meet a symlink loop (DSC218), or None."""
    why = unsafe(path, base, root)
    if why is None and base is not None:
        why = linked_out(path, base, root)
    return why


def _dataset_ids(spec: ast.Spec) -> Iterator[ast.Str]:
    for block in spec.of(ast.SourceBlock):
        yield from (stmt.id for stmt in block.body if isinstance(stmt, ast.Hub))


def _model_refs(spec: ast.Spec) -> Iterator[tuple[ast.Str, str, str]]:
    """(id, what it is, the id with `{src}` / `{tgt}` filled in) for every `using` and `base`."""
    for block in spec.of(ast.AugmentBlock):
        for rule in block.rules:
            for opt in rule.options:
                if opt.key == "using" and isinstance(opt.value, ast.Str):
                    sample = opt.value.value.replace("{src}", _LANGUAGE).replace("{tgt}", _LANGUAGE)
                    yield opt.value, "model", sample
    for block in spec.of(ast.FinetuneBlock):
        for setting in block.settings:
            value = setting.values[0] if setting.name.value == "base" and setting.values else None
            if isinstance(value, ast.Str):
                yield value, "base model", value.value
