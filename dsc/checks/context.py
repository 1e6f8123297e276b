"""What the checks may know besides the AST itself."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dsc.project import project_root


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
        """The project of the spec (`dsc.project.project_root`), None without `base_dir`:
        paths may not leave it."""
        return None if self.base_dir is None else project_root(self.base_dir)
