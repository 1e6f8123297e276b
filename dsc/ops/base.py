"""The operator registry and the base class every operator derives from."""
from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

OPERATORS: dict[str, type["Operator"]] = {}


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Operator:
    """An operator: its plan name, its parameters model, and what it does to rows.

    `effect` tells reviewers what kind of change a rule makes: "drops rows" (filters,
    dedupe, conflicts) or "changes values" (normalize, standardize).
    """

    name: ClassVar[str]
    keyword: ClassVar[str]
    effect: ClassVar[str]
    Params: ClassVar[type[Params]]

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        """One line for people, used by `dsc explain`."""
        return f"{cls.keyword} " + ", ".join(f"{k}={v}" for k, v in sorted(params.items()))

    @classmethod
    def strictness(cls, old: dict[str, Any], new: dict[str, Any]) -> int | None:
        """Compare two parameter sets of this operator: +1 if `new` drops more rows, -1 if fewer,
        0 if the same, None when it cannot be told."""
        return None


def operator(cls: type[Operator]) -> type[Operator]:
    """Class decorator: register an operator under its plan name."""
    OPERATORS[cls.name] = cls
    return cls


def cols(columns: list[str]) -> str:
    return ", ".join(columns)
