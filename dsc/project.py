"""The project a spec belongs to: the folder its paths may not leave.

It is the nearest folder at or above the spec's folder that holds one of MARKERS (the spec's own
folder when none does). The checks refuse a path that leaves it (`dsc.checks.paths`, DSC218), the
run refuses a file that resolves outside it (`dsc.engines.permissions`), and `dsc init` writes
its paths inside it (`dsc.profile.init`).
"""
from __future__ import annotations

from pathlib import Path

MARKERS = (".git", "pyproject.toml", "dsc.toml")


def project_root(base_dir: Path | str) -> Path:
    """The nearest folder at or above `base_dir` that holds `.git`, `pyproject.toml` or `dsc.toml`
    (`base_dir` itself, resolved, when there is none): paths may not leave it.

    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> base = Path(tmp.name).resolve()
    >>> (base / "dsc.toml").touch(); (base / "specs").mkdir()
    >>> project_root(base / "specs") == base
    True
    >>> tmp.cleanup()
    """
    base = Path(base_dir).resolve()
    for folder in (base, *base.parents):
        if any((folder / marker).exists() for marker in MARKERS):
            return folder
    return base
