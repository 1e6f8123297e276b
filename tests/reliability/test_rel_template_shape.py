"""Deeply nested or huge template source: jinja2's parser and compiler recurse once or more per
level, so 300 parentheses, 500 nested `{% if %}` or 5,000 chained `+` ended in a RecursionError
(or Python's own limits on the code jinja2 writes) and exit 1. `dsc.sandbox.DataSandbox` checks a
template's length and nesting on its tokens before jinja2 parses it, and refuses it cleanly (exit
2, naming the template and the limit), on the export and the prompt template paths alike.
"""
from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pytest
from jinja2 import TemplateSyntaxError, meta

from dsc.augment.prompts import PromptTemplate, TemplateProblem
from dsc.engines.export import render_exports
from dsc.ops.runtime import RunError
from dsc.plan import ExportPlan
from dsc.sandbox import MAX_BLOCK_NESTING, MAX_TAG_NESTING, MAX_TEMPLATE_CHARS, DataSandbox

B, T = MAX_BLOCK_NESTING, MAX_TAG_NESTING


def _nest(opening: str, closing: str, n: int, inner: str = "x") -> str:
    return opening * n + inner + closing * n


# (payload, the limit its refusal names)
DEEP = [
    ("{{ " + _nest("(", ")", 300, "1") + " }}", f"more than {T} operators"),
    (_nest("{% if true %}", "{% endif %}", 500), f"nested more than {B} deep"),
    ("{{ " + " + ".join(["1"] * 5000) + " }}", f"more than {T} operators"),
    ("{{ text" + "|upper" * 5000 + " }}", f"more than {T} operators"),
    ("{{ " + _nest("[", "]", 300, "1") + " }}", f"more than {T} operators"),
    ("{{ " + _nest("{'a': ", "}", 300, "1") + " }}", f"more than {T} operators"),
    ("{{ " + "not " * 5000 + "1 }}", f"more than {T} operators"),
    ("{{ " + "-" * 5000 + "1 }}", f"more than {T} operators"),
    ("{{ " + "1 if 1 else " * 2000 + "1 }}", f"more than {T} operators"),
    ("{{ row" + ".a" * 5000 + " }}", f"more than {T} operators"),
    ("{{ range" + "(1)" * 300 + " }}", f"more than {T} operators"),
    ("{{ " + " or ".join(["1"] * 5000) + " }}", f"more than {T} operators"),
    ("{{ " + " ~ ".join(["'a'"] * 5000) + " }}", f"more than {T} operators"),
    (_nest("{% for x in [1] %}", "{% endfor %}", 200), f"nested more than {B} deep"),  # 21: Python's own limit
    (_nest("{% macro m() %}", "{% endmacro %}", 300), f"nested more than {B} deep"),
    (_nest("{% set x %}", "{% endset %}", 300), f"nested more than {B} deep"),
    (_nest("{% filter upper %}", "{% endfilter %}", 300), f"nested more than {B} deep"),
    (_nest("{% with %}", "{% endwith %}", 300), f"nested more than {B} deep"),
    ("x" * (MAX_TEMPLATE_CHARS + 1), f"the limit is {MAX_TEMPLATE_CHARS:,}"),
]


@pytest.mark.parametrize("payload, limit", DEEP)
def test_a_deeply_nested_export_template_is_refused_naming_it_and_the_limit(payload, limit, tmp_path):
    (tmp_path / "t.j2").write_text(payload.replace("text", "prompt"), encoding="utf-8")
    with pytest.raises(RunError) as err:
        render_exports([ExportPlan(format="jsonl", path="x.jsonl", template="t.j2", line=3)],
                       {"all": pa.table({"prompt": ["hi"], "_dsc_id": ["r1"]})}, tmp_path)
    assert err.value.exit_code == 2 and err.value.location.file == "t.j2" and limit in str(err.value), err.value


@pytest.mark.parametrize("payload, limit", DEEP)
def test_a_deeply_nested_prompt_template_is_refused_naming_it_and_the_limit(payload, limit):
    with pytest.raises(TemplateProblem) as err:
        PromptTemplate(payload, "p.j2")
    assert str(err.value).startswith("p.j2:") and limit in str(err.value), err.value


