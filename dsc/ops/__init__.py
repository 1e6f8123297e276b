"""Operators: one module per operator, each a class registered under its plan name."""
from dsc.ops.base import OPERATORS, Operator, operator

# Importing the modules registers their operators.
from dsc.ops import conflicts, dedupe_exact, dedupe_fuzzy, dedupe_near, drop, normalize, standardize  # noqa: E402,F401

__all__ = ["OPERATORS", "Operator", "operator"]
