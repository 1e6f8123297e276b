"""How the plan's rules become Ray Data stages, and how each kind of stage runs.

`plan_stages` cuts the plan into stages of four kinds:

- `rows`: consecutive row-wise rules (the schema check, `drop`, `normalize`, `standardize`),
  fused into one `map_batches` pass — one read of the data for the whole run of them;
- `keyed`: `dedupe exact` or `conflicts`, a shuffle on the key's hash;
- `near`: `dedupe near` (see `ray_near`);
- `driver`: a rule that needs every row at once with no distributed form here, run on the
  driver by the local engine's code, with the reason recorded in the manifest.

Each runner reads `run.ds` (the live rows), and hands its output to `run.absorb`, which keeps
the side records and moves the live rows on.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from dsc.engines.ray_ops import Rule
from dsc.engines.rejects import empty_rejects
from dsc.engines.schema import standardized
from dsc.reserved import BUCKET

if TYPE_CHECKING:
    from dsc.plan import Plan



def plan_stages(plan: Plan) -> list[tuple[str, list[Rule], str]]:
    """(kind, rules, why it runs on the driver — or "") for every stage, in plan order."""
    from dsc.ops import OPERATORS

    stages: list[tuple[str, list[Rule], str]] = []
    fused: list[Rule] = []

    def close_fused() -> None:
        if fused:
            stages.append(("rows", list(fused), ""))
            fused.clear()

    if plan.columns:
        # The local engine's schema stage, with the same inputs.
        annotated = sorted({a.field for a in plan.annotations})
        raw = sorted(standardized(plan))
        schema = Rule("schema", "schema", 0, {"columns": plan.columns, "annotated": annotated, "raw": raw})
        if any(c.unique for c in plan.columns):
            stages.append(("driver", [schema], "a unique column compares each row with every earlier row"))
        else:
            fused.append(schema)
    for step in plan.steps:
        op = OPERATORS[step.op]
        rule = Rule(step.id, step.op, step.line, step.params)
        kind, _, why = op.distributed.partition(": ")  # the operator says how it runs distributed
        if kind == "rows":
            fused.append(rule)
            continue
        close_fused()
        stages.append((kind, [rule], why))
    close_fused()
    return stages


def run_rows(run, rules: list[Rule]) -> None:
    """Fused row-wise rules: one map over the batches."""
    from dsc.engines.ray_ops import row_stage

    run.note(f"{', '.join(r.id for r in rules)}: {run.live} rows")
    out = run.ds.map_batches(row_stage, fn_kwargs={"rules": rules, "ctx": run.ctx}, batch_format="pyarrow",
                             batch_size=None)
    run.absorb(out, rules)


def run_keyed(run, rules: list[Rule]) -> None:
    """`dedupe exact` / `conflicts`: bucket by key hash, resolve each bucket with the operator."""
    from dsc.engines.ray_ops import keyed_rows, resolve_group

    [rule] = rules
    run.note(f"{rule.id}: {run.live} rows")
    keyed = run.ds.map_batches(keyed_rows, fn_kwargs={"rule": rule, "parts": run.parts}, batch_format="pyarrow",
                               batch_size=None)
    out = keyed.groupby(BUCKET, num_partitions=run.parts).map_groups(
        resolve_group, fn_kwargs={"rule": rule, "ctx": run.ctx}, batch_format="pyarrow")
    run.absorb(out, rules)


def run_near(run, rules: list[Rule]) -> None:
    """`dedupe near`: band keys → candidate links → candidate components → verify and resolve.

    Only positions cross to the driver (one link per position in a shared bucket and group), never
    candidate pairs, and each resolve task verifies its own group's pairs in the kernel's bounded
    slices (see `ray_near`)."""
    import ray

    from dsc.engines import ray_near

    [rule] = rules
    run.note(f"{rule.id}: {run.live} rows (band keys)")
    records = run.ds.map_batches(ray_near.band_records, fn_kwargs={"rule": rule, "seed": run.ctx.seed,
                                                                  "parts": run.parts},
                                 batch_format="pyarrow", batch_size=None)
    links = records.groupby(BUCKET, num_partitions=run.parts).map_groups(ray_near.bucket_links,
                                                                         batch_format="pyarrow")
    members, label = ray_near.candidate_components(ray_near.gathered(ray.get(links.to_arrow_refs())))
    if members.size == 0:
        # No two rows share a band bucket: every row is a singleton and survives, as locally.
        run.record(rule, empty_rejects(), [], [], "cluster")
        return
    run.note(f"{rule.id}: verifying the candidate pairs among {members.size} rows")
    labelled = run.ds.map_batches(ray_near.labelled_rows, fn_kwargs={"members": members, "label": label,
                                                                    "parts": run.parts},
                                  batch_format="pyarrow", batch_size=None)
    out = labelled.groupby(BUCKET, num_partitions=run.parts).map_groups(
        ray_near.resolve_group, fn_kwargs={"rule": rule, "ctx": run.ctx, "members": members},
        batch_format="pyarrow")
    run.absorb(out, rules)


STAGE_RUNNERS = {"rows": run_rows, "keyed": run_keyed, "near": run_near}
