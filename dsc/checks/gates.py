"""`gate { … }`: run-level conditions CI enforces.

Metrics: `dropped` and `kept` (shares of the input rows: `5%` or `0.05`), `rows(SPLIT)`
(a row count), `drop_rate(RULE_KIND)` (the share of rows one kind of rule drops) and
`agreement(FIELD)` (the agreement an annotated field reached, on its metric's scale),
`contaminated("EVAL")` (the rows the `decontaminate` rules removed for sharing an n-gram with an
eval set: EVAL is a pattern as a rule writes it, or a file it matches);
`leakage A, B jaccard >= T` has its own statement.
"""
from __future__ import annotations

from dsc import ast
from dsc.checks.annotation import AGREEMENT_LEVELS
from dsc.checks.augment import unknown_split
from dsc.checks.common import clean_rules, error, split_names, unknown_value, warning
from dsc.checks.context import CheckContext
from dsc.checks.ranges import NUMBERS, agreement_range, needs_at_least, out_of_range
from dsc.diagnostics import Diagnostic, did_you_mean
from dsc.ops import OPERATORS, operator_for

# metric → what its argument names (None: it takes none)
METRICS = {"dropped": None, "kept": None, "rows": "split", "drop_rate": "rule kind", "agreement": "field",
           "contaminated": "eval set"}
RULE_KINDS = tuple(OPERATORS)
_CEILINGS = ("dropped", "drop_rate", "contaminated")
# Metrics measured as a share of the rows (the compiler gives them the unit "fraction").
SHARES = ("dropped", "kept", "drop_rate")


