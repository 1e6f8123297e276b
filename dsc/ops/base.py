"""The operator registry and the base class every operator derives from.

An operator is one module in `dsc/ops/` that owns its whole life: its AST node (`node`), the
grammar rule of its statement (`grammar`, a line of `dsc/grammar/dspec.lark`) and how that
parse tree becomes the node (`build`), how the node prints back (`fmt`), what it compiles to
(`compile`: the raw parameters, validated by its `Params`), any check of its own (`check`), the
data columns its parameters name (`reads`), and what it does to rows (its family base in
`dsc.ops.runtime`). The syntax builder, `dsc fmt`, the checks, the compiler, `explain`,
`diff`, both engines and the hypothesis laws all read this registry; `operator` refuses, at
import, a class that leaves a piece out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from pathlib import Path

    from dsc import ast
    from dsc.diagnostics import Diagnostic

OPERATORS: dict[str, type["Operator"]] = {}


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class CompileEnv:
    """What compiling one rule may know of the rest of the spec."""

    locale: str | None = None  # the dataset header's locale
    types: dict[str, str] = field(default_factory=dict)  # the schema's column types
    sources: tuple = ()  # the spec's sources (dsc.plan.SourcePlan): `sample … from SOURCE` reads their files


class Operator:
    """An operator: its plan name, its parameters model, its syntax, and what it does to rows.

    `effect` tells reviewers what kind of change a rule makes: "drops rows" (filters,
    dedupe, conflicts) or "changes values" (normalize, standardize, replace).

    Every operator also writes three classmethods of its own, which `@operator` requires:

    - `build(cls, b, tree, children) -> ast.Node`: the AST node of a parse tree of `grammar`
      (`b` is the syntax builder: spans, leaves);
    - `fmt(cls, node) -> str`: the node as one canonical line of spec text;
    - `compile(cls, node, env: CompileEnv) -> (raw parameters, subject of the rule id)`.
    """

    name: ClassVar[str]
    keyword: ClassVar[str]
    effect: ClassVar[str]
    Params: ClassVar[type[Params]]
    node: ClassVar[type]  # its AST node class
    grammar: ClassVar[str]  # the grammar rule its statement parses as
    reads: ClassVar[tuple[str, ...]] = ("columns",)  # Params fields that name data columns
    option_order: ClassVar[tuple[str, ...]] = ()  # the canonical order `fmt` prints options in
    # How the Ray engine runs it (dsc.engines.ray_stages): "rows" (fused map; every RowOperator),
    # "keyed" (a shuffle on the key), "near" (distributed MinHash), or "driver" with the reason why.
    distributed: ClassVar[str] = "driver: this rule has no distributed form"

    # ── syntax and compile time ─────────────────────────────────────────────────────────
    @classmethod
    def selects(cls, node: ast.Node) -> bool:
        """Whether this operator is the one for `node` (operators sharing a node tell by a field)."""
        return True

    @classmethod
    def check(cls, node: ast.Node) -> list[Diagnostic]:
        """Diagnostics of the operator's own (the generic checks read the node's declared roles)."""
        return []

    @classmethod
    def check_in_spec(cls, node: ast.Node, spec: ast.Spec) -> list[Diagnostic]:
        """Diagnostics of the operator's own that need the rest of the spec (e.g. a source it names)."""
        return []

    # ── plan and run time ───────────────────────────────────────────────────────────────
    @classmethod
    def input_files(cls, params: dict[str, Any], base_dir: Path) -> list[dict[str, str]]:
        """The files the rule reads besides the rows, each with its sha256: part of its stage's
        cache key, so an edited file reruns the rule. None for most rules."""
        return []

    @classmethod
    def columns_of(cls, params: dict[str, Any]) -> list[str]:
        """The data columns a rule with these parameters reads, in order."""
        out: list[str] = []
        for key in cls.reads:
            value = params.get(key)
            out += value if isinstance(value, list) else [value] if value else []
        return out

    @classmethod
    def require_columns(cls, column_names: list[str], params: dict[str, Any], rule_id: str, line: int) -> None:
        """Stop the run (DSC308) when the data lacks a column the rule reads: both engines ask this."""
        from dsc.ops.runtime import RunError

        for name in cls.columns_of(params):
            if name not in column_names:
                raise RunError(f"rule {rule_id} names column '{name}', which the data lacks", code="DSC308",
                               line=line)

    @classmethod
    def warm(cls, params: dict[str, Any]) -> None:
        """Load what `apply` will run (compiled kernels: their machine code comes from the disk
        cache, 0.1-0.8 s a module), so that the engine can do it on a thread while the sources
        are read, instead of inside the stage. Nothing by default; it may not change any result."""

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        """One line for people, used by `dsc explain`."""
        return f"{cls.keyword} " + ", ".join(f"{k}={v}" for k, v in sorted(params.items()))

    @classmethod
    def strictness(cls, old: dict[str, Any], new: dict[str, Any]) -> int | None:
        """Compare two parameter sets of this operator: +1 if `new` drops more rows, -1 if fewer,
        0 if the same, None when it cannot be told."""
        return None


_REQUIRED = ("name", "keyword", "effect", "Params", "node", "grammar", "build", "fmt", "compile")


def operator(cls: type[Operator]) -> type[Operator]:
    """Class decorator: register an operator under its plan name, refusing one with a piece missing."""
    missing = [a for a in _REQUIRED if not hasattr(cls, a)]
    missing += ["apply (a family base of dsc.ops.runtime)"] if not hasattr(cls, "apply") else []
    missing += [f"reads '{r}' (not a field of Params)" for r in cls.reads
                if hasattr(cls, "Params") and r not in cls.Params.model_fields]
    if missing:
        raise TypeError(f"operator {cls.__name__} lacks: {', '.join(missing)}")
    if cls.name in OPERATORS:
        raise TypeError(f"two operators are named '{cls.name}'")
    OPERATORS[cls.name] = cls
    return cls


def operator_for(node: ast.Node) -> type[Operator]:
    """The operator a clean-rule node compiles with."""
    for op in OPERATORS.values():
        if isinstance(node, op.node) and op.selects(node):
            return op
    raise LookupError(f"no operator compiles {type(node).__name__}")  # a registry test guards this


def is_rule(node: ast.Node) -> bool:
    """Whether a node is a clean rule some operator compiles."""
    return any(isinstance(node, op.node) for op in OPERATORS.values())


def choices(params: type[Params], name: str) -> tuple[str, ...]:
    """The words a Literal field of a Params model allows, in order: the checks' vocabulary.

    >>> class P(Params):
    ...     side: Literal["prefix", "suffix"] | None = None
    >>> choices(P, "side")
    ('prefix', 'suffix')
    """
    kind = params.model_fields[name].annotation
    args = [a for a in get_args(kind) if a is not type(None)]
    if get_origin(kind) is not Literal:  # Optional[Literal[…]]
        args = [w for a in args for w in get_args(a)]
    return tuple(args)


def cols(columns: list[str]) -> str:
    return ", ".join(columns)
