"""`redact KINDS in COLS [with "text", …]` — replace personal data in text columns.

KINDS are some of `email`, `phone`, `ip`, `credit_card`, `iban`; what each one matches, and how
it is validated (libphonenumber, `ipaddress`, Luhn, ISO 13616 mod-97), is in dsc.kernels.pii.
Phone numbers written without a country code are read in the region of the dataset's `locale`
(`locale en_GB` → GB), which the plan records.

Each match is replaced by a placeholder: `<EMAIL>`, `<PHONE>`, `<IP>`, `<CREDIT_CARD>`, `<IBAN>`
unless the rule says otherwise with `with`: one string for every kind
(`redact email, phone in text with "[removed]"`), or one per kind, in the order the kinds are
written (`redact email, phone in text with "<mail>", "<tel>"`).

A redaction changes values; it never drops a row. Every row it changes is flagged, with the
number of matches of each kind in each column (never the matched text), so `flags.jsonl` shows
which rows were redacted and `stats.json` counts them per column and kind (`redactions`).
A null stays null.
"""
from __future__ import annotations

from dataclasses import dataclass

from dsc import ast
from dsc.diagnostics import error
from dsc.kernels.pii import KINDS, region_of  # the kernel's imports are light: pyarrow and phonenumbers load late
from dsc.ops.base import Operator, Params, cols, operator
from dsc.ops.runtime import Outcome, RowOperator, removed_rows, text_column
from dsc.syntax.write import listing, opt, words

#: The key of a redact rule's flags holding {column: {kind: matches}}; stats.json sums them.
FLAG_KEY = "redactions"


@dataclass(frozen=True)
class RedactRule(ast.Node):
    """`redact kind, kind in col, col [with "text", …]`."""

    kinds: tuple[ast.Name, ...] = ast.unique()
    columns: tuple[ast.Name, ...] = ast.column("redact", unique=True)
    replacements: tuple[ast.Str, ...] = ()  # empty: the default placeholders


@operator
class Redact(RowOperator, Operator):
    name = keyword = "redact"
    effect = "changes values"
    node = RedactRule
    grammar = "redact_stmt"

    class Params(Params):
        columns: list[str]
        kinds: list[str]
        replacements: dict[str, str] = {}  # by kind; a kind left out gets its default placeholder
        region: str | None = None  # the dataset locale's territory: where national phone numbers are read

    @classmethod
    def build(cls, b, tree, ch):
        return RedactRule(b.leaf(ch[0]), b.leaf(ch[1]), b.leaf(ch[2]) if ch[2] is not None else (),
                          span=b.span(tree))

    @classmethod
    def fmt(cls, n):
        return words("redact", listing(n.kinds), "in", listing(n.columns),
                     opt("with", listing(n.replacements) if n.replacements else None))

    @classmethod
    def check(cls, rule):
        out = []
        for kind in rule.kinds:
            if kind.value not in KINDS:
                out.append(error("DSC203", f"unknown kind of personal data '{kind.value}'", kind.span,
                                 f"the kinds are {', '.join(KINDS)}"))
        if rule.replacements and len(rule.replacements) not in (1, len(rule.kinds)):
            out.append(error("DSC214", f"{len(rule.replacements)} replacements for {len(rule.kinds)} kinds",
                             rule.replacements[0].span,
                             "write one replacement for every kind, or one per kind in the order of the kinds"))
        return out

    @classmethod
    def compile(cls, rule, env):
        columns, kinds = ast.names(rule.columns), ast.names(rule.kinds)
        texts = [s.value for s in rule.replacements]
        replacements = dict(zip(kinds, texts * len(kinds) if len(texts) == 1 else texts))
        return {"columns": columns, "kinds": [k for k in KINDS if k in kinds], "replacements": replacements,
                "region": region_of(env.locale)}, ",".join(columns)

    @classmethod
    def describe(cls, p):
        region = f" (national phone numbers read as {p['region']})" if "phone" in p["kinds"] and p["region"] else ""
        return f"in {cols(p['columns'])}, replace every {', '.join(p['kinds'])} with a placeholder{region}"

    @classmethod
    def transform(cls, table, params, ctx):
        import numpy as np

        from dsc.kernels.pii import redact
        from dsc.reserved import ID

        found: dict[int, dict[str, dict[str, int]]] = {}
        for name in params["columns"]:
            index = table.column_names.index(name)
            column, counts = redact(text_column(table, name), params["kinds"], params["region"],
                                    params["replacements"])
            table = table.set_column(index, name, column)
            for row, kinds in enumerate(counts):
                if kinds:
                    found.setdefault(row, {})[name] = kinds
        ids = table.column(ID).to_pylist() if found else []
        flags = [{"row_id": ids[row], "reason": _reason(found[row]), FLAG_KEY: found[row]} for row in sorted(found)]
        return Outcome(table, removed_rows(table, np.zeros(table.num_rows, dtype=bool), ""), flags)


def _reason(by_column: dict[str, dict[str, int]]) -> str:
    """'redacted 2 email in prompt, 1 phone in answer'."""
    return "redacted " + ", ".join(f"{n} {kind} in {column}" for column, kinds in by_column.items()
                                   for kind, n in kinds.items())


