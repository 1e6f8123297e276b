"""Server-side template injection: the usual payloads through the export template path
(`export jsonl "{split}.jsonl" template "t.j2"`) and the augment prompt template renderer.

Each payload must give a clear error (export: a RunError with exit 2, or 4 for a name the data
lacks; prompts: TemplateProblem, or an ordinary exception that `dsc.augment.chat` turns into
a per-row rejection) or render inert text; it never executes anything (a canary file is never
created) and its output never holds a Python object's repr. docs/reliability.md lists them.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from jinja2 import UndefinedError

from dsc.api import compile_text
from dsc.augment.prompts import PromptTemplate, TemplateProblem
from dsc.engines.export import render_exports
from dsc.engines.local import run_plan
from dsc.ops.runtime import RunError
from dsc.plan import ExportPlan
from dsc.syntax.source import SourceFile

CANARY = "DSC_SSTI_CANARY"

# Payloads the sandbox refuses (or that render inert text); `{canary}` is a path that must never appear.
PAYLOADS = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ row.__class__ }}",
    "{{ prompt.__class__.__base__.__subclasses__() }}",
    "{% for c in ''.__class__.__mro__ %}{{ c }}{% endfor %}",
    "{{ [].__class__ }}", "{{ ().__class__.__base__ }}", "{{ dict(a=1).__class__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('touch {canary}').read() }}",
    "{{ lipsum.__builtins__ }}",
    "{{ cycler.__init__.__globals__.os.system('touch {canary}') }}",
    "{{ cycler('a', 'b').__init__ }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{% set x = namespace() %}{% set x.__class__ = 1 %}{{ x.__class__ }}",
    "{{ self.__init__ }}", "{{ self.__dict__ }}", "{{ self._TemplateReference__context }}",
    "{{ self._TemplateReference__context.environment }}",
    "{{ config }}", "{{ config.__class__.__init__.__globals__ }}", "{{ request }}",
    "{{ request.application.__globals__.__builtins__.__import__('os').popen('touch {canary}') }}",
    "{{ __builtins__ }}", "{{ __import__('os') }}",
    "{{ range(100000000) | list | length }}", "{{ range(10 ** 9) }}",
    "{{ '{0.__class__}'.format(prompt) }}", "{{ '{0.__class__.__mro__}'.format(row) }}",
    "{{ '%s' | format(prompt.__class__) }}", "{{ '{0.__init__.__globals__}'.format(lipsum) }}",
    "{{ prompt | attr('__class__') }}", "{{ (prompt | attr('__class__') | attr('__mro__'))[1] }}",
    "{{ '' | attr('\\x5f\\x5fclass\\x5f\\x5f') }}", "{{ row['__class__'] }}",
    "{{ row.update({'a': 1}) }}", "{{ row.pop('prompt') }}", "{{ [].append(1) }}",
    "{% import 'os' as os %}", "{% include '/etc/passwd' %}", "{% extends '/etc/passwd' %}",
    "{% from '/etc/passwd' import x %}",
    "{{ prompt }} {{ row.prompt | upper }}",  # a benign control: renders the data
]
# Names a prompt template is given (a payload naming `prompt` uses `text`/`row` there instead).
_PROMPT_VARS = {"text": "hi", "row": {"prompt": "hi"}, "task": "paraphrase", "method": "paraphrase",
                "step": "paraphrase", "source_lang": "en", "target_lang": "", "source_name": "English",
                "target_name": "", "pivot": "", "column": "prompt"}
# What a Python object's repr looks like in rendered text.
REPR = re.compile(r"<(class|function|built-in|bound method|method|module|jinja2|TemplateReference|[\w.]+ object)\b"
                  r"|object at 0x[0-9a-f]+")


def _payload(p: str, tmp: Path) -> str:
    return p.replace("{canary}", str(tmp / CANARY))


def _export(template: str, tmp: Path) -> tuple[str, object]:
    (tmp / "t.j2").write_text(template, encoding="utf-8")
    table = pa.table({"prompt": ["hi"], "_dsc_id": ["r1"]})
    try:
        [f] = render_exports([ExportPlan(format="jsonl", path="{split}.jsonl", template="t.j2", line=9)],
                             {"train": table}, tmp)
    except RunError as err:
        return "error", err
    return "text", json.loads(f.content().decode("utf-8"))["text"]


def _prompt(template: str) -> tuple[str, object]:
    template = template.replace("prompt", "text").replace("row.text", "row.prompt")
    try:
        return "text", PromptTemplate(template, "t.j2").render(_PROMPT_VARS)
    except TemplateProblem as err:
        return "error", err
    except Exception as err:  # noqa: BLE001 — chat.py turns these into a per-row rejection with the reason
        return "rejected", err


@pytest.mark.parametrize("payload", PAYLOADS)
def test_export_template_payload_is_refused_or_inert(payload, tmp_path):
    kind, value = _export(_payload(payload, tmp_path), tmp_path)
    assert not (tmp_path / CANARY).exists()
    if kind == "error":
        assert value.exit_code in (2, 4) and "t.j2" in str(value), value
        assert not REPR.search(str(value)), value
    else:
        assert not REPR.search(value), value


@pytest.mark.parametrize("payload", PAYLOADS)
def test_prompt_template_payload_is_refused_or_inert(payload, tmp_path):
    kind, value = _prompt(_payload(payload, tmp_path))
    assert not (tmp_path / CANARY).exists()
    if kind == "text":
        assert not REPR.search(value), value
    else:
        assert not REPR.search(str(value)), value


def _spec(template: str) -> str:
    return ('source s {\n  files "rows.jsonl"\n}\n\nschema {\n  prompt : text\n}\n\n'
            f'export jsonl "{{split}}.jsonl" template "{template}"\n')


@pytest.mark.parametrize("payload", [
    "{{ cycler.__init__.__globals__.os.system('touch {canary}') }}",
    "{{ '{0.__class__}'.format(prompt) }}",
    "{{ prompt | attr('__class__') }}",
    "{{ range(10 ** 9) }}",
    "{% include '/etc/passwd' %}",
])
def test_run_plan_stops_with_exit_2_and_writes_nothing(payload, tmp_path):
    (tmp_path / "rows.jsonl").write_text('{"prompt": "hi"}\n', encoding="utf-8")
    (tmp_path / "t.j2").write_text(_payload(payload, tmp_path), encoding="utf-8")
    plan = compile_text(SourceFile("t.dspec", _spec("t.j2"))).plan
    with pytest.raises(RunError) as err:
        run_plan(plan, tmp_path, tmp_path / "out")
    assert err.value.exit_code == 2 and "t.j2" in str(err.value)
    assert not (tmp_path / CANARY).exists()
    assert not (tmp_path / "out" / "manifest.json").exists() and not (tmp_path / "out" / "all.jsonl").exists()


# Jinja's own globals and bound methods are not refused by the sandbox: printed, they show their repr
# (a class path or a function with its memory address). Fixable with a `finalize` that refuses
# non-data values (see docs/reliability.md, "Known gaps").
REPR_LEAKS = ["{{ self }}", "{{ range }}", "{{ lipsum }}", "{{ cycler }}", "{{ joiner() }}", "{{ namespace }}",
              "{{ dict }}", "{{ row.items }}", "{{ 'x'.format_map }}", "{{ cycler('a').next }}",
              # turned into text on the way: `~`, filters, `%`, format, containers, constant folding
              "{{ lipsum ~ '' }}", "{{ lipsum | string }}", "{{ lipsum | upper }}", "{{ lipsum | pprint }}",
              "{{ [lipsum] }}", "{{ {'a': cycler} }}", "{{ [lipsum] | join(',') }}", "{{ '%s' % lipsum }}",
              "{{ '{}'.format(lipsum) }}", "{{ '{!r}'.format(row.items) }}", "{{ 'x'.upper ~ '' }}",
              "{{ ('x'.upper ~ '') | length }}", "{{ row.items | string | length }}"]


@pytest.mark.parametrize("payload", REPR_LEAKS)
def test_a_python_object_is_never_printed(payload, tmp_path):
    for kind, value in (_export(payload, tmp_path), _prompt(payload)):
        assert not (kind == "text" and REPR.search(value)), value


_BOUNDED = """
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
import pyarrow as pa
from dsc.engines.export import render_exports
from dsc.ops.runtime import RunError
from dsc.plan import ExportPlan
tmp = Path(sys.argv[1])
try:
    render_exports([ExportPlan(format="jsonl", path="x.jsonl", template="t.j2", line=1)],
                   {"all": pa.table({"prompt": ["hi"], "_dsc_id": ["r1"]})}, tmp)
    print("rendered")