def check_gates(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Known metrics with the right argument, sensible comparisons, values in range.

    Unknown metric or rule kind: DSC203. A missing or extra argument: DSC212 / DSC217. An
    undeclared split: DSC219; a field without an annotate block: DSC203. A gate compares with
    <, <=, > or >= (DSC215); on `dropped` and `drop_rate` only a ceiling (< or <=) makes sense
    (a warning otherwise). A `drop_rate` of a rule kind the spec does not have always passes
    (a warning).
    """
    out: list[Diagnostic] = []
    for block in spec.of(ast.GateBlock):
        for gate in block.gates:
            if isinstance(gate, ast.MetricGate):
                out += _metric(gate, spec)
            else:
                out += _leakage(gate, spec)
    return out


def _metric(gate: ast.MetricGate, spec: ast.Spec) -> list[Diagnostic]:
    name = gate.metric.value
    if name not in METRICS:
        return unknown_value(gate.metric, "gate metric", tuple(METRICS))
    out = _argument(gate, spec)
    op = gate.op.value
    if op in ("==", "!="):
        out.append(error("DSC215", f"a gate compares with <, <=, > or >=, not '{op}'", gate.op.span,
                         "a gate is a floor (>=) or a ceiling (<=)"))
    elif name in _CEILINGS and op in (">", ">="):
        out.append(warning("DSC215", f"'{name} {op} …' fails when too few rows are dropped", gate.op.span,
                           "a gate on drops is a ceiling: use <= or <"))
    return out + _value(gate, spec)


def _argument(gate: ast.MetricGate, spec: ast.Spec) -> list[Diagnostic]:
    name, args = gate.metric.value, gate.args
    takes = METRICS[name]
    if takes is None:
        if args:
            return [error("DSC217", f"'{name}' takes no argument", args[0].span, f"write: {name} {gate.op.value} …")]
        return []
    if len(args) != 1:
        where = args[1].span if args else gate.metric.span
        return [error("DSC212" if not args else "DSC217", f"'{name}' takes one {takes}", where,
                      f"e.g. {name}({_example(name)}) {gate.op.value} …")]
    arg = args[0]
    if (name == "contaminated") != isinstance(arg, ast.Str):
        what = "an eval set in quotes, as a decontaminate rule writes it" if name == "contaminated" else \
            f"a {takes} name, not a string"
        return [error("DSC217", f"'{name}' takes {what}", arg.span, f"e.g. {name}({_example(name)}) {gate.op.value} …")]
    if name == "contaminated":
        return _eval_set(arg, spec)
    if name == "rows":
        declared = split_names(spec)
        return [] if arg.value in declared else [unknown_split(arg, declared)]
    if name == "drop_rate":
        found = unknown_value(arg, "rule kind", RULE_KINDS)
        if found:
            return found
        if arg.value not in _rule_kinds(spec):
            return [warning("DSC217", f"the spec has no {arg.value.replace('_', ' ')} rule, so this gate always passes",
                            arg.span, "remove the gate, or add the rule it is about")]
        return []
    fields = [b.field.value for b in spec.of(ast.AnnotateBlock)]
    if arg.value not in fields:
        return [error("DSC203", f"'{arg.value}' has no annotate block", arg.span,
                      did_you_mean(arg.value, fields) or "agreement is measured on annotated fields")]
    return []


def _example(name: str) -> str:
    return {"rows": "train", "drop_rate": "dedupe_near", "agreement": "label", "contaminated": '"evals/*.jsonl"'}[name]


def _eval_set(arg: ast.Str, spec: ast.Spec) -> list[Diagnostic]:
    """`contaminated("EVAL")`: EVAL is a pattern a `decontaminate` rule writes, or a path one matches."""
    from fnmatch import fnmatchcase

    from dsc.ops.decontaminate import DecontaminateRule

    written = [s.value for rule in clean_rules(spec) if isinstance(rule, DecontaminateRule) for s in rule.evals]
    if arg.value in written or any(fnmatchcase(arg.value, w) for w in written):
        return []
    if not written:
        return [error("DSC203", f"no decontaminate rule reads '{arg.value}': the spec has none", arg.span,
                      f'add one, e.g. decontaminate prompt against "{arg.value}"')]
    return [error("DSC203", f"no decontaminate rule reads '{arg.value}'", arg.span,
                  did_you_mean(arg.value, written) or "name an eval set as a decontaminate rule writes it: "
                  + ", ".join(f'"{w}"' for w in written))]


def _rule_kinds(spec: ast.Spec) -> set[str]:
    return {operator_for(rule).name for rule in clean_rules(spec)}


def _value(gate: ast.MetricGate, spec: ast.Spec) -> list[Diagnostic]:
    """`dropped`, `kept`, `drop_rate`: a share of the rows in [0, 1] (or [0%, 100%]);
    `rows`: a row count; `agreement`: on the scale of the field's metric (ranges: NUMBERS)."""
    name, value = gate.metric.value, gate.value
    if name in SHARES:
        return out_of_range(value, f"'{name}' (a share of the rows)", NUMBERS[name])
    if name in ("rows", "contaminated"):
        return out_of_range(value, "a row count", NUMBERS["rows"])
    metric = _agreement_metric(spec, gate.args[0].value) if len(gate.args) == 1 else None
    if metric is None:
        return []
    return out_of_range(value, f"{metric} agreement", agreement_range(metric))


def _agreement_metric(spec: ast.Spec, field: str) -> str | None:
    for block in spec.of(ast.AnnotateBlock):
        if block.field.value != field:
            continue
        for setting in block.body:
            metric = setting.values[0] if setting.key == "agreement" else None
            if isinstance(metric, ast.Name) and metric.value in AGREEMENT_LEVELS:
                return metric.value
    return None


def _leakage(gate: ast.LeakageGate, spec: ast.Spec) -> list[Diagnostic]:
    declared = split_names(spec)
    out = [unknown_split(n, declared) for n in (gate.left, gate.right) if n.value not in declared]
    if gate.left.value == gate.right.value:
        out.append(error("DSC214", f"leakage is measured between two different splits, not '{gate.left.value}' twice",
                         gate.right.span, "e.g. leakage train, validation jaccard >= 0.8"))
    out += needs_at_least(gate.op, "a leakage similarity threshold")
    return out + out_of_range(gate.threshold, "jaccard threshold", NUMBERS["leakage"])
