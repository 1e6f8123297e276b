"""`sample rows N [from SOURCE, …]` / `sample fraction F [from SOURCE, …]` — keep a seeded,
stable sample of the rows.

Every row gets a **rank**: the 64-bit xxh3 hash of its row id (`_dsc_id`) seeded with the dataset's
`seed` (and a domain word per operator, so `sample` and `cap` rank rows independently of each
other and of the split). The rank depends on nothing but the seed and the row's id, so which rows
a rule keeps is the same with 1 or N workers, on Ray, and whatever order the rows arrive in:

- `sample fraction F` keeps a row when its rank, read as a position in [0, 1), is below F (the
  bound is `floor(F * 2**64)`, exact). A row's fate depends on itself alone: adding rows never
  changes whether another row is kept, and a larger F keeps every row a smaller one keeps.
  About F of the rows are kept (binomially), not exactly F. `F` may be written `0.1` or `10%`.
- `sample rows N` keeps the N rows of lowest rank (all of them when there are N or fewer), so
  exactly N — the bottom-N of a random permutation fixed by the seed. A larger N keeps every row
  a smaller one keeps.

Ties of rank (rows sharing an id: content ids of identical rows) are broken by the row id, then
by where the row was read (`_dsc_src`), so the choice never depends on row order.

`from SOURCE, …` restricts the rule to the rows read from those sources (`source NAME { … }`
blocks); rows of other sources pass untouched. One rule per source gives a **mixture** with fixed
proportions: `sample rows 8000 from web` and `sample rows 2000 from books` make a 80/20 mix of
10 000 rows. A row's source is known from where it was read: the file (or hub dataset) in its
`_dsc_src`, matched against the files the named sources read.

Rows not kept go to the rejects with the reason "sampled out: …", counted in the funnel like any
dropped row. On Ray the rule runs on the driver: `rows` needs every row's rank at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dsc import ast
from dsc.diagnostics import error
from dsc.ops.base import Operator, Params, cols, operator
from dsc.ops.runtime import Outcome, RunError, split_rows
from dsc.syntax.write import listing, opt, words

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


MAX_ROWS = 10**12  # more rows than any table one run holds: a bound, so no number is unbounded


@dataclass(frozen=True)
class SampleRule(ast.Node):
    """`sample rows N [from source, …]` / `sample fraction F [from source, …]`."""

    mode: ast.Name = ast.keyword("rows", "fraction")
    amount: ast.Num
    sources: tuple[ast.Name, ...] = ast.unique()  # empty: every row


@operator
class Sample(Operator):
    name = keyword = "sample"
    effect = "drops rows"
    node = SampleRule
    grammar = "sample_stmt"
    reads = ()
    distributed = "driver: `sample rows` ranks every row at once"

    class Params(Params):
        mode: Literal["rows", "fraction"]
        rows: int | None = None
        fraction: Decimal | None = None
        sources: list[str] = []  # the sources the rule samples; empty: every row
        files: list[str] = []  # their file patterns, as written
        hubs: list[str] = []  # their hub datasets, as `_dsc_src` names them

    @classmethod
    def build(cls, b, tree, ch):
        return SampleRule(b.leaf(ch[0].children[0]), b.leaf(ch[1]), b.leaf(ch[2]) if ch[2] is not None else (),
                          span=b.span(tree))

    @classmethod
    def fmt(cls, n):
        return words("sample", n.mode, n.amount, opt("from", listing(n.sources) if n.sources else None))

    @classmethod
    def check(cls, rule):
        amount = rule.amount
        if rule.mode.value == "rows":
            if amount.percent or amount.value != amount.value.to_integral_value() or not 1 <= amount.value <= MAX_ROWS:
                return [error("DSC209", f"'sample rows' needs a whole number of rows from 1 to {MAX_ROWS:.0e}, not "
                                        f"{words(amount)}", amount.span,
                              "e.g. sample rows 10000; for a share of the rows write sample fraction 0.1")]
            return []
        if not 0 < amount.fraction <= 1:
            return [error("DSC209", f"'sample fraction' needs a fraction above 0 and at most 1, not {words(amount)}",
                          amount.span, "e.g. sample fraction 0.1 (or 10%)")]
        return []

    @classmethod
    def check_in_spec(cls, rule, spec):
        """Every source named after `from` is declared in the spec (DSC203)."""
        declared = [b.name.value for b in spec.of(ast.SourceBlock)]
        return [error("DSC203", f"unknown source '{s.value}'", s.span,
                      f"the spec's sources are {', '.join(declared)}" if declared else "declare it: source NAME { … }")
                for s in rule.sources if s.value not in declared]

    @classmethod
    def compile(cls, rule, env):
        sources = ast.names(rule.sources)
        blocks = {s.name: s for s in getattr(env, "sources", ())}
        files = [f for name in sources if name in blocks for f in blocks[name].files]
        hubs = [_hub_label(blocks[name].hub) for name in sources if name in blocks and blocks[name].hub]
        raw = {"mode": rule.mode.value, "sources": sources, "files": files, "hubs": hubs}
        if rule.mode.value == "rows":
            raw["rows"] = int(rule.amount.value)
        else:
            raw["fraction"] = rule.amount.fraction
        return raw, ",".join(sources) or rule.mode.value

    @classmethod
    def describe(cls, p):
        what = f"{p['rows']} rows" if p["mode"] == "rows" else f"a fraction {p['fraction']} of the rows"
        return f"keep {what}{' of ' + cols(p['sources']) if p['sources'] else ''}, chosen by seeded hash of the row id"

    @classmethod
    def strictness(cls, old, new):
        """A smaller sample of the same rows keeps a subset of a larger one's (the ranks are fixed)."""
        if (old["mode"], old["sources"]) != (new["mode"], new["sources"]):
            return None
        a, b = (old["rows"], new["rows"]) if old["mode"] == "rows" else (old["fraction"], new["fraction"])
        return (a > b) - (a < b)

    @classmethod
    def apply(cls, table: pa.Table, params: dict, ctx) -> Outcome:
        import numpy as np

        scope = in_sources(table, params, Path(ctx.base_dir))
        ranks = row_ranks(table, ctx.seed, b"dsc-sample\x00")
        drop = np.zeros(table.num_rows, dtype=bool)
        where = f" of {', '.join(params['sources'])}" if params["sources"] else ""
        if params["mode"] == "fraction":
            bound = fraction_bound(params["fraction"])
            drop = scope & (ranks >= np.uint64(bound)) if bound < 2 ** 64 else drop
            reason = f"sampled out: outside the fraction {params['fraction']}{where} kept (seed {ctx.seed})"
        else:
            candidates = np.flatnonzero(scope)
            n = params["rows"]
            if candidates.size > n:
                order = rank_order(table, ranks, candidates)
                drop[candidates[order[n:]]] = True
            reason = f"sampled out: not among the {n} rows{where} kept of {int(candidates.size)} (seed {ctx.seed})"
        return split_rows(table, drop, reason)


