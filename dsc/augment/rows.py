"""The rows augmentation reads and writes: source rows, generated rows with provenance, rejected generations.

A generated row is its source row (every column, `_dsc_split` included — so a generation never
leaves its source row's split) with the augmented column replaced, the id
`<source id>+<rule id>` (`…@<pivot>` for a back-translation) and provenance columns saying where
it came from. A rejected generation has the shape of a rejected row (`_dsc_id`, `_dsc_rule`,
`_dsc_line`, `_dsc_reason`, `_dsc_src` = the source row's id, `_dsc_row` = the source text, the
generation when there was one, and the pivot, as JSON).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pyarrow as pa

from dsc.engines.rejects import reject_table
from dsc.exitcodes import EXIT_SPEC_ERROR
from dsc.ops.runtime import RunError
from dsc.plan import AugmentRule
from dsc.reserved import (AUG_ENDPOINT, AUG_METHOD, AUG_MODEL, AUG_PIVOT, AUG_PROVENANCE, AUG_RULE, AUG_SOURCE,
                          AUG_TEMPLATE, ID, LINE, REASON, RESERVED_PREFIX, ROW, RULE, SPLIT, SRC)


def generated_id(source_id: str, rule_id: str, pivot: str | None) -> str:
    """The id of a generated row.

    >>> generated_id("a1", "paraphrase[q]", None), generated_id("a1", "backtranslate[q]", "de")
    ('a1+paraphrase[q]', 'a1+backtranslate[q]@de')
    """
    return f"{source_id}+{rule_id}" + (f"@{pivot}" if pivot else "")


class SourceRows:
    """The rows a rule reads: ids, splits and the augmented column's texts (nulls as None)."""

    def __init__(self, table: pa.Table, rule: AugmentRule):
        if rule.column not in table.column_names:
            present = ", ".join(c for c in table.column_names if not c.startswith(RESERVED_PREFIX))
            raise RunError(f"{rule.id} names column '{rule.column}', which the data lacks "
                           f"(columns present: {present})", code="DSC308", line=rule.line)
        kind = table.schema.field(rule.column).type
        # A column that is null in every row reads as type null: text with nothing in it.
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
            raise RunError(f"{rule.id}: column '{rule.column}' holds {kind} values, not text; "
                           "only a text column can be paraphrased or translated", code="DSC303", line=rule.line)
        if SPLIT not in table.column_names:
            raise RunError(f"{rule.id}: augmentation runs inside splits, and the rows have none; "
                           "add a split block", exit_code=EXIT_SPEC_ERROR, code="DSC310", line=rule.line)
        self.table = table
        self.ids: list[str] = table.column(ID).to_pylist()
        self.splits: list[str] = table.column(SPLIT).to_pylist()
        self.texts: list[str | None] = table.column(rule.column).to_pylist()
        self._data = [c for c in table.column_names if not c.startswith(RESERVED_PREFIX)]

    def id(self, i: int) -> str:
        return self.ids[i]

    def data(self, i: int) -> dict:
        """Row `i`'s data columns (what a prompt template sees as `row`)."""
        return self.table.select(self._data).slice(i, 1).to_pylist()[0]


@dataclass(frozen=True)
class Generated:
    """A kept generation: the source row's index, the text, and the pivot (None for a paraphrase)."""

    row: int
    text: str
    pivot: str | None


@dataclass(frozen=True)
class Rejected:
    """A rejected generation: why, and the text when there was one."""

    row: int
    reason: str
    text: str | None
    pivot: str | None


def generated_table(rows: SourceRows, rule: AugmentRule, items: list[Generated], template: str | None) -> pa.Table:
    """The generated rows: source rows with the column replaced, new ids and provenance columns."""
    table = rows.table.take(pa.array([g.row for g in items], pa.int64()))
    column = table.schema.get_field_index(rule.column)
    kind = table.schema.field(rule.column).type
    table = table.set_column(column, rule.column, pa.array([g.text for g in items], kind))
    ids = [generated_id(rows.ids[g.row], rule.id, g.pivot) for g in items]
    table = table.set_column(table.schema.get_field_index(ID), ID, pa.array(ids, pa.string()))
    n = len(items)
    local = rule.backend == "local"
    values = {
        AUG_SOURCE: [rows.ids[g.row] for g in items],
        AUG_RULE: [rule.id] * n,
        AUG_METHOD: [rule.method] * n,
        AUG_MODEL: [rule.model] * n,
        AUG_ENDPOINT: [None if local else rule.endpoint] * n,
        AUG_PIVOT: [g.pivot for g in items],
        AUG_TEMPLATE: [template] * n,
    }
    for name in AUG_PROVENANCE:
        table = table.append_column(name, pa.array(values[name], pa.string()))
    return table


def rejected_table(rows: SourceRows | None, rule: AugmentRule | None, items: list[Rejected]) -> pa.Table:
    """Rejected generations in the shape of the run's rejects."""
    n = len(items)
    src = [rows.ids[r.row] for r in items] if n else []
    return reject_table(n, {
        ID: [generated_id(s, rule.id, r.pivot) for s, r in zip(src, items)],
        RULE: [rule.id] * n if n else [],
        LINE: [rule.line] * n if n else [],
        REASON: [r.reason for r in items],
        SRC: src,
        ROW: [json.dumps({"source": rows.texts[r.row], "generated": r.text, "pivot": r.pivot},
                         sort_keys=True, ensure_ascii=False) for r in items],
    })
