"""The Plan: the compiled, canonical form of a spec — what CI compares and engines execute.

Canonical JSON has sorted keys, no insignificant whitespace, and decimals as strings (never
floats, whose printing differs across platforms). The fingerprint is the sha256 of that JSON
with every `line` field left out, so comments and layout never change it, and any change to a
rule always does.
"""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer

PLAN_FORMAT = 1

# The bounds of the augmentation quality guard (dsc/augment/guard.py), with their defaults, exact.
# A spec may set each per rule (`min_similarity 0.3`); `AugmentRule.bounds` holds only those it sets.
GUARD_BOUNDS: dict[str, Fraction] = {
    "min_similarity": Fraction(1, 10),
    "max_similarity": Fraction(95, 100),
    "min_length_ratio": Fraction(1, 3),
    "max_length_ratio": Fraction(3),
}
GuardBound = Literal["min_similarity", "max_similarity", "min_length_ratio", "max_length_ratio"]


def bound_text(value: Fraction | Decimal | str) -> str:
    """A guard bound as people write it; a value with no finite decimal form as a fraction.

    >>> [bound_text(GUARD_BOUNDS[k]) for k in GUARD_BOUNDS], bound_text(Decimal("0.30")), bound_text("0.3")
    (['0.1', '0.95', '1/3', '3'], '0.3', '0.3')
    """
    f = Fraction(Decimal(value)) if isinstance(value, str) else Fraction(value)
    rest = f.denominator
    for prime in (2, 5):
        while rest % prime == 0:
            rest //= prime
    if rest != 1:
        return f"{f.numerator}/{f.denominator}"
    d = (Decimal(f.numerator) / Decimal(f.denominator)).normalize()
    return "0" if d == 0 else format(d, "f")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetInfo(Model):
    name: str = "unnamed"
    version: str = "0"
    seed: int = 0
    locale: str | None = None


class HubPlan(Model):
    id: str
    split: str = "train"
    revision: str | None = None
    config: str | None = None


class SourcePlan(Model):
    name: str
    line: int = 0
    files: list[str] = []
    format: str | None = None
    hub: HubPlan | None = None
    key: list[str] = []
    renames: list[tuple[str, str]] = []
    explode: str | None = None


class ColumnPlan(Model):
    name: str
    line: int = 0
    type: str
    labels: list[str] | None = None
    required: bool = False
    unique: bool = False


class Step(Model):
    """One cleaning rule: `op` names the operator, `params` are its validated parameters."""

    id: str
    op: str
    line: int = 0
    params: dict[str, Any]


class AnnotationPlan(Model):
    id: str
    line: int = 0
    field: str
    source: str
    format: str = "long"
    min_annotators: int = 1
    min_experts: int = 0
    expert_role: str | None = None
    metric: str | None = None
    level: str | None = None
    threshold: Decimal | None = None
    item_threshold: Decimal | None = None
    resolve: str = "majority"
    prefer: str | None = None
    tie: str = "drop"
    below_threshold: str = "drop"
    tasks: str | None = None


class SplitPart(Model):
    name: str
    line: int = 0
    fraction: Decimal


class SplitPlan(Model):
    line: int = 0
    key: str
    stratify: str | None = None
    seed: int = 0
    parts: list[SplitPart]


class AugmentRule(Model):
    id: str
    line: int = 0
    splits: list[str]
    method: Literal["paraphrase", "backtranslate"]
    column: str
    pivots: list[str] = []
    ratio: Decimal
    backend: Literal["local", "endpoint"]
    model: str
    endpoint: str | None = None
    key_env: str | None = None
    template: str | None = None
    concurrency: int = 4
    # The guard bounds the spec sets for this rule (the others keep their defaults, GUARD_BOUNDS);
    # None when it sets none — then the field is left out of the JSON, so plans written before
    # the bounds were spec syntax keep their bytes and fingerprints.
    bounds: dict[GuardBound, Decimal] | None = None

    @field_validator("bounds")
    @classmethod
    def _no_empty_bounds(cls, value):
        return value or None  # `{}` sets nothing: the same plan as None

    @model_serializer(mode="wrap")
    def _leave_out_unset_bounds(self, handler):
        data = handler(self)
        if not self.bounds and isinstance(data, dict):
            data.pop("bounds", None)
        return data

    def bound(self, name: str) -> Fraction:
        """The effective value of one guard bound: the spec's, else the default.

        >>> rule = AugmentRule(id="p", splits=["train"], method="paraphrase", column="q", ratio=Decimal("0.1"),
        ...                    backend="local", model="m", bounds={"min_similarity": Decimal("0.3")})
        >>> rule.bound("min_similarity"), rule.bound("max_similarity")
        (Fraction(3, 10), Fraction(19, 20))
        """
        given = (self.bounds or {}).get(name)
        return Fraction(Decimal(given)) if given is not None else GUARD_BOUNDS[name]


