"""What the checks may know besides the AST itself."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CheckContext:
    """Settings for one run of the checks.

    `base_dir` is the directory of the spec. When it is set, local files the spec reads at
    compile time (the labelled-pairs file, annotation files, templates) are checked to exist —
    by a `stat`, never by reading them. Data files (`files` globs) and outputs (`tasks`,
    export paths) are not checked: they may legitimately not exist yet when a spec is checked.

    >>> CheckContext().base_dir is None
    True
    """

    base_dir: Path | None = None

    @property
    def project_root(self) -> Path | None:
        """The nearest folder at or above `base_dir` that holds `.git`, `pyproject.toml` or
        `dsc.toml` (the spec's own folder when there is none): paths may not leave it."""
        if self.base_dir is None:
            return None
        base = Path(self.base_dir).resolve()
        for folder in (base, *base.parents):
            if any((folder / marker).exists() for marker in (".git", "pyproject.toml", "dsc.toml")):
                return folder
        return base
