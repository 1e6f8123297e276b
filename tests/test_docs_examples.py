"""The spec examples in the docs parse: every fenced block (untagged or ```dspec) whose first
word is a block keyword is run through the parser, so a syntax change cannot leave the docs
showing a spec that no longer reads. Fragments are not checked further (they lack a source)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsc.syntax.load import parse
from dsc.syntax.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = ("dataset", "source", "schema", "clean", "annotate", "split", "augment", "export", "gate", "finetune")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def _examples() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            lang, body = match.groups()
            words = body.split(None, 1)
            if lang in ("", "dspec") and words and words[0] in BLOCKS:
                line = text.count("\n", 0, match.start()) + 2
                found.append((f"{path.relative_to(ROOT).as_posix()}:{line}", body))
    return found


EXAMPLES = _examples()


def test_the_docs_have_examples():
    assert len(EXAMPLES) >= 15, [where for where, _ in EXAMPLES]


@pytest.mark.parametrize("where, body", EXAMPLES, ids=[where for where, _ in EXAMPLES])
def test_a_docs_example_parses(where, body):
    spec, diagnostics = parse(SourceFile(where, body))
    errors = [f"{d.span.line}:{d.span.column}: {d.message}" for d in diagnostics if d.severity == "error"]
    assert spec is not None and not errors, errors
