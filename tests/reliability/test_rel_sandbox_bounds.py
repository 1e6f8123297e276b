"""Templates that would take all memory or CPU through a size argument, a format width, a join,
a loop or a call: `dsc.sandbox.DataSandbox` refuses each with a SecurityError, fast and without
allocating much, while the same constructs at ordinary sizes render exactly as in jinja2's own
immutable sandbox. docs/reliability.md lists the bounds.

Without the bounds each payload below allocates gigabytes to terabytes, or loops 10^10 times.
"""
from __future__ import annotations

import threading
import time
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dsc.augment.prompts import PromptTemplate, TemplateProblem
from dsc.engines.export import render_exports
from dsc.ops.runtime import RunError
from dsc.plan import ExportPlan
from dsc.sandbox import MAX_ITERATIONS, MAX_TEXT, MAX_WIDTH, DataSandbox
from hypothesis_budget import fuzz_settings

SIZE_SECONDS = 2.0  # a size payload is refused in milliseconds; this leaves room for a slow CI machine
LOOP_SECONDS = 8.0  # a loop payload spends up to MAX_ITERATIONS (1M) steps first: about 1-2 s here
PEAK_BYTES = 256 << 20  # the most a refused size payload may allocate (MAX_TEXT is 100M characters)
S = "{% set s = 'a' * 10 ** 7 %}"  # 10 MB of text, within the `*` bound

# Size arguments, format widths, joins and copies.
SIZE_HOGS = [
    # filters with a size argument
    "{{ 'a'|center(10 ** 9) }}",
    "{{ 'a'|indent(10 ** 9, true) }}",
    "{{ 'a'|indent('x' * 10 ** 6, true) }}",
    "{{ ('\\n' * 10 ** 6)|indent(99999, blank=true) }}",
    "{{ [1]|batch(10 ** 9, 'x')|list }}",
    "{{ [1]|slice(10 ** 9)|list|length }}",
    "{{ ('a ' * 10 ** 5)|wordwrap(1, wrapstring='x' * 10 ** 4) }}",
    "{{ '%999999999d'|format(1) }}",
    "{{ '%*d'|format(10 ** 9, 1) }}",
    "{{ '%.999999999f'|format(1.5) }}",
    "{{ 1.5|round(10 ** 9, 'floor') }}",
    "{{ {'a': 'x' * 10 ** 6}|tojson(indent=10 ** 9) }}",
    "{{ (range(10 ** 5)|map('center', 99999)|list)|length }}",
    # string methods with a size argument
    "{{ 'a'.center(10 ** 9) }}", "{{ 'a'.ljust(10 ** 9) }}", "{{ 'a'.rjust(10 ** 9) }}", "{{ 'a'.zfill(10 ** 9) }}",
    "{{ ('\\t' * 10 ** 6).expandtabs(10 ** 5) }}", "{{ 'a\\tb'.expandtabs(10 ** 9) }}",
    "{{ (1).to_bytes(10 ** 10, 'big') }}",
    # str.format / format_map widths and precisions, direct and nested
    "{{ '{:>999999999}'.format(1) }}", "{{ '{0:{1}}'.format(1, 10 ** 9) }}", "{{ '{:.999999999f}'.format(1.5) }}",
    "{{ '{a:>999999999}'.format_map({'a': 1}) }}",
    # the % operator
    "{{ '%999999999d' % 1 }}", "{{ '%*d' % (10 ** 9, 1) }}", "{{ '%(a)999999999s' % {'a': 1} }}",
    "{{ '%-*s' % (-10 ** 9, 'x') }}", "{{ '%.999999999d' % 1 }}",
    # lipsum
    "{{ lipsum(10 ** 6) }}", "{{ lipsum(1, min=10 ** 9, max=10 ** 9 + 1) }}",
    # doubling with ~ and +, bytes and integer products
    S + "{% set a = s ~ s %}{% set b = a ~ a %}{% set c = b ~ b %}{% set d = c ~ c %}{{ d|length }}",
    S + "{% set a = s + s %}{% set b = a + a %}{% set c = b + b %}{% set d = c + c %}{{ d|length }}",
    "{{ 'a'.encode() * 10 ** 10 }}",
    "{% set x = 2 ** 60000 %}{{ x * x }}",
    # a list of one big text, repeated, turned into text
    S + "{{ [s] * 1000 }}", S + "{{ ([s] * 1000)|join }}", S + "{{ ''.join([s] * 1000)|length }}",
    S + "{{ ([s] * 1000)|string|length }}", S + "{{ ([s] * 1000)|tojson|length }}",
    S + "{{ ([s] * 1000)|pprint|length }}", S + "{{ ([s] * 1000)|upper|length }}",
    S + "{{ 'x' ~ [s] * 1000 }}", S + "{{ '%s' % ([s] * 1000,) }}", S + "{{ '{}'.format([s] * 1000) }}",
    S + "{{ '{!r}'.format([s] * 1000) }}",
    "{% set a = [1] * 10 %}{% set b = [a] * 10 %}{% set c = [b] * 10 %}{% set d = [c] * 10 %}{% set e = [d] * 10 %}"
    "{% set f = [e] * 10 %}{% set g = [f] * 10 %}{% set h = [g] * 10 %}{{ h }}",
    "{% set ns = namespace(l=[]) %}{% for i in range(10 ** 4) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}",
    # replacements that multiply
    S + "{{ s.replace('a', s) }}", S + "{{ s|replace('a', s) }}",
    "{{ ('a' * 10 ** 6)|replace('', 'x' * 1000) }}", "{{ ('a' * 10 ** 6).translate({97: 'x' * 10 ** 4}) }}",
    "{{ ([[1] * 10 ** 6] * 1000)|sum(start=[]) }}",
    # output and copies in a loop
    S + "{% for i in range(10 ** 5) %}{{ s }}{% endfor %}",
    S + "{% macro m() %}{% for i in range(1000) %}{{ s }}{% endfor %}{% endmacro %}{{ m()|length }}",
    S + "{% set ns = namespace(l=[]) %}{% for i in range(10 ** 5) %}{% set ns.l = ns.l + [s[i:]] %}{% endfor %}",
    S + "{% set ns = namespace(l=[]) %}{% for i in range(10 ** 5) %}{% set ns.l = [ns.l, s ~ i] %}{% endfor %}",
    "{% set ns = namespace(s='') %}{% for i in range(10 ** 5) %}{% for j in range(9) %}"
    "{% set ns.s = ns.s ~ 'xxxxxxxxxx' %}{% endfor %}{% endfor %}",
    "{% set ns = namespace(l=[]) %}{% for i in range(10 ** 5) %}{% for j in range(9) %}"
    "{% set ns.l = ns.l + [i] %}{% endfor %}{% endfor %}",
]