except RunError as err:
    print("runerror", err.exit_code)
"""


# Templates that would take all memory or CPU without the sandbox's bounds on `*` and `**`.
HOGS = ["{{ 'a' * 10 ** 10 }}", "{{ 10 ** 10 * 'a' }}", "{{ [1] * 10 ** 9 }}", "{{ 9 ** (9 ** 9) }}",
        "{{ 2 ** (10 ** 7) }}", "{{ ('ab' * 10 ** 4) * 10 ** 4 }}"]


@pytest.mark.parametrize("payload", HOGS)
def test_a_template_cannot_exhaust_memory_or_cpu(payload, tmp_path):
    (tmp_path / "t.j2").write_text(payload, encoding="utf-8")
    try:
        done = subprocess.run([sys.executable, "-c", _BOUNDED, str(tmp_path)], capture_output=True, text=True,
                              timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail("the template rendered for more than 5 s")
    assert done.stdout.strip() == "runerror 2", (done.stdout, done.stderr[-500:])


# A name or key the data lacks, turned into text inside a list, a dict, a filter or a format, printed the
# word "Undefined" into exports and prompts; it is now the error naming it (exports: exit 4, the data's).
MISSING = ["{{ row.typo }}", "{{ [row.typo] }}", "{{ {'a': row.typo} }}", "{{ (row.typo,) }}",
           "{{ dict(a=row.typo) }}", "{{ [[row.typo]] }}", "{{ row.typo|pprint }}", "{{ row.typo|tojson }}",
           "{{ [row.typo]|tojson }}", "{{ [row.typo]|string }}", "{{ [row.typo]|upper }}",
           "{{ [[row.typo]]|join(',') }}", "{{ [row.typo]|first }}", "{{ '{!r}'.format(row.typo) }}",
           "{{ '{}'.format([row.typo]) }}", "{{ '%r' % row.typo }}", "{{ '%s' % [row.typo] }}", "{{ 'x' ~ [row.typo] }}",
           "{{ [row.typo] ~ '' }}"]


@pytest.mark.parametrize("payload", MISSING)
def test_a_missing_name_is_an_error_naming_it_never_text(payload, tmp_path):
    kind, value = _export(payload, tmp_path)
    assert kind == "error" and value.exit_code == 4 and "'typo'" in str(value), value
    with pytest.raises(UndefinedError, match="'typo'"):  # dsc.augment.chat rejects the row with this reason
        PromptTemplate(payload, "t.j2").render(_PROMPT_VARS)


@pytest.mark.parametrize("payload, text", [
    ("{{ row.typo|default('d') }}", "d"), ("{{ row.typo is defined }}", "False"), ("{{ [row.typo]|length }}", "1"),
    ("{{ row.get('typo') }}", ""),
])
def test_a_missing_name_may_still_be_tested_and_defaulted(payload, text, tmp_path):
    assert _export(payload, tmp_path) == ("text", text)
