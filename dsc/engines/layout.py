"""The layout of a run's output folder (`dsc run --out DIR`): the names a run keeps for itself, the
paths its exports and task files take, and which of those paths may not meet.

The same rules run twice: in `dsc check` (DSC218 at the path in the spec, `dsc.checks.paths`) and
before a run starts (`dsc.engines.outputs.claim`), so a spec whose outputs would land on one
another, on the run's own files or on a name no file system takes is refused before any row is
read. Every path is checked after `{split}` is replaced by each split the spec declares. Pure:
no file is touched and nothing heavy is imported.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Iterator, Sequence

# The run's own files at the top of the output folder (`augment_rejects.jsonl` with an augment block).
# KEPT_JSONL is written only on request (`dsc run --kept-jsonl`): kept.parquet is the one full copy of
# the kept rows. Its name stays the run's all the same, so a run without the flag removes the one
# an earlier run wrote (a stale copy never sits beside the new rows) and refuses one dsc did not write.
KEPT_JSONL = "kept.jsonl"
RUN_FILES = (KEPT_JSONL, "kept.parquet", "rejects.jsonl", "flags.jsonl", "conflicts.jsonl", "labels.jsonl",
             "stats.json", "report.md", "report.html", "manifest.json")
AUGMENT_REJECTS = "augment_rejects.jsonl"
SHARDS = "shards"  # the ray engine's per-split parquet shards
# dsc's bookkeeping: every name starting with INTERNAL is dsc's in a folder dsc has written.
INTERNAL = ".dsc-"
CACHE = ".dsc-cache"  # stage results and generations, reused by a rerun
STAGING = ".dsc-staging"  # where outputs are written before they are renamed into place
OWNED = ".dsc-owned"  # the paths dsc has written here, and so may replace
LOCK = ".dsc-lock"  # held by the run writing here
# Without a split block every kept row is in this one split (the name `{split}` takes in paths).
WHOLE = "all"
NAME_MAX = 255  # bytes in one file name, on every common file system

_ABSOLUTE = re.compile(r"^(/|\\|~|[A-Za-z]:)")


def reserved(name: str) -> bool:
    """True when a top-level name is the run's own, so no export or task file may take it.

    >>> reserved("kept.jsonl"), reserved(".dsc-anything"), reserved("shards"), reserved("train.jsonl")
    (True, True, True, False)
    """
    return name in RUN_FILES or name in (AUGMENT_REJECTS, SHARDS) or name.startswith(INTERNAL)


def normal(path: str) -> str:
    """A relative output path as the run writes it: `/` between names, `.` and `..` folded.

    >>> normal("./sft//train.jsonl"), normal("a/../b"), normal("a\\\\b")
    ('sft/train.jsonl', 'b', 'a/b')
    """
    return PurePosixPath(os.path.normpath(path.replace("\\", "/"))).as_posix()


def export_path(template: str, split: str) -> str:
    """The path an export writes for one split.

    >>> export_path("sft/{split}.jsonl", "train")
    'sft/train.jsonl'
    """
    return normal(template.replace("{split}", split))


def task_files(path: str) -> tuple[str, str]:
    """The two files a `tasks` path writes: the path, and the other form beside it.

    >>> task_files("todo.jsonl"), task_files("out/todo.json"), task_files("todo")
    (('todo.jsonl', 'todo.json'), ('out/todo.json', 'out/todo.jsonl'), ('todo', 'todo.json'))
    """
    suffix = PurePosixPath(path).suffix
    return path, path[:len(path) - len(suffix)] + (".jsonl" if suffix == ".json" else ".json")


@dataclass(frozen=True)
class Output:
    """One output a spec declares: an export (`folder` for hf_disk, whose folder is written whole)
    or a task file; `where` is the caller's handle for it (an AST node, say)."""

    what: str  # "export path" or "task file"
    path: str  # as written, `{split}` and all
    line: int
    folder: bool = False
    where: Any = None

    def files(self, splits: Sequence[str]) -> Iterator[tuple[str, str]]:
        """(path, how it came from the declared one: '' when it is that one) for each path written;
        a path without `{split}` is one path, whatever the splits (several splits need `{split}`,
        which DSC212 checks)."""
        if self.what == "task file":
            declared, other = task_files(normal(self.path))
            yield declared, ""
            yield other, f"its other form goes to '{other}': "
            return
        for split in dict.fromkeys(splits if "{split}" in self.path else splits[:1]):
            path = export_path(self.path, split)
            yield path, f"for split '{split}' it gives '{path}': " if "{split}" in self.path else ""


def problems(outputs: Sequence[Output], splits: Sequence[str]) -> list[tuple[Output, str]]:
    """Why declared outputs may not be written, as (output, reason) in declaration order, one reason
    per output: it is absolute, leaves the output folder, names the folder itself, has a name over
    NAME_MAX bytes, takes one of the run's own names, or is, holds or lies inside a path an earlier
    output writes.

    >>> hf, js = Output("export path", "x", 2, folder=True), Output("export path", "x/state.json", 3)
    >>> [(o.line, why) for o, why in problems([hf, js], ["all"])]
    [(3, "it is inside 'x', which line 2 writes as a folder")]
    >>> [why for _, why in problems([Output("export path", "{split}.jsonl", 4)], ["kept", "test"])]
    ["for split 'kept' it gives 'kept.jsonl': 'kept.jsonl' is one of the run's own outputs"]
    """
    found: list[tuple[Output, str]] = []
    taken: dict[str, Output] = {}
    for output in outputs:
        for path, how in output.files(splits):
            why = _unfit(path) or _meets(path, output, taken)
            if why:
                found.append((output, how + why))  # the first problem of an output is enough
                break
            taken[path] = output
    return found


def _unfit(path: str) -> str | None:
    if _ABSOLUTE.match(path):
        return "it is absolute"
    parts = path.split("/")
    if path == ".":
        return "it names the output directory itself"
    if parts[0] == "..":
        return "it leaves the output directory"
    for name in parts:
        size = len(name.encode("utf-8", "surrogatepass"))
        if size > NAME_MAX:
            return f"its name '{name[:24]}…' is {size} bytes long; a file name holds at most {NAME_MAX}"
    if reserved(parts[0]):
        return f"'{parts[0]}' is one of the run's own outputs"
    return None


def _meets(path: str, output: Output, taken: dict[str, Output]) -> str | None:
    """Why `path` meets a path an earlier output writes: the same one, inside it, or around it."""
    for other, by in taken.items():
        as_what = " as a folder" if by.folder else ""
        if other == path and by is not output:
            return f"line {by.line} writes '{path}' too"
        if path.startswith(other + "/"):
            return f"it is inside '{other}', which line {by.line} writes{as_what}"
        if other.startswith(path + "/"):
            return f"line {by.line} writes '{other}' inside it"
    return None
