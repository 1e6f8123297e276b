"""The front-end pipeline as one call: read → parse → check → compile."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dsc import ast
from dsc.diagnostics import Diagnostic
from dsc.plan import Plan
from dsc.syntax.load import parse, read_source
from dsc.syntax.source import SourceFile


@dataclass
class Compiled:
    """The result of compiling one spec; `plan` is None when there are errors."""

    source: SourceFile | None
    spec: ast.Spec | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plan: Plan | None = None
    missing: bool = False  # the spec file itself could not be read (exit 4, not 2)

    @property
    def ok(self) -> bool:
        return self.plan is not None


def compile_text(source: SourceFile, base_dir: Path | None = None) -> Compiled:
    """Parse, check and compile spec text.

    >>> c = compile_text(SourceFile("x.dspec", "source s {\\n  files \\"a.jsonl\\"\\n}\\n"))
    >>> c.ok, [d.code for d in c.diagnostics]
    (True, ['DSC212', 'DSC220'])
    """
    from dsc.checks import CheckContext, check
    from dsc.compiler import compile_spec

    spec, diags = parse(source)
    result = Compiled(source, spec, list(diags))
    if spec is None:
        return result
    result.diagnostics += check(spec, CheckContext(base_dir=base_dir))
    if not any(d.is_error for d in result.diagnostics):
        result.plan = compile_spec(spec, base_dir)
    return result


def compile_file(path: str | Path) -> Compiled:
    """Read a spec file and compile it; an unreadable file is a DSC107 diagnostic (exit 4)."""
    source, diags = read_source(path)
    if source is None:
        return Compiled(None, diagnostics=diags, missing=any(d.code == "DSC107" for d in diags))
    return compile_text(source, base_dir=Path(path).resolve().parent)
