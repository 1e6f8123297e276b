"""The operator registry is complete: every piece an operator owns is there, and everything that
reads operators (grammar, builder, fmt, checks, compiler, hypothesis strategies, docs) knows
each one. A new operator that forgets a piece fails here or at import, never silently."""
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
import strategies
from dsc import ast
from dsc.fmt import format_spec
from dsc.ops import OPERATORS, Operator, operator, operator_for
from dsc.ops.base import Params
from dsc.ops.runtime import RowOperator
from dsc.syntax.load import parse
from dsc.syntax.source import SourceFile

ROOT = Path(__file__).resolve().parents[2]
GRAMMAR = (ROOT / "dsc" / "grammar" / "dspec.lark").read_text(encoding="utf-8")
LANGUAGE = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
NAMES = sorted(OPERATORS)


def test_every_operator_has_a_strategy_for_the_laws():
    assert sorted(strategies.clean_rules()) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_the_grammar_and_the_docs_know_the_operator(name):
    op = OPERATORS[name]
    clean = re.search(r"^_clean_stmt: (.*)$", GRAMMAR, re.M).group(1).split(" | ")
    assert op.grammar in clean, f"add {op.grammar} to _clean_stmt in dspec.lark"
    assert re.search(rf"^{op.grammar}: ", GRAMMAR, re.M)
    assert re.search(rf"^  {op.keyword} ", LANGUAGE, re.M), f"docs/language.md's clean example has no `{op.keyword}`"


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=examples(0.25), deadline=None)
@given(data=st.data())
def test_a_node_finds_its_operator_and_prints_back(name, data):
    node = data.draw(strategies.clean_rules()[name])
    assert operator_for(node).name == name
    text = format_spec(ast.Spec((ast.CleanBlock((node,)),)))
    spec, diags = parse(SourceFile("x.dspec", text))
    assert spec is not None, (text, diags)
    assert operator_for(spec.blocks[0].rules[0]).name == name


def test_an_operator_missing_a_piece_is_refused_at_import():
    with pytest.raises(TypeError, match="lacks: node, grammar, build, fmt, compile"):
        @operator
        class Half(RowOperator, Operator):
            name = keyword = "half"
            effect = "changes values"

            class Params(Params):
                columns: list[str]
    assert "half" not in OPERATORS


def test_reads_must_name_fields_of_the_params():
    with pytest.raises(TypeError, match="reads 'column' \\(not a field of Params\\)"):
        @operator
        class Wrong(RowOperator, Operator):
            name = keyword = "wrong"
            effect = "changes values"
            node = ast.Normalize
            grammar = "normalize_stmt"
            reads = ("column",)
            build = fmt = compile = classmethod(lambda cls, *a: None)

            class Params(Params):
                columns: list[str]


def test_the_gate_rule_kinds_are_the_registry():
    from dsc.checks.gates import RULE_KINDS
    assert sorted(RULE_KINDS) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_the_ray_engine_knows_how_to_run_each_operator(name):
    kind, _, why = OPERATORS[name].distributed.partition(": ")
    assert kind in ("rows", "keyed", "near", "driver")
    assert (kind == "rows") == issubclass(OPERATORS[name], RowOperator)
    assert bool(why) == (kind == "driver"), "a rule on the driver says why"