# Loops and calls whose number, not size, is the problem.
LOOP_HOGS = [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}",
    "{% for i in range(100000)|map('string') %}{% for j in range(100000)|map('string') %}{% endfor %}{% endfor %}",
    "{% set L = [0] * 10 ** 7 %}{% for x in L %}{% for y in L %}{% endfor %}{% endfor %}",
    "{% for c in 'a' * 10 ** 7 %}{% endfor %}",
    "{% for i in range(100000) %}{{ range(100000)|list|length }}{% endfor %}",
    "{% for i in range(100000) %}{{ range(100000)|sum }}{% endfor %}",
    "{% for i in range(100000) %}{{ range(100000)|sort|first }}{% endfor %}",
    "{% for i in range(100000) %}{% set d = {}.fromkeys(range(100000)) %}{% endfor %}",
    "{% for i in range(100000) %}{% block b scoped %}"
    "{% for j in range(100000) %}{% endfor %}{% endblock %}{% endfor %}",
    "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
    "{% for x in [[1, [1, [1]]]] * 300000 recursive %}{% if x is iterable %}{{ loop(x) }}{% endif %}{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",  # endless recursion: refused, not a RecursionError
]


def _env() -> DataSandbox:
    return DataSandbox(undefined=StrictUndefined, autoescape=False)


def _refused(payload: str, measure_memory: bool) -> tuple[float, int]:
    """Seconds and peak bytes (0 when not measured) the refusal took; fails unless a SecurityError."""
    template = _env().from_string(payload)
    if measure_memory:
        tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(SecurityError):
            template.render()
    finally:
        seconds = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1] if measure_memory else 0
        if measure_memory:
            tracemalloc.stop()
    return seconds, peak


@pytest.mark.parametrize("payload", SIZE_HOGS)
def test_a_size_payload_is_refused_fast_and_small(payload):
    seconds, peak = _refused(payload, measure_memory=True)
    assert seconds < SIZE_SECONDS, f"{seconds:.2f} s"
    assert peak < PEAK_BYTES, f"{peak >> 20} MiB"


@pytest.mark.parametrize("payload", LOOP_HOGS)
def test_a_loop_payload_is_refused_fast(payload):
    seconds, _ = _refused(payload, measure_memory=False)
    assert seconds < LOOP_SECONDS, f"{seconds:.2f} s"


