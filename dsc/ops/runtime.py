"""What operators share at run time: the outcome of a step and the family base classes.

A family base owns the loop, the counting and the rejects; an operator writes only its own
logic: a row filter returns a drop mask, a column map returns new column values, a dedupe
operator returns a cluster label per row. Operators derive from these classes, so this
module is imported when a spec is compiled: numpy and pyarrow are imported inside the
functions that run rows, never at import time.
"""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsc.errors import DscError, Location
from dsc.exitcodes import EXIT_INPUT_ERROR
from dsc.reserved import CLUSTER, DUPLICATE_OF, ID, REASON, SIMILARITY

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

# Below this many rows a process pool costs more than it saves.
PARALLEL_MIN_ROWS = 20_000


class RunError(DscError):
    """A problem found while running that is the spec's or the data's, not a bug.

    `exit_code` follows the CLI's named codes: 2 for the spec, 4 for input data; `code`, `hint`,
    `line` (of the spec) and `location` are `DscError`'s."""

    default_code = "DSC302"

    def __init__(self, message: str, exit_code: int = EXIT_INPUT_ERROR, *, code: str | None = None,
                 hint: str | None = None, line: int = 0, location: Location | None = None):
        super().__init__(message, code=code, hint=hint, line=line, location=location, exit_code=exit_code)


@dataclass
class RunContext:
    """What a step may know about the run: where relative paths resolve, the seed, workers."""

    base_dir: Path
    seed: int = 0
    workers: int = 1
    cache_dir: Path | None = None  # the engine's stage cache folder: a rule may keep what it derived there


@dataclass
class Outcome:
    """The rows a step kept, and for every row it removed: why, and which row it duplicates."""

    table: pa.Table
    removed: pa.Table  # the removed rows (data, id, source) with dsc.reserved.REMOVED_FIELDS attached
    flags: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    # Where the rows came from, when the step knows: the input position of every kept row and of
    # every removed row (numpy int64). The stage cache stores a result as positions into its input
    # plus the columns that changed; given these, it need not search the input for each row's id.
    positions: tuple[np.ndarray, np.ndarray] | None = None
    # With `positions`: True when every column the rows share with the input holds the input's
    # values at those positions (rows filtered, nothing changed), so the cache need not compare them.
    unchanged: bool = False


def split_rows(table: pa.Table, drop: np.ndarray, reason: str | list[str], *, kept: pa.Table | None = None,
               flags: list[dict[str, Any]] | None = None, workers: int = 1, **removed: Any) -> Outcome:
    """The outcome of removing the `drop` rows of `table` (a numpy bool mask) for `reason` (one, or
    one per removed row; `removed` holds `removed_rows`' cluster, duplicate_of and similarity).
    `kept`: the kept rows' values when the step also changed them (a table with `table`'s rows,
    which `drop` filters); by default they are `table`'s.

    `workers`: threads that copy the kept values (`dsc.kernels.select.filter_table`, which gives
    the same arrays with any number); the removed rows are gathered beside them."""
    import numpy as np

    from dsc.kernels.select import filter_table

    drop = np.asarray(drop, dtype=bool)
    kept_values = kept
    kept = table if kept is None else kept
    if not drop.any():  # a filter that keeps every row would still copy every value
        gone = removed_rows(table, drop, reason, **removed)
    elif workers > 1 and table.num_rows >= PARALLEL_MIN_ROWS:
        with ThreadPoolExecutor(1) as pool:  # Arrow's filter and the kernels release the GIL
            gone = pool.submit(removed_rows, table, drop, reason, **removed)
            kept = filter_table(kept, ~drop, workers)
            gone = gone.result()
    else:
        kept = filter_table(kept, ~drop)
        gone = removed_rows(table, drop, reason, **removed)
    return Outcome(kept, gone, flags or [], positions=(np.flatnonzero(~drop), np.flatnonzero(drop)),
                   unchanged=kept_values is None)


