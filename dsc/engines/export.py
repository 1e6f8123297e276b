"""Export: one file (or `save_to_disk` folder) per split, in the shape a trainer takes.

`export FORMAT "PATH" [shape SHAPE | template "FILE"]`

- **Paths** are relative to the run's output directory (`dsc run --out DIR`); `{split}` is
  replaced by the split's name. A path that is absolute, climbs out of the output directory,
  lands on one of the run's own files or meets another output's path is an error, found by
  `dsc check` and again before the run starts (`dsc.engines.layout`).
- **Formats**: `parquet`, `jsonl` (one JSON object per line, keys in column order) and `hf_disk`
  (`datasets.Dataset.save_to_disk`, read back with `datasets.load_from_disk`).
- **Shapes** (`dsc.engines.shapes` lists them, with the columns each reads):
  without a shape, the data columns and the row id `_dsc_id`;
  `instruction` writes Alpaca's `instruction`, `input`, `output`;
  `chat` writes `messages`, a list of `{role, content}` (TRL's conversational language modeling):
  an optional `system` message, the `user` turn and the `assistant` turn;
  `prompt_completion` writes TRL's standard `prompt` and `completion` strings;
  `chat_prompt_completion` writes TRL's conversational prompt-completion: `prompt` the messages
  before the answer (an optional `system` message and the `user` turn), `completion` the
  `assistant` message alone;
  `preference` writes TRL's standard `prompt`, `chosen`, `rejected` (for DPO).
  They read the same columns, the first one present of each list in `FIELDS`: the instruction
  from `instruction`, `prompt`, `question` or `query`; the input (optional; missing or null means
  "") from `input` or `context`; the output from `output`, `response`, `completion` or `answer`;
  `chosen` and `rejected` from the columns of those names. The user turn (and a string prompt) is
  the instruction, then a blank line and the input when there is one; a string prompt starts with
  the `system` text and a blank line when the row has one. Data that already has a `messages`
  column is written as it is by the chat shape.
- **Templates** (path relative to the spec's folder) render each row to the `text` column (the
  field SFTTrainer reads by default) in a sandboxed, immutable jinja2 environment: the row's
  columns are variables (`row` is the whole row, `split` its split); an unknown name is an
  error before any row renders, a null renders as "", and reaching Python internals
  (`x.__class__`, `list.append`) is refused.

Every export is shaped (and every template rendered) before any file is written, so a shape
that cannot be made stops the run with nothing written. The files are then written by their
writers (`ExportFile.writers`), a slice of rows at a time (`write_parquet`, `_write_jsonl`): a
split's file is never held in memory whole, nor its table copied whole into one chunk.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dsc.engines.layout import export_path
from dsc.engines.shapes import FIELDS, SHAPES, column_for, missing_fields, reads
from dsc.errors import Location
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR
from dsc.ops.runtime import RunError
from dsc.plan import ExportPlan
from dsc.reserved import ID, RESERVED_PREFIX

# Parquet as dsc writes it (kept.parquet and exports): zstd writes text a third smaller than the
# default snappy, in less time, and every parquet reader (pyarrow, pandas, polars, duckdb, Spark,
# Hugging Face `datasets`) reads it; row groups of PARQUET_ROWS rows.
PARQUET_CODEC = "zstd"
PARQUET_ROWS = 1 << 16


def write_parquet(table: pa.Table, sink: BinaryIO) -> None:
    """`table` as a parquet file, a row group of `PARQUET_ROWS` rows at a time.

    Parquet's bytes depend on how a column is cut into chunks, which the worker count (how a
    table was cut and re-joined) must not change: each row group is one slice of fixed rows,
    made one chunk, so the bytes depend on the rows alone — and only one slice is copied at a
    time, where combining the whole table first copied all of it."""
    with pq.ParquetWriter(sink, table.schema, compression=PARQUET_CODEC) as writer:
        for start in range(0, table.num_rows, PARQUET_ROWS):
            writer.write_table(table.slice(start, PARQUET_ROWS).combine_chunks(), row_group_size=PARQUET_ROWS)


@dataclass(frozen=True)
class ExportFile:
    """One rendered export: `writers` maps names under `path` (just `""` for a single file) to a
    function that writes that file into an open binary file."""

    split: str
    path: str
    format: str
    rows: int
    writers: dict[str, Callable[[BinaryIO], None]]
    line: int = 0

    def content(self, name: str = "") -> bytes:
        """The bytes of file `name`, rendered in memory (for tests and small exports)."""
        sink = BytesIO()
        self.writers[name](sink)
        return sink.getvalue()


def render_exports(exports: list[ExportPlan], splits: dict[str, pa.Table], base_dir: Path) -> list[ExportFile]:
    """Render every export of every split in memory, in plan order then split order.

    `splits` maps split names to their rows (data columns and `_dsc_id`). The paths are those
    `dsc.engines.outputs.claim` has checked.

    >>> t = pa.table({"prompt": ["2+2?"], "completion": ["4"], "_dsc_id": ["r1"]})
    >>> [f] = render_exports([ExportPlan(format="jsonl", path="{split}.jsonl", shape="chat")], {"train": t}, Path("."))
    >>> f.path, f.content().decode()
    ('train.jsonl', '{"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}\\n')
    """
    rendered = []
    for export in exports:
        template = _template(export, base_dir) if export.template else None
        for name, table in splits.items():
            path = export_path(export.path, name)
            if template is not None:
                shaped = _templated(table, template, export, name)
            else:
                shaped = _shaped(table, export)
            rendered.append(ExportFile(name, path, export.format, shaped.num_rows, _writers(shaped, export.format),
                                       export.line))
    return rendered


def _missing(table: pa.Table, export: ExportPlan, field: str) -> RunError:
    present = ", ".join(c for c in table.column_names if not c.startswith(RESERVED_PREFIX))
    names = FIELDS[field]
    article = "an" if field[0] in "aeiou" else "a"
    where = f", one of {', '.join(names)}" if len(names) > 1 else ""
    return RunError(f"shape {export.shape} needs {article} {field} column{where}; "
                    f"the data has {present or 'no columns'} (rename a column in the source block, or export "
                    f"with a template; {reads()})", code="DSC308", line=export.line)


def _text(column) -> pa.ChunkedArray:
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _field(table: pa.Table, field: str):
    name = column_for(field, table.column_names)
    return _text(table.column(name)) if name is not None else None


def _shaped(table: pa.Table, export: ExportPlan) -> pa.Table:
    if export.shape is None:
        data = [c for c in table.column_names if not c.startswith(RESERVED_PREFIX)] + [ID]
        return table.select(data)
    shape = SHAPES.get(export.shape)
    if shape is None:
        raise RunError(f"unknown export shape '{export.shape}'", exit_code=EXIT_SPEC_ERROR, code="DSC310",
                       line=export.line)
    if shape.as_is is not None and shape.as_is in table.column_names:
        return table.select([shape.as_is])
    for field in missing_fields(export.shape, table.column_names):
        raise _missing(table, export, field)
    instruction = _field(table, "instruction")
    given = _field(table, "input")
    context = pc.fill_null(given, "") if given is not None else pa.chunked_array(
        [pa.array([""] * table.num_rows, pa.string())])
    if export.shape == "instruction":
        return pa.table({"instruction": instruction, "input": context, "output": _field(table, "output")})
    has_input = pc.not_equal(pc.utf8_length(context), 0)
    user = pc.if_else(has_input, pc.binary_join_element_wise(instruction, context, "\n\n"), instruction)
    system = _field(table, "system")
    if export.shape == "chat":
        return pa.table({"messages": _turns(("system", system, False), ("user", user, True),
                                            ("assistant", _field(table, "output"), True))})
    if export.shape == "chat_prompt_completion":
        return pa.table({"prompt": _turns(("system", system, False), ("user", user, True)),
                         "completion": _turns(("assistant", _field(table, "output"), True))})
    prompt = user
    if system is not None:  # a string prompt starts with the system text, where there is one
        has_system = pc.fill_null(pc.not_equal(pc.utf8_length(system), 0), False)
        prompt = pc.if_else(has_system, pc.binary_join_element_wise(pc.fill_null(system, ""), user, "\n\n"), user)
    if export.shape == "prompt_completion":
        return pa.table({"prompt": prompt, "completion": _field(table, "output")})
    return pa.table({"prompt": prompt, "chosen": _field(table, "chosen"), "rejected": _field(table, "rejected")})


def _turns(*turns) -> pa.Array:
    """A list<struct<role, content>> column built from flat arrays (no per-row Python).

    `turns` are (role, column, always) in order; a turn that is not `always` (the system turn)
    is kept only where its column is non-null and non-empty, and left out where the column is
    None. Row i's turns are taken from the concatenation of the columns at i, n+i, 2n+i, ….
    """
    n = next(len(column) for _, column, _ in turns if column is not None)
    keeps, roles, texts = [], [], []
    for role, column, always in turns:
        if column is None:
            keep = np.zeros(n, dtype=bool)
            column = pa.array([None] * n, pa.string())
        elif always:
            keep = np.ones(n, dtype=bool)
        else:
            keep = pc.fill_null(pc.not_equal(pc.utf8_length(column), 0), False).to_numpy(zero_copy_only=False)
        keeps.append(keep)
        roles.append(role)
        texts.append(_flat(column))
    rows = np.arange(n)
    pick = np.stack([k * n + rows for k in range(len(turns))], axis=1)
    keep = np.stack(keeps, axis=1)
    take = pa.array(pick[keep], pa.int64())
    role_column = pa.array(np.repeat(np.array(roles), n), pa.string()).take(take)
    contents = pa.concat_arrays(texts).take(take)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    structs = pa.StructArray.from_arrays([role_column, contents], names=["role", "content"])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), structs)


def _flat(column) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _template(export: ExportPlan, base_dir: Path):
    from jinja2 import StrictUndefined, TemplateSyntaxError

    from dsc.sandbox import DataSandbox

    path = Path(base_dir) / export.template
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise RunError(f"cannot read export template '{export.template}': "
                       f"{getattr(err, 'strerror', None) or err}", code="DSC301", line=export.line) from None
    # A null renders as "" (not "None"); any name the row lacks is an error, never blank text.
    env = DataSandbox(undefined=StrictUndefined, autoescape=False, none_as="")
    try:
        return env, env.parse(source), env.from_string(source)
    except TemplateSyntaxError as err:
        raise RunError(f"template error: {err.message}", exit_code=EXIT_SPEC_ERROR, code="DSC310",
                       location=Location(err.lineno, file=export.template)) from None


def _templated(table: pa.Table, template, export: ExportPlan, split: str) -> pa.Table:
    from jinja2 import TemplateError, UndefinedError, meta

    env, parsed, compiled = template
    data = [c for c in table.column_names if not c.startswith(RESERVED_PREFIX)]
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(env.globals) - set(data) - {"row", "split"})
    if unknown:
        raise RunError(f"export template '{export.template}' uses "
                       f"{', '.join(repr(u) for u in unknown)}, which the data lacks (columns: {', '.join(data)})",
                       code="DSC308", line=export.line)
    ids = table.column(ID).to_pylist()
    texts = []
    for row_id, row in zip(ids, table.select(data).to_pylist()):  # rendering a template is per-row by nature
        try:
            texts.append(compiled.render(row, row=row, split=split))
        except TemplateError as err:  # a name or key the row lacks is the data's (4), the rest the template's
            lacking = isinstance(err, UndefinedError)
            raise RunError(f"export template '{export.template}' failed on row {row_id}: "
                           f"{err.message or type(err).__name__}", exit_code=EXIT_INPUT_ERROR if lacking else EXIT_SPEC_ERROR,
                           code="DSC308" if lacking else "DSC310", line=export.line) from None
        except (TypeError, ValueError, ArithmeticError, LookupError) as err:
            raise RunError(f"export template '{export.template}' failed on row {row_id}: "
                           f"{type(err).__name__}: {err}", exit_code=EXIT_SPEC_ERROR, code="DSC310",
                           line=export.line) from None
    return pa.table({"text": pa.array(texts, pa.string())})


def _writers(table: pa.Table, fmt: str) -> dict[str, Callable[[BinaryIO], None]]:
    table = table.replace_schema_metadata(None)
    if fmt == "jsonl":
        return {"": lambda sink: _write_jsonl(table, sink)}
    if fmt == "parquet":
        return {"": lambda sink: write_parquet(table, sink)}
    if fmt == "hf_disk":
        # One chunk per column: Arrow bytes depend on chunking, which the worker count must not change.
        return {name: (lambda sink, data=data: sink.write(data))
                for name, data in _saved_to_disk(table.combine_chunks()).items()}
    raise RunError(f"unknown export format '{fmt}'", exit_code=EXIT_SPEC_ERROR, code="DSC310")


def _write_jsonl(table: pa.Table, sink: BinaryIO) -> None:
    """One JSON object per row, keys in column order (`instruction, input, output` reads as
    written), a slice of rows at a time."""
    for start in range(0, table.num_rows, PARQUET_ROWS):
        rows = table.slice(start, PARQUET_ROWS).to_pylist()
        sink.write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows).encode("utf-8"))


def _saved_to_disk(table: pa.Table) -> dict[str, bytes]:
    """The files `Dataset.save_to_disk` writes, read back into memory.

    The dataset's fingerprint (stored in state.json) is the hash of its Arrow data rather than
    the random one `datasets` would draw, so the folder is byte-identical run after run.
    """
    import datasets

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    fingerprint = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:16]
    quiet = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        with tempfile.TemporaryDirectory(prefix="dsc-export-") as tmp:
            datasets.Dataset(table, fingerprint=fingerprint).save_to_disk(tmp)
            root = Path(tmp)
            return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    finally:
        if not quiet:
            datasets.enable_progress_bars()