def test_the_refusals_say_what_was_too_large():
    def message(payload):
        with pytest.raises(SecurityError) as err:
            _env().from_string(payload).render()
        return str(err.value)

    assert message("{{ 'a'|center(10 ** 9) }}") == f"a width over {MAX_WIDTH:,} is refused"
    assert message("{{ '%*d' % (10 ** 9, 1) }}") == f"a printf width or precision over {MAX_WIDTH:,} is refused"
    assert message("{{ '{:>999999999}'.format(1) }}") == f"a format width or precision over {MAX_WIDTH:,} is refused"
    assert f"{MAX_ITERATIONS:,} times" in message(LOOP_HOGS[0])
    assert f"{MAX_TEXT:,} characters" in message(SIZE_HOGS[-1])
    assert message(LOOP_HOGS[-1]) == "the template recurses too deeply"


# --- the budget is per render --------------------------------------------------------------

_HALF = "{% for i in range(100000) %}{% for j in range(5) %}{% endfor %}{% endfor %}done"  # 600k loop items


def test_the_iteration_budget_starts_afresh_for_every_render():
    template = _env().from_string(_HALF)
    assert [template.render() for _ in range(3)] == ["done"] * 3  # 1.8M items in all, 600k per render


def test_renders_in_threads_each_have_their_own_budget():
    template = _env().from_string(_HALF)
    results, errors = [], []

    def render():
        try:
            results.append(template.render())
        except Exception as err:  # noqa: BLE001 — collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=render) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and results == ["done"] * 4


def test_the_budget_covers_the_whole_render_not_each_loop():
    # Each loop alone is within the budget; together they pass it.
    many = "{% for i in range(100000) %}{% endfor %}" * 11
    with pytest.raises(SecurityError):
        _env().from_string(many).render()


# --- the two callers report a refusal cleanly ----------------------------------------------

@pytest.mark.parametrize("payload", ["{{ 'a'|center(10 ** 9) }}", "{{ '%*d' % (10 ** 9, 1) }}", LOOP_HOGS[0]])
def test_export_and_prompt_templates_report_a_refusal(payload, tmp_path):
    (tmp_path / "t.j2").write_text(payload, encoding="utf-8")
    with pytest.raises(RunError) as err:
        render_exports([ExportPlan(format="jsonl", path="x.jsonl", template="t.j2", line=1)],
                       {"all": pa.table({"prompt": ["hi"], "_dsc_id": ["r1"]})}, tmp_path)
    assert err.value.exit_code == 2 and "t.j2" in str(err.value)
    with pytest.raises(TemplateProblem, match="the sandbox refused an operation"):
        PromptTemplate(payload, "t.j2").render({})


# --- ordinary sizes render as before -------------------------------------------------------

