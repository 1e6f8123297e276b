"""The names dsc adds to rows and records (`_dsc_id`, `_dsc_rule`, …) are spelled once, in
`dsc.reserved`: everywhere else in dsc/ uses its constants, so a rename or a new reject field
cannot miss a copy. Docstrings (and their doctests) and comments may still show the names."""
import ast
from pathlib import Path

from dsc import reserved

ROOT = Path(__file__).resolve().parent.parent / "dsc"


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and its functions."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def reserved_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of each string literal in code that starts with the reserved prefix (parts of
    f-strings included; docstrings and comments left out)."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    return sorted((node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
                  and node.value.startswith(reserved.RESERVED_PREFIX))


def test_reserved_names_are_spelled_only_in_dsc_reserved():
    found = [f"{path.relative_to(ROOT.parent)}:{line}: {text!r}" for path in sorted(ROOT.rglob("*.py"))
             if path != ROOT / "reserved.py" for line, text in reserved_literals(path.read_text(encoding="utf-8"))]
    assert found == [], "use the constants of dsc.reserved:\n" + "\n".join(found)


def test_the_check_sees_literals_and_skips_docstrings():
    source = ('"""A `"_dsc_id"` in a docstring."""\n'
              'def f(t):\n    """>>> f({"_dsc_id": 1})"""\n'
              '    return t["_dsc_rule"], f"_dsc_{t}", "environment._dsc_iterate"  # "_dsc_row"\n')
    assert reserved_literals(source) == [(4, "_dsc_"), (4, "_dsc_rule")]


def test_the_names_are_reserved_and_distinct():
    names = [v for k, v in vars(reserved).items() if k.isupper() and isinstance(v, str)]
    assert all(n.startswith(reserved.RESERVED_PREFIX) for n in names)
    assert len(names) == len(set(names))
    assert set(reserved.REJECT_FIELDS) <= set(names) and len(set(reserved.REJECT_FIELDS)) == len(reserved.REJECT_FIELDS)
    assert set(reserved.AUG_PROVENANCE) <= set(names)
    assert all(n.startswith(reserved.AUG_PREFIX) for n in reserved.AUG_PROVENANCE)


def test_the_module_imports_nothing():
    """The compile-time checks use it, and must not load pyarrow to do so."""
    tree = ast.parse((ROOT / "reserved.py").read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                and not (isinstance(n, ast.ImportFrom) and n.module == "__future__")]


def test_every_rejects_table_has_the_reject_fields_in_order():
    """Both engines, the source readers and augmentation build rejects through dsc.engines.rejects."""
    import numpy as np
    import pyarrow as pa

    from dsc.augment.rows import rejected_table
    from dsc.engines.rejects import REJECT_SCHEMA, empty_rejects, rejects_from_records, tag_removed
    from dsc.ops.runtime import removed_rows

    assert REJECT_SCHEMA.names == list(reserved.REJECT_FIELDS)
    rows = pa.table({"q": ["a", ""], reserved.ID: ["r1", "r2"], reserved.SRC: ["f:1", "f:2"]})
    removed = removed_rows(rows, np.array([False, True]), "q is empty")
    assert removed.column_names[-len(reserved.REMOVED_FIELDS):] == list(reserved.REMOVED_FIELDS)
    tagged = tag_removed(removed, "drop[q]", 3)
    assert tagged.to_pylist() == [{reserved.ID: "r2", reserved.RULE: "drop[q]", reserved.LINE: 3,
                                   reserved.REASON: "q is empty", reserved.CLUSTER: None,
                                   reserved.DUPLICATE_OF: None, reserved.SIMILARITY: None, reserved.SRC: "f:2",
                                   reserved.ROW: '{"q": ""}'}]
    read = rejects_from_records([{reserved.ID: "r3", reserved.RULE: "source:s", reserved.LINE: 1,
                                  reserved.REASON: "not JSON", reserved.SRC: "f:3", reserved.ROW: "{"}])
    for table in (tagged, read, empty_rejects(), rejected_table(None, None, [])):
        assert table.schema.equals(REJECT_SCHEMA)
