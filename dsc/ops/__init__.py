"""Operators: one module per operator, each a class registered under its plan name.

Every module of this package is imported here, in name order, and so registers its operators:
adding an operator is adding its module (see `dsc.ops.base`), never editing a list.
"""
import importlib
import pkgutil

from dsc.ops.base import OPERATORS, CompileEnv, Operator, is_rule, operator, operator_for

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["OPERATORS", "CompileEnv", "Operator", "is_rule", "operator", "operator_for"]