BENIGN = [
    "{{ 'x'|center(9) }}|", "{{ '%5d'|format(3) }}", "{{ '{:>4}'.format(1) }}", "{{ 'a'.ljust(5) }}|",
    "{% for i in range(3) %}{% for j in range(2) %}{{ i }}{{ j }},{% endfor %}{% endfor %}",
    "{{ [1, 2, 3, 4, 5, 6, 7]|batch(3)|list }} {{ [1, 2, 3, 4, 5, 6, 7]|batch(3, 0)|list }}",
    "{{ 'a\\nb\\n\\nc'|indent(4) }}|{{ 'a\\nb'|indent('> ', true, true) }}",
    "{{ [1, 2, 3]|slice(2)|list }} {{ [1, 2, 3]|slice(2, 0)|list }}",
    "{{ 'a b c d'|wordwrap(3) }}|{{ 'a b c\\n\\nd  e'|wordwrap(3, wrapstring='|') }}",
    "{{ 'foo bar baz qux'|truncate(9) }} {{ 12345678|filesizeformat }} "
    "{{ 1.2345|round(2) }} {{ 42.55|round(1, 'floor') }}",
    "{{ '%(a)s-%(b)5d' % {'a': 'x', 'b': 3} }} {{ '%*d' % (4, 1) }} "
    "{{ '%%%s' % 'x' }} {{ '%.3f|%-6s|%c' % (1.5, 'ab', 65) }}",
    "{{ '{0:{1}}|'.format(1, 5) }}{{ '{!r}'.format([1]) }}"
    "{{ '{a}'.format_map({'a': 2}) }}{{ '{:08.3f}'.format(3.14159) }}",
    "{{ 'a\\tb'.expandtabs(4) }} {{ 'x'.zfill(4) }} {{ 'x'.rjust(3, '*') }} {{ 'aXb'.replace('X', '--') }}",
    "{{ '-'.join(['a', 'b']) }} {{ [1, 2, 3]|join(',') }} {{ [{'a': 1}, {'a': 2}]|join(',', attribute='a') }}",
    "{{ 'ab' ~ 1 ~ [1] }} {{ 'abcdef'[1:3] }}{{ [1, 2, 3][::-1] }} "
    "{{ [1] + [2] }} {{ 'a' + 'b' }} {{ 'ab' * 3 }} {{ 7 % 3 }}",
    "{% for x in [1, [2, [3]]] recursive %}{% if x is iterable %}{{ loop(x) }}{% else %}{{ x }}{% endif %}{% endfor %}",
    "{% macro m(x) %}<{{ x }}>{% endmacro %}{% macro w() %}"
    "[{{ caller() }}]{% endmacro %}{{ m(1) }}{% call w() %}in{% endcall %}",
    "{{ range(5)|sum }} {{ [[1], [2]]|sum(start=[]) }} {{ {'a': [1, 'x']}|tojson(2) }} {{ [1, 2]|pprint }}",
    "{% for x in [3, 1, 2]|sort if x > 1 %}{{ x }}{% else %}"
    "none{% endfor %}{% for x in [] %}{% else %}empty{% endfor %}",
    "{% set ns = namespace(x='') %}{% for i in range(3) %}{% set ns.x = ns.x ~ i %}{% endfor %}{{ ns.x }}",
    "{% for a, b in {'x': 1}.items() %}{{ a }}{{ b }}{{ loop.length }}{{ loop.last }}{% endfor %}",
    "{% set x %}ab{% endset %}{{ x }}{% filter upper %}q{% endfilter %}{{ (255).to_bytes(2, 'big')|length }}",
    "{% block b scoped %}{% for i in range(2) %}{{ i }}{% endfor %}{% endblock %}{{ self.b() }}",
    "{{ [1, 2, 3]|map('string')|join }} {{ [1, 2, 2]|unique|list }} "
    "{{ {'b': 1, 'a': 2}|dictsort }} {{ {'a': 'b c'}|urlencode }}",
    "{{ 'abc'|list }} {{ 'abc'|reverse }} {{ (2 ** 10) * 3 }} {{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2]|first }}",
    "{% for i in range(100000) %}{% if loop.last %}{{ i }}{% endif %}{% endfor %} {{ range(100000)|list|length }}",
]


def _reference():
    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@pytest.mark.parametrize("template", BENIGN)
def test_ordinary_sizes_render_as_in_jinjas_sandbox(template):
    assert _env().from_string(template).render() == _reference().from_string(template).render()


# The reliability fuzz targets' examples (tests/hypothesis_budget.py), drawn at random here.
FUZZ = settings(fuzz_settings(), derandomize=False)
_SIZED = [
    "{{ text|center(n) }}", "{{ text|indent(n, true) }}", "{{ text.ljust(n) }}", "{{ text.rjust(n, '.') }}",
    "{{ text.zfill(n) }}", "{{ text.center(n) }}", "{{ text.expandtabs(n) }}", "{{ '%*s|'|format(n, text) }}",
    "{{ '%-*s|' % (n, text) }}", "{{ ('%' ~ n ~ 's') % text }}", "{{ '{:>{}}'.format(text, n) }}",
    "{{ '{:^{n}.{p}}'.format(text, n=n, p=n) }}", "{{ (text|list)|batch(n + 1, '-')|list }}",
    "{{ (text|list)|slice(n + 1)|list }}", "{{ text|replace('a', text) }}", "{{ text|wordwrap(n + 1) }}",
    "{% for i in range(n) %}{{ text }}{% endfor %}", "{{ 1.25|round(n % 10, 'ceil') }}",
]


@FUZZ
@given(template=st.sampled_from(_SIZED), text=st.text(max_size=40), n=st.integers(min_value=0, max_value=300))
def test_fuzzed_ordinary_sizes_render_as_in_jinjas_sandbox(template, text, n):
    def render(env):
        try:
            return env.from_string(template).render(text=text, n=n)
        except Exception as err:  # noqa: BLE001 — the same failure on both sides is fine too
            return type(err)

    assert render(_env()) == render(_reference())


def test_a_long_document_still_renders():
    # A 20 MB row through a few filters: far from the bounds, which are about what templates build.
    text = "word " * (4 << 20)
    out = _env().from_string("{{ text|trim|upper|replace('W', 'w') ~ '\\n' }}").render(text=text)
    assert len(out) == len(text)
