"""Paths a spec names: inside the project (DSC218), and — when the spec's folder is known —
the files read at compile time exist (DSC211 for the labelled-pairs file, DSC212 otherwise: an
eval set named without a glob too).

Paths are relative to the spec's folder. An absolute path would make a spec mean different
things on different machines, and is refused whatever the operating system's spelling
(`/x`, `C:\\x`, `\\\\server\\x`, `~/x`). `..` is allowed while the path stays inside the
project (the nearest folder above the spec with `.git`, `pyproject.toml` or `dsc.toml`), so a
spec in `specs/` can read `../examples/data/…`; a path that climbs out is refused. Without
the spec's folder (text compiled on its own) only the lexical checks apply. A path that exists
and is — or passes through — a symlink leading out of the project is refused too (resolving a
link reads no file), and so is one that is, or passes through, a symlink loop; a data pattern's
matches are only known at run time, where `dsc.engines.permissions` and `dsc.io.sources.expand`
check them. The rules themselves, which the run applies too, are in `dsc.paths`.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from dsc import ast
from dsc.checks.common import clean_rules, error
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic
from dsc.engines import layout
from dsc.ops.decontaminate import DecontaminateRule
from dsc.paths import hint, linked_out, unsafe

_GLOB = re.compile(r"[*?\[]")
_WRITTEN = ("export path", "task file")  # outputs: under the run's output folder, not the spec's
_HINT = "paths resolve inside the project; write it relative to the spec's folder"
_OUTPUT_HINT = ("outputs are relative to the --out folder; give each export and task file a path of its own, "
                "clear of the run's own files")


def _paths(spec: ast.Spec) -> Iterator[tuple[ast.Str, str, str | None]]:
    """(path, what it is, the code for a missing file — None when it need not exist yet)."""
    for block in spec.of(ast.SourceBlock):
        for stmt in block.body:
            if isinstance(stmt, ast.Files):
                yield from ((p, "file pattern", None) for p in stmt.patterns)
    for rule in clean_rules(spec):
        if isinstance(rule, ast.Dedupe):
            for opt in rule.options:
                if opt.key == "pairs" and isinstance(opt.values[0], ast.Str):
                    yield opt.values[0], "labelled-pairs file", "DSC211"
        elif isinstance(rule, DecontaminateRule):  # a pattern's matches are the run's to find (DSC301)
            yield from ((p, "eval set", None if _GLOB.search(p.value) else "DSC212") for p in rule.evals)
    for block in spec.of(ast.AnnotateBlock):
        for setting in block.body:
            path = setting.values[0] if setting.values else None
            if setting.key == "from" and isinstance(path, ast.Str):
                yield path, "annotation file", "DSC212"
            elif setting.key == "tasks" and isinstance(path, ast.Str):
                yield path, "task file", None
    for block in spec.of(ast.AugmentBlock):
        for rule in block.rules:
            for opt in rule.options:
                if opt.key == "template" and isinstance(opt.value, ast.Str):
                    yield opt.value, "prompt template", "DSC212"
    for export in spec.of(ast.Export):
        yield export.path, "export path", None
        for opt in export.options:
            if opt.key == "template":
                yield opt.value, "export template", "DSC212"


def check_paths(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Every path is relative and stays inside the project (DSC218), also through symlinks, none
    of which may loop; each export path and task file has a path of its own in the output folder
    (DSC218, after `{split}` takes each split's name: `dsc.engines.layout`).

    With `ctx.base_dir`, the labelled-pairs file (DSC211), annotation files and templates
    (DSC212) must exist; existence is a `stat`, the files are not read. Data globs and
    outputs are not looked for.
    """
    out: list[Diagnostic] = []
    base = Path(ctx.base_dir).resolve() if ctx.base_dir is not None else None
    folders = {id(e.path) for e in spec.of(ast.Export) if e.format.value == "hf_disk"}
    outputs: list[layout.Output] = []
    for path, what, missing_code in _paths(spec):
        why = unsafe(path.value, base, ctx.project_root)
        if why is None and base is not None and what not in _WRITTEN:
            why = linked_out(path.value, base, ctx.project_root)
        if why is not None:
            out.append(error("DSC218", f"{what} '{path.value}' is not allowed: {why}", path.span, hint(why, _HINT)))
        elif what in _WRITTEN:
            if what == "export path" and any(o.path == path.value for o in outputs if o.what == what):
                continue  # an export path written twice word for word is DSC202 (`dsc.checks.names`)
            outputs.append(layout.Output(what, path.value, path.span.line, id(path) in folders, path))
        elif ctx.base_dir is not None and missing_code is not None and not (ctx.base_dir / path.value).exists():
            out.append(error(missing_code, f"{what} '{path.value}' does not exist", path.span,
                             "paths are relative to the spec's folder"))
    for output, why in layout.problems(outputs, _split_names(spec)):
        out.append(error("DSC218", f"{output.what} '{output.path}' is not allowed: {why}", output.where.span,
                         _OUTPUT_HINT))
    return out


def _split_names(spec: ast.Spec) -> list[str]:
    """The names `{split}` takes: the split block's parts (one split of everything without one)."""
    blocks = spec.of(ast.SplitBlock)
    return [part.name.value for part in blocks[0].parts] if len(blocks) == 1 and blocks[0].parts else [layout.WHOLE]

