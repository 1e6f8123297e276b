"""The laws every operator keeps, as one function each operator's test file calls on its own
parameters and data (tests/ops/test_<op>.py):

- conservation: every input row is either kept or removed, once, with a reason;
- workers: the same bytes with 1 or 2 worker processes (the table really split in two);
- a map keeps every row and its order; only the declared columns change.

It also holds the one spec builder the operator tests share (`spec`, `compile_spec`, `compiled`), so a
test writes only its schema and rules and every rule sits at a line the test can predict.
"""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from dsc.api import Compiled, compile_text
from dsc.ops import OPERATORS, runtime
from dsc.ops.runtime import Outcome, RunContext
from dsc.reserved import ID
from dsc.syntax.source import SourceFile


def table(**columns) -> pa.Table:
    """A table with row ids r0, r1, … and the given columns."""
    n = len(next(iter(columns.values())))
    return pa.table({ID: [f"r{i}" for i in range(n)], **columns})


def apply(op: str, tbl: pa.Table, params: dict, workers: int = 1) -> Outcome:
    """Run an operator as the engine does: parameters completed and validated by its Params."""
    full = OPERATORS[op].Params(**params).model_dump(mode="python")
    return OPERATORS[op].apply(tbl, full, RunContext(base_dir=Path("."), workers=workers))


def assert_laws(op: str, tbl: pa.Table, params: dict, monkeypatch) -> Outcome:
    """Check the laws on one input; return the 1-worker outcome for the test's own assertions."""
    one = apply(op, tbl, params)
    ids = tbl.column(ID).to_pylist()
    kept, removed = one.table.column(ID).to_pylist(), one.removed.column(ID).to_pylist()
    assert sorted(kept + removed) == sorted(ids), "every row is kept or removed, once"
    assert all(one.removed.column("_dsc_reason").to_pylist()), "every removed row has a reason"
    monkeypatch.setattr(runtime, "PARALLEL_MIN_ROWS", 2)  # 2 workers really split the table
    two = apply(op, tbl, params, workers=2)
    assert two.table.equals(one.table) and two.removed.equals(one.removed), "1 and 2 workers agree"
    if OPERATORS[op].effect == "changes values":
        assert kept == ids, "a map keeps every row, in order"
        changed = set(OPERATORS[op].columns_of(OPERATORS[op].Params(**params).model_dump()))
        for name in tbl.column_names:
            if name not in changed:
                assert one.table.column(name).equals(tbl.column(name)), f"{name} is not the rule's to change"
    return one


def spec(schema: dict[str, str] | str, *rules: str, locale: str | None = None) -> str:
    """The text of a one-source spec (dataset d, seed 1, source s reading rows.jsonl) with `rules` in its
    clean block. `schema` maps column names to types, or is written `"a: text, n: int"`.

    The layout is fixed so tests can assert where a rule is: with k columns the first rule is on line
    10 + k, one line later with a locale.

    >>> print(spec("a: text", 'strip a suffix "x"', locale="en_US"), end="")
    dataset d version 1 {
      seed 1
      locale en_US
    }
    source s {
      files "rows.jsonl"
    }
    schema {
      a : text
    }
    clean {
      strip a suffix "x"
    }
    """
    if isinstance(schema, str):
        schema = dict((part.split(":")[0].strip(), part.split(":")[1].strip()) for part in schema.split(","))
    head = "dataset d version 1 {\n  seed 1\n" + (f"  locale {locale}\n" if locale else "") + "}\n"
    columns = "".join(f"  {name} : {kind}\n" for name, kind in schema.items())
    clean = "".join(f"  {rule}\n" for rule in rules)
    return f'{head}source s {{\n  files "rows.jsonl"\n}}\nschema {{\n{columns}}}\nclean {{\n{clean}}}\n'


def compile_spec(text: str, path: str = "x.dspec", base_dir: Path | None = None) -> Compiled:
    """Check and compile spec text as `dsc check` does; the result may hold errors (tests of checks)."""
    return compile_text(SourceFile(path, text), base_dir=base_dir)


def compiled(text: str, path: str = "x.dspec", base_dir: Path | None = None) -> Compiled:
    """Compile spec text that must have no error: the test fails here, with the diagnostics, if it has."""
    got = compile_spec(text, path, base_dir)
    assert got.ok and not [d for d in got.diagnostics if d.is_error], got.diagnostics
    return got


def dsc(*args):
    """Run the command line in-process, as a user types it; a crash (anything but an exit) fails here.

    The command line is imported on first use, so the operator tests that never run it do not pay
    for importing it."""
    from typer.testing import CliRunner

    from dsc.commands import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result
