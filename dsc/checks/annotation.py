"""`annotate FIELD { … }` blocks: the field, the settings each block needs, known option words.

The numbers (annotator counts, agreement thresholds) are checked with the other ranges, in
`dsc.checks.ranges`.
"""
from __future__ import annotations

from dsc import ast
from dsc.checks.common import at_line, error, first_seen, head, schema_of, unknown_value, warning
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic, did_you_mean

FORMATS = ("long", "label_studio")
# The levels (or weightings) each agreement metric takes; () means it takes none.
AGREEMENT_LEVELS = {
    "percent": (),
    "cohen": ("none", "linear", "quadratic"),
    "fleiss": (),
    "krippendorff": ("nominal", "ordinal", "interval", "ratio"),
}
RESOLVE = ("majority", "unanimous", "expert")
TIES = ("drop", "flag", "first")
BELOW_THRESHOLD = ("drop", "flag", "fail")


def check_annotation(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Each annotate block is about a label column (DSC210) and says what it needs to.

    Required: `from` (where the annotations are, DSC212); `below_threshold` when an agreement
    floor is set; a `role` for `experts`; an experts role for `resolve expert`. Each setting
    is given once (DSC214); formats, metrics, levels, policies are known words (DSC203), and a
    level is given only to a metric that takes one (DSC217).
    """
    out: list[Diagnostic] = []
    schema = schema_of(spec)
    for block in spec.of(ast.AnnotateBlock):
        field = block.field
        kind = schema.type_of(field.value) if schema else None
        if kind is not None and kind != "label":
            out.append(error("DSC210", f"'{field.value}' is {kind}, but only a label column can be annotated",
                             field.span, f"declare it as {field.value} : label {{a, b, …}} with its allowed values"))
        out += _block(block)
        if kind == "label":
            out += _scale(block, schema.labels_of(field.value))
    return out


def _scale(block: ast.AnnotateBlock, labels: tuple[str, ...]) -> list[Diagnostic]:
    """An interval or ratio agreement needs labels that are numbers (ratio: of zero or more); the
    label set is in the schema, so the run's own rule (`make_scale`) is applied here, at the spec."""
    from dsc.annotation.metrics import MetricError, make_scale

    setting = next((s for s in block.body if s.key == "agreement"), None)
    if setting is None or len(setting.values) < 3 or not isinstance(setting.values[1], ast.Name) or not labels:
        return []
    level = setting.values[1]
    if setting.values[0].value != "krippendorff" or level.value not in ("interval", "ratio"):
        return []
    try:
        make_scale(level.value, labels)
    except MetricError as problem:
        return [error("DSC217", str(problem), level.span,
                      "use nominal, or ordinal for labels that come in an order")]
    return []


def _block(block: ast.AnnotateBlock) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    settings = {s.key: s for s in block.body}
    for repeat, first in first_seen((s.key, s) for s in block.body):
        out.append(error("DSC214", f"'{repeat.key}' is given twice in this annotate block", head(repeat, repeat.key),
                         f"the first is {at_line(first, repeat)}; keep one"))
    if "from" not in settings:
        out.append(error("DSC212", f"annotate '{block.field.value}' does not say where the annotations are",
                         block.field.span, 'add: from "annotations/FIELD.jsonl" format long'))
    floor = settings.get("agreement") or settings.get("item_agreement")
    if floor is not None and "below_threshold" not in settings:
        out.append(error("DSC212", "an agreement floor needs a 'below_threshold' policy", head(floor, floor.key),
                         f"add: below_threshold drop (or {', '.join(BELOW_THRESHOLD[1:])})"))
    role = None
    for setting in block.body:
        values = setting.values
        if setting.key == "from" and isinstance(values[-1], ast.Name):
            out += unknown_value(values[-1], "annotation format", FORMATS)
        elif setting.key == "experts":
            role = values[-1] if isinstance(values[-1], ast.Name) else None
            if role is None:
                out.append(error("DSC212", "'experts' needs the role that marks an expert", head(setting, "experts"),
                                 "add it: experts >= 1 role domain_expert"))
        elif setting.key == "agreement":
            out += _agreement(setting)
        elif setting.key == "below_threshold":
            out += unknown_value(values[0], "below_threshold policy", BELOW_THRESHOLD)
    resolve = settings.get("resolve")
    if resolve is not None:
        out += _resolve(resolve, role)
    out += _cohen(settings)
    return out


def _agreement(setting: ast.AnnSetting) -> list[Diagnostic]:
    metric, level = setting.values[0], setting.values[1] if len(setting.values) > 2 else None
    out = unknown_value(metric, "agreement metric", tuple(AGREEMENT_LEVELS))
    levels = AGREEMENT_LEVELS.get(metric.value)
    if levels is None or not isinstance(level, ast.Name):
        return out
    if not levels:
        out.append(error("DSC217", f"{metric.value} agreement takes no level", level.span, "remove it"))
    else:
        out += unknown_value(level, f"{metric.value} level", levels)
    return out


def _resolve(setting: ast.AnnSetting, role: ast.Name | None) -> list[Diagnostic]:
    policy, prefer, tie = (tuple(setting.values) + (None, None))[:3]
    out = unknown_value(policy, "resolve policy", RESOLVE)
    if isinstance(tie, ast.Name):
        out += unknown_value(tie, "tie policy", TIES)
    if policy.value == "expert" and role is None:
        out.append(error("DSC212", "'resolve expert' needs to know who the experts are", policy.span,
                         "add: experts >= 1 role ROLE"))
    if isinstance(prefer, ast.Name) and role is not None and prefer.value != role.value:
        out.append(warning("DSC203", f"'{prefer.value}' is not the experts' role '{role.value}'", prefer.span,
                           did_you_mean(prefer.value, [role.value]) or f"did you mean '{role.value}'?"))
    return out


def _cohen(settings: dict[str, ast.AnnSetting]) -> list[Diagnostic]:
    """Cohen's kappa compares exactly two annotators; asking for more needs another metric."""
    agreement, annotators = settings.get("agreement"), settings.get("annotators")
    if agreement is None or annotators is None or not isinstance(agreement.values[0], ast.Name):
        return []
    count = annotators.values[0]
    if agreement.values[0].value == "cohen" and isinstance(count, ast.Num) and count.value > 2:
        return [warning("DSC217", "Cohen's kappa compares two annotators, but items have more",
                        agreement.values[0].span,
                        "use fleiss or krippendorff for three or more annotators per item")]
    return []
