"""`conflicts on cols -> target resolve POLICY [else POLICY]` — rows that share a key but disagree."""
from __future__ import annotations

from typing import Literal

from dsc import ast
from dsc.ops.base import Operator, Params, cols, operator
from dsc.ops.runtime import Outcome, removed_rows, text_column
from dsc.reserved import ID
from dsc.syntax.write import listing, opt, words

_DROPS = {"flag": 0, "first": 1, "majority": 1, "drop": 2}


@operator
class Conflicts(Operator):
    name = keyword = "conflicts"
    effect = "drops rows"
    node = ast.Conflicts
    grammar = "conflicts_stmt"
    reads = ("columns", "target")
    distributed = "keyed"

    class Params(Params):
        columns: list[str]
        target: str
        resolve: Literal["majority", "first", "drop", "flag"]
        otherwise: Literal["drop", "flag"] | None = None

    @classmethod
    def build(cls, b, tree, ch):
        # children: names, ARROW, target, resolve, else
        return ast.Conflicts(b.leaf(ch[0]), b.leaf(ch[2]), b.leaf(ch[3]), b.leaf(ch[4]), span=b.span(tree))

    @classmethod
    def fmt(cls, n):
        return words("conflicts on", listing(n.columns), "->", n.target, "resolve", n.resolve, opt("else", n.otherwise))

    @classmethod
    def compile(cls, rule, env):
        params = {"columns": ast.names(rule.columns), "target": rule.target.value, "resolve": rule.resolve.value,
                  "otherwise": rule.otherwise.value if rule.otherwise else None}
        return params, f"{','.join(params['columns'])}->{params['target']}"

    @classmethod
    def describe(cls, p):
        tail = f", else {p['otherwise']}" if p.get("otherwise") else ""
        return f"rows sharing {cols(p['columns'])} that disagree on {p['target']}: resolve by {p['resolve']}{tail}"

    @classmethod
    def apply(cls, table, params, ctx):
        """Find key groups whose rows disagree on the target and resolve each by the policy;
        every group's decision is logged, whatever it was."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from dsc.kernels.exact import duplicate_groups

        group = duplicate_groups([table.column(c) for c in params["columns"]])
        value = duplicate_groups([table.column(params["target"])])
        pairs = np.unique(np.stack([group, value], axis=1), axis=0)
        distinct = np.bincount(pairs[:, 0], minlength=table.num_rows)
        # A row with a null key part shares its key with nobody.
        keyed = np.ones(table.num_rows, dtype=bool)
        for c in params["columns"]:
            keyed &= ~pc.is_null(table.column(c)).to_numpy(zero_copy_only=False)
        in_conflict = (distinct[group] > 1) & keyed
        ids = table.column(ID).to_pylist()
        targets = text_column(table, params["target"]).to_pylist()
        keys = [table.column(c).to_pylist() for c in params["columns"]]
        drop = np.zeros(table.num_rows, dtype=bool)
        reasons: dict[int, str] = {}
        flags, decisions = [], []
        rows_of: dict[int, list[int]] = {}
        for i in np.flatnonzero(in_conflict):
            rows_of.setdefault(int(group[i]), []).append(int(i))
        for head, rows in sorted(rows_of.items(), key=lambda kv: ids[kv[0]]):
            # In the order the rows were read (a row's index is its place in the input: every stage
            # keeps that order, and the Ray engine resolves a group sorted by input position), so
            # `resolve first` keeps the row read first, as `keep first` does.
            decision, losers = _resolve(params, [targets[i] for i in rows])
            summary = (f"conflict: {len(rows)} rows share {cols(params['columns'])} but disagree on "
                       f"{params['target']}; {decision}")
            for pos in losers:
                drop[rows[pos]] = True
                reasons[rows[pos]] = summary
            if "flagged" in decision:
                flags += [{"row_id": ids[i], "reason": summary} for i in rows]
            counts: dict[str, int] = {}
            for i in rows:
                counts[_short(targets[i])] = counts.get(_short(targets[i]), 0) + 1
            decisions.append({
                "key": {c: _short(keys[k][head]) for k, c in enumerate(params["columns"])},
                "values": [{"value": v, "rows": c} for v, c in sorted(counts.items(), key=_null_first)],
                "rows": [ids[i] for i in rows],
                "kept": [ids[rows[p]] for p in range(len(rows)) if p not in losers], "decision": decision,
            })
        dropped = np.flatnonzero(drop)
        removed = removed_rows(table, drop, [reasons[i] for i in dropped],
                               [ids[group[i]] for i in dropped], None)
        return Outcome(table.filter(pa.array(~drop)), removed, flags, decisions)

    @classmethod
    def strictness(cls, old, new):
        if {k: v for k, v in old.items() if k != "resolve"} != {k: v for k, v in new.items() if k != "resolve"}:
            return None
        a, b = _DROPS[old["resolve"]], _DROPS[new["resolve"]]
        return 0 if a == b else 1 if b > a else -1


def _null_first(item):
    return (item[0] is not None, item[0] or "")


def _short(value) -> str | None:
    """A key or target value for the decision log: text (a number as written), cut at 200 characters."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 200 else text[:200] + "…"


def _resolve(params, values: list) -> tuple[str, set[int]]:
    """(decision text, positions of the rows to drop) for one conflict group in the order its rows were read."""
    policy = params["resolve"]
    everyone = set(range(len(values)))
    if policy == "drop":
        return "all dropped", everyone
    if policy == "first":
        return "kept the first row read", everyone - {0}
    if policy == "flag":
        return "flagged, all kept", set()
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    best = max(counts.values())
    winners = [v for v, c in counts.items() if c == best]
    if len(winners) == 1:
        return (f"kept the majority value ({best} of {len(values)} rows)",
                {i for i, v in enumerate(values) if v != winners[0]})
    if params.get("otherwise") == "flag":
        return "no majority: flagged, all kept", set()
    return "no majority: all dropped", everyone