class ExportPlan(Model):
    line: int = 0
    format: str
    path: str
    shape: str | None = None
    template: str | None = None


class GatePlan(Model):
    id: str
    line: int = 0
    metric: str
    args: list[str] = []
    op: str
    limit: Decimal
    unit: Literal["fraction", "count", "value", "jaccard"] = "value"
    severity: Literal["error", "warn"] = "error"


class FinetunePlan(Model):
    line: int = 0
    method: str
    settings: dict[str, Any]


class Plan(Model):
    """A compiled spec. `fingerprint` is derived; everything else is the policy."""

    format: int = PLAN_FORMAT
    dataset: DatasetInfo = DatasetInfo()
    sources: list[SourcePlan] = []
    columns: list[ColumnPlan] = []
    steps: list[Step] = []
    annotations: list[AnnotationPlan] = []
    split: SplitPlan | None = None
    augment: list[AugmentRule] = []
    exports: list[ExportPlan] = []
    gates: list[GatePlan] = []
    finetune: list[FinetunePlan] = []
    fingerprint: str = Field(default="", description="sha256 of the canonical plan without line numbers")


def _plain(value: Any, drop_lines: bool) -> Any:
    """JSON-ready data: decimals as normalised strings, tuples as lists, optionally no `line`."""
    if isinstance(value, dict):
        return {k: _plain(v, drop_lines) for k, v in value.items() if not (drop_lines and k == "line")}
    if isinstance(value, (list, tuple)):
        return [_plain(v, drop_lines) for v in value]
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, float):  # never produced by the compiler; refuse rather than print platform floats
        raise TypeError(f"float {value!r} in a plan; use Decimal")
    return value


def _decimal_text(value: Decimal) -> str:
    """A decimal's canonical text: `0.50` and `0.5` are one value, so print them alike.

    >>> _decimal_text(Decimal("0.50")), _decimal_text(Decimal("2E+2")), _decimal_text(Decimal("0.0002"))
    ('0.5', '200', '0.0002')
    """
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def canonical_json(plan: Plan, *, indent: int | None = None, lines: bool = True) -> str:
    """The plan as canonical JSON text (sorted keys; `indent` only changes layout)."""
    data = _plain(plan.model_dump(mode="python"), drop_lines=not lines)
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=indent, separators=separators)


def fingerprint(plan: Plan) -> str:
    """sha256 of the canonical JSON without line numbers and without the fingerprint itself.

    >>> a = Plan(dataset=DatasetInfo(name="x"))
    >>> fingerprint(a) == fingerprint(a.model_copy(update={"fingerprint": "old"}))
    True
    """
    body = plan.model_copy(update={"fingerprint": ""})
    return "sha256:" + hashlib.sha256(canonical_json(body, lines=False).encode("utf-8")).hexdigest()


def seal(plan: Plan) -> Plan:
    """The plan with its fingerprint filled in."""
    return plan.model_copy(update={"fingerprint": fingerprint(plan)})


def plan_from_json(text: str) -> Plan:
    """Load a plan written by `canonical_json` (used by `dsc diff` on compiled plans)."""
    return Plan.model_validate_json(text)


def json_schema() -> dict:
    """The JSON schema of a plan, with each operator's parameter schema under `$defs`."""
    from dsc.ops import OPERATORS

    schema = Plan.model_json_schema()
    defs = schema.setdefault("$defs", {})
    for name, op in sorted(OPERATORS.items()):
        defs[f"params.{name}"] = op.Params.model_json_schema()
    schema["description"] = (
        "A compiled dsc plan. Step.params follows the schema $defs['params.<op>'] of its op. "
        "Decimals are strings; `line` fields are not part of the fingerprint."
    )
    return schema