def _hub_label(hub) -> str:
    from dsc.io.hub import hub_label
    from dsc.io.model import HubRef

    return hub_label(HubRef(hub.id, split=hub.split, revision=hub.revision, config=hub.config))


def fraction_bound(fraction: Decimal) -> int:
    """floor(fraction * 2**64), exactly: the ranks below it are kept.

    >>> fraction_bound(Decimal("0.5")) == 2 ** 63, fraction_bound(Decimal(1)) == 2 ** 64
    (True, True)
    """
    return int(Fraction(fraction) * 2 ** 64)


def row_ranks(table: pa.Table, seed: int, domain: bytes) -> np.ndarray:
    """The uint64 rank of every row: xxh3-64 of `domain` + its id, seeded with `seed`."""
    import numpy as np
    import pyarrow as pa
    import xxhash

    from dsc.reserved import ID

    ids = table.column(ID).cast(pa.large_binary()).to_pylist()
    digest = xxhash.xxh3_64_intdigest
    mask = 2 ** 64 - 1
    return np.fromiter((digest(domain + (i or b""), seed & mask) for i in ids), dtype=np.uint64, count=len(ids))


def rank_order(table: pa.Table, ranks: np.ndarray, rows: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """The positions in `rows` sorted by (group, rank, row id, where read): an order that depends
    on the rows themselves, never on where they stand in the table."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from dsc.reserved import ID, SRC

    picked = pa.array(rows)
    keys = {"r": pa.array(ranks[rows]), "i": table.column(ID).take(picked)}
    if SRC in table.column_names:
        keys["s"] = table.column(SRC).take(picked)
    if groups is not None:
        keys = {"g": pa.array(groups[rows]), **keys}
    order = pc.sort_indices(pa.table(keys), sort_keys=[(k, "ascending") for k in keys])
    return order.to_numpy()


def in_sources(table: pa.Table, params: dict, base_dir: Path) -> np.ndarray:
    """Bool per row: read from one of the rule's sources (every row when it names none)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from dsc.reserved import SRC

    if not params["sources"]:
        return np.ones(table.num_rows, dtype=bool)
    if SRC not in table.column_names:
        raise RunError(f"'sample … from {', '.join(params['sources'])}' needs to know where each row was read, "
                       "and these rows do not say", code="DSC302")
    labels = set(params["hubs"])
    if params["files"]:
        from dsc.io import SourceError
        from dsc.io.sources import expand

        try:
            labels |= {label for _, label in expand(tuple(params["files"]), base_dir)}
        except SourceError as err:
            raise RunError(str(err), code=err.code, hint=err.hint) from None
    origin = pc.replace_substring_regex(table.column(SRC), r"[:#][0-9]+$", "")
    return pc.fill_null(pc.is_in(origin, value_set=pa.array(sorted(labels), pa.string())), False).to_numpy(
        zero_copy_only=False)