def removed_rows(table: pa.Table, mask: np.ndarray, reason: str | list[str],
                 cluster: list[str | None] | None = None, duplicate_of: list[str | None] | None = None,
                 similarity: np.ndarray | None = None) -> pa.Table:
    """The rows of `table` selected by `mask`, with their reason (and cluster, survivor and
    similarity: a dedupe's) attached."""
    import pyarrow as pa

    picked = table.filter(pa.array(mask, type=pa.bool_()))
    n = picked.num_rows
    extra = {  # one reason for all: repeated by Arrow, not a list of n Python strings
        REASON: pa.array(reason, type=pa.string()) if isinstance(reason, list) else
        pa.repeat(pa.scalar(reason, pa.string()), n),
        CLUSTER: pa.array(cluster if cluster is not None else [None] * n, type=pa.string()),
        DUPLICATE_OF: pa.array(duplicate_of if duplicate_of is not None else [None] * n, type=pa.string()),
        SIMILARITY: pa.array(similarity if similarity is not None else [None] * n, type=pa.float64(),
                             from_pandas=True),  # NaN (no similarity) as null
    }
    for name, arr in extra.items():
        picked = picked.append_column(name, arr)
    return picked


def _slices(table: pa.Table, parts: int) -> list[pa.Table]:
    size = -(-table.num_rows // parts)
    return [table.slice(i, size) for i in range(0, table.num_rows, size)] or [table]


class RowOperator:
    """Family base for row-wise operators: each row is decided on its own, so the table can be
    cut into contiguous slices for N worker processes and put back together in order — the
    result is the same bytes with 1 or N workers.

    A subclass defines `transform(table, params, ctx)` returning a new table (a map),
    `(drop_mask, reason)` (a filter), or an `Outcome` (a map that also removes or flags
    rows: the kept table, the removed rows with their reasons, and the flags). The slices'
    flags are joined in slice order, which is row order."""

    distributed = "rows"

    @classmethod
    def pool(cls, params: dict) -> str:
        """How the slices run on N workers: "processes" (the default: each slice is pickled to a
        process, for rules whose work is Python code, which holds the GIL) or "threads" (no copy
        at all, for rules whose work is Arrow compute or compiled kernels, which release it)."""
        return "processes"

    @classmethod
    def apply(cls, table: pa.Table, params: dict, ctx: RunContext) -> Outcome:
        import pyarrow as pa

        if ctx.workers > 1 and table.num_rows >= PARALLEL_MIN_ROWS:
            executor = ThreadPoolExecutor if cls.pool(params) == "threads" else ProcessPoolExecutor
            with executor(ctx.workers) as pool:
                slices = _slices(table, ctx.workers)
                parts = list(pool.map(cls._apply_slice, slices, [params] * ctx.workers, [ctx] * ctx.workers))
            kept = pa.concat_tables([p.table for p in parts])
            removed = pa.concat_tables([p.removed for p in parts])
            return Outcome(kept, removed, [f for p in parts for f in p.flags], positions=_joined(parts, slices),
                           unchanged=all(p.unchanged for p in parts))
        return cls._apply_slice(table, params, ctx)

    @classmethod
    def _apply_slice(cls, table: pa.Table, params: dict, ctx: RunContext) -> Outcome:
        import numpy as np
        import pyarrow as pa

        result = cls.transform(table, params, ctx)
        if isinstance(result, Outcome):
            return result
        if isinstance(result, pa.Table):
            return split_rows(table, np.zeros(result.num_rows, dtype=bool), "", kept=result)
        mask, reason = result
        return split_rows(table, mask, reason)


def _joined(parts: list[Outcome], slices: list[pa.Table]):
    """The slices' positions as positions into the whole table (None if a slice has none)."""
    import numpy as np

    if any(p.positions is None for p in parts):
        return None
    starts = np.cumsum([0] + [s.num_rows for s in slices[:-1]])
    return tuple(np.concatenate([p.positions[k] + start for p, start in zip(parts, starts)]) for k in (0, 1))


class DedupeOperator:
    """Family base for duplicate removal: the subclass finds clusters; the base chooses each
    cluster's survivor by the declared keep rule and records, for every removed row, its cluster,
    the row it duplicates and (a similarity dedupe's) how similar the two are.

    Keep rules go by the rule's key, then source order (`dsc.kernels.survivors`): a row's index
    in the table is its place in the order rows were read, because every stage keeps that order
    (and the Ray engine sorts each group it resolves by input position). So `keep first` keeps
    the row read first, and the choice is the same with 1 or N workers and on Ray.

    A subclass defines one of:
    - `clusters(table, params, ctx)`: a label per row, the smallest row index of its cluster, for
      clusters of equal rows (exact, fuzzy);
    - `stars(table, params, ctx, order)`: given the rows in keep order (most preferred first),
      each row's cluster center and its similarity to it (NaN for a center). Clusters are
      formed around the most preferred rows, each member similar to its center, so the center
      is the cluster's survivor and every removed row is similar to the row it names (near)."""

    reason: str = "duplicate"
    stars = None  # a classmethod in a subclass that forms clusters in keep order

    @classmethod
    def apply(cls, table: pa.Table, params: dict, ctx: RunContext) -> Outcome:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from dsc.kernels.survivors import keep_order, survivors

        keep = params["keep"]
        ids = table.column(ID)
        lengths = by = None
        if keep in ("longest", "shortest"):
            lengths = np.zeros(table.num_rows, dtype=np.int64)
            for col in params["columns"]:
                lengths += pc.fill_null(pc.utf8_length(_as_text(table.column(col), col)), 0).to_numpy(
                    zero_copy_only=False)
        if keep == "by":
            by = table.column(params["keep_by"])
        rule = {"lengths": lengths, "by": by, "descending": params.get("descending", True), "row_ids": ids}
        similarity = None
        if cls.stars is not None:
            cluster, similarity = cls.stars(table, params, ctx, keep_order(keep, table.num_rows, **rule))
        else:
            cluster = cls.clusters(table, params, ctx)
        survivor = survivors(cluster, keep, **rule)
        index = np.arange(table.num_rows)
        drop = survivor != index
        dropped = np.flatnonzero(drop)
        # Ids gathered by Arrow, not a Python object per row: a cluster is named by its label row.
        cluster_ids = _combined(ids.take(pa.array(cluster[dropped])))
        whole = survivor[dropped] < 0  # keep none
        # `keep first` over first-row labels (exact, fuzzy): each survivor is its cluster's label row
        dup_of = cluster_ids if np.array_equal(survivor[dropped], cluster[dropped]) else \
            _combined(ids.take(pa.array(np.maximum(survivor[dropped], 0), mask=whole)))
        reasons = [cls.reason + (" (keep none: whole cluster dropped)" if w else "") for w in whole.tolist()] \
            if whole.any() else cls.reason
        return split_rows(table, drop, reasons, cluster=cluster_ids, duplicate_of=dup_of, workers=ctx.workers,
                          similarity=None if similarity is None else similarity[dropped])


def _combined(col):
    """One array (`pa.array` would copy a chunked array value by value)."""
    return col.combine_chunks() if hasattr(col, "combine_chunks") else col


def _as_text(col: pa.ChunkedArray | pa.Array, name: str = "column"):
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return col
    try:
        return pc.cast(col, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        raise RunError(f"column '{name}' holds {col.type} values, not text; declare it in the schema "
                       "or use a text column here", code="DSC303") from None


def text_column(table: pa.Table, name: str):
    """A column as strings (casting numbers and booleans is exact, never a guess)."""
    return _as_text(table.column(name), name)


def joined_text(table: pa.Table, columns: list[str]):
    """Several text columns joined by newlines (nulls as empty), for similarity over a record."""
    import pyarrow.compute as pc

    cols = [pc.fill_null(text_column(table, c), "") for c in columns]
    if len(cols) == 1:
        return cols[0]
    return pc.binary_join_element_wise(*cols, "\n")