def test_the_run_exits_2_with_a_message_not_a_traceback(tmp_path):
    (tmp_path / "dsc.toml").write_text("", encoding="utf-8")
    (tmp_path / "rows.jsonl").write_text('{"prompt": "hi"}\n', encoding="utf-8")
    (tmp_path / "t.j2").write_text("{{ " + _nest("(", ")", 300, "1") + " }}", encoding="utf-8")
    (tmp_path / "s.dspec").write_text('source s {\n  files "rows.jsonl"\n}\n\nschema {\n  prompt : text\n}\n\n'
                                      'export jsonl "{split}.jsonl" template "t.j2"\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "dsc", "run", "s.dspec", "--out", "out"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"t.j2:1: error[DSC310]: template error: this tag nests or chains more than {T} operators" in done.stderr
    assert "Traceback" not in done.stderr and "bug" not in done.stderr
    assert not (tmp_path / "out" / "manifest.json").exists()


# Every kind of block nested to the limit, around a tag that nests or chains to its limit.
BLOCKS = [("{% if x %}", "{% endif %}"),
          ("{% for x in [1] if x recursive %}{{ loop.index }}", "{% else %}{% endfor %}"),
          ("{% macro m(a=1) %}", "{% endmacro %}"), ("{% call(a) m() %}", "{% endcall %}"),
          ("{% filter upper %}", "{% endfilter %}"), ("{% with a=1 %}", "{% endwith %}"),
          ("{% set v %}", "{% endset %}")]
TAGS = [_nest("(", ")", T - 1, "1"), _nest("[", "]", T - 1, "1"), _nest("{'a':", "}", T - 1, "1"),
        " + ".join(["1"] * T), "'a'" + "|upper" * T, "row" + ".a" * T, "row" + "[0]" * (T // 2), "not " * T + "1", "-" * T + "1",
        "1 if 1 else " * (T // 2) + "1", " ** ".join(["1"] * (T + 1)), "f(" + ", ".join(["1 + 1"] * 200) + ")"]


def _deep_stack(frames: int, call):
    return call() if frames == 0 else _deep_stack(frames - 1, call)


@pytest.mark.parametrize("block", BLOCKS, ids=[b[0].split()[1] for b in BLOCKS])
def test_templates_at_the_limits_compile_with_room_to_spare(block):
    env = DataSandbox(autoescape=False)
    for tag in TAGS:
        source = _nest(*block, B, "{{ " + tag + " }}")

        def compile_it():
            meta.find_undeclared_variables(env.parse(source))
            return env.from_string(source)

        _deep_stack(300, compile_it)  # a caller 300 frames deep still leaves jinja2 room: no RecursionError


def test_one_block_or_one_operator_more_is_refused():
    env = DataSandbox(autoescape=False)
    env.from_string(_nest("{% if x %}", "{% endif %}", B) + "{{ " + " + ".join(["1"] * (T + 1)) + " }}")
    for source in (_nest("{% if x %}", "{% endif %}", B + 1), "{{ " + " + ".join(["1"] * (T + 2)) + " }}",
                   "x" * MAX_TEMPLATE_CHARS + "{{ 1 }}"):
        with pytest.raises(TemplateSyntaxError):
            env.from_string(source)


def test_siblings_are_not_nesting():
    # long lists, calls with many arguments, many tags and blocks one after another are fine
    env = DataSandbox(autoescape=False)
    source = ("{{ [" + ", ".join(["x.y|upper"] * 500) + "] }}" + "{% if a %}{{ b + c }}{% endif %}" * 1000
              + "{% set d = 1 %}" * 100)
    assert len(source) <= MAX_TEMPLATE_CHARS
    env.from_string(source)


@pytest.mark.parametrize("source", ["{% %}", "{{ }}", "{{ ) }}", "{{ ( }}", "{% if ) %}{% endif %}", "{% endif %}",
                                    "{{ x.y", "{% set %}", "{% endfor %}" * 40 + "{% if x %}" * 40])
def test_a_malformed_template_gets_jinjas_own_syntax_error(source):
    with pytest.raises(TemplateSyntaxError):
        DataSandbox(autoescape=False).from_string(source)


def test_a_recursion_error_left_by_a_deep_caller_becomes_a_template_error():
    env = DataSandbox(autoescape=False)
    source = _nest("{% if x %}", "{% endif %}", B, "{{ " + _nest("(", ")", T - 1, "1") + " }}")
    limit = sys.getrecursionlimit()
    with pytest.raises(TemplateSyntaxError, match="nested too deeply to (parse|compile) here"):
        _deep_stack(limit - 150, lambda: env.from_string(source))

