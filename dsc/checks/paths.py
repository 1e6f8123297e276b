"""Paths a spec names: inside the project (DSC218), and — when the spec's folder is known —
the files read at compile time exist (DSC211 for the labelled-pairs file, DSC212 otherwise).

Paths are relative to the spec's folder. An absolute path would make a spec mean different
things on different machines, and is refused whatever the operating system's spelling
(`/x`, `C:\\x`, `\\\\server\\x`, `~/x`). `..` is allowed while the path stays inside the
project (the nearest folder above the spec with `.git`, `pyproject.toml` or `dsc.toml`), so a
spec in `specs/` can read `../examples/data/…`; a path that climbs out is refused. Without
the spec's folder (text compiled on its own) only the lexical checks apply. A path that exists
and is — or passes through — a symlink leading out of the project is refused too (resolving a
link reads no file), and so is one that is, or passes through, a symlink loop; a data pattern's
matches are only known at run time, where `dsc.engines.permissions` and `dsc.io.sources.expand`
check them.
"""
from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Iterator

from dsc import ast
from dsc.checks.common import clean_rules, error
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic
from dsc.engines import layout

_ABSOLUTE = re.compile(r"^(/|\\|~|[A-Za-z]:)")
_GLOB = re.compile(r"[*?\[]")
_WRITTEN = ("export path", "task file")  # outputs: under the run's output folder, not the spec's
_HINT = "paths resolve inside the project; write it relative to the spec's folder"
_LOOP = "a symlink loop"
_LOOP_HINT = "remove the link, or point it at a file or folder"
_OUTPUT_HINT = ("outputs are relative to the --out folder; give each export and task file a path of its own, "
                "clear of the run's own files")


def unsafe(path: str, base_dir: Path | None = None, root: Path | None = None) -> str | None:
    """Why `path` may not be used, or None when it is a relative path inside the project.

    >>> unsafe("data/*.jsonl"), unsafe("/etc/passwd")
    (None, 'it is absolute')
    >>> unsafe("../data/x.json", Path("/p/specs"), Path("/p")), unsafe("../../x", Path("/p/specs"), Path("/p"))
    (None, "it leaves the project with '..'")
    """
    if not path.strip():
        return "it is empty"
    if _ABSOLUTE.match(path):
        return "it is absolute"
    if base_dir is not None and root is not None and ".." in re.split(r"[/\\]", path):
        resolved = Path(os.path.normpath(Path(base_dir) / path.replace("\\", "/")))
        if not resolved.is_relative_to(root):
            return "it leaves the project with '..'"
    return None


def link_loop(path: Path) -> Path | None:
    """The symlink in a loop on the way to `path` (`path` itself, or a folder above it), or None
    (`Path.resolve` raises a RuntimeError for one, `os.stat` ELOOP).

    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> base = Path(tmp.name)
    >>> (base / "a").symlink_to("b"); (base / "b").symlink_to("a")
    >>> link_loop(base / "a" / "x.jsonl") == base / "a", link_loop(base / "missing"), link_loop(base)
    (True, None, None)
    >>> tmp.cleanup()
    """
    for step in (*reversed(path.parents), path):
        try:
            os.stat(step)
        except OSError as exc:
            return step if exc.errno == errno.ELOOP else None
    return None


def linked_out(path: str, base_dir: Path, root: Path) -> str | None:
    """Why the symlinks on the way to `path` (no glob) forbid it: one of them is in a loop, or they
    lead it out of the project; None when neither (or when it does not exist)."""
    if _GLOB.search(path):
        return None
    target = base_dir / path.replace("\\", "/")
    loop = link_loop(target)
    if loop is not None:
        return f"it is {_LOOP}" if loop == target else \
            f"it passes through '{Path(os.path.relpath(loop, base_dir)).as_posix()}', {_LOOP}"
    if os.path.lexists(target) and not Path(os.path.realpath(target)).is_relative_to(root):
        return "a symlink leads it out of the project"
    return None


def hint(why: str, otherwise: str) -> str:
    """The hint for a path refused for `why`: how to mend a symlink loop, else `otherwise`."""
    return _LOOP_HINT if why.endswith(_LOOP) else otherwise


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

