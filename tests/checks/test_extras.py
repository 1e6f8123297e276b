"""DSC221: a rule whose optional packages (an extra of dsc) are not installed here is a warning
at the rule, naming what to install; the spec still compiles."""
import sys
import tomllib
from pathlib import Path

import pytest

from dsc.extras import EXTRAS, installed, missing

FUZZY = """\
schema {
  name : text
}
clean {
  dedupe fuzzy on name pairs "pairs.json"
}
"""
AUGMENT = """\
schema {
  prompt : text
}
split by prompt {
  train 1.0
}
augment train {
  paraphrase prompt ratio 0.25 using "models/t5"
}
"""
FINETUNE = """\
finetune lora {
  base "gpt2"
}
"""


def _without(monkeypatch, *modules):
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # what `import module` then fails on


def _extras(diags, text):
    return [(d.severity, d.span.line, d.span.column, d.message, d.hint) for d in diags(text) if d.code == "DSC221"]


def test_nothing_to_say_when_the_extras_are_installed(diags):
    for text in (FUZZY, AUGMENT, FINETUNE):
        assert _extras(diags, text) == []


def test_fuzzy_dedupe_without_dedupe(diags, monkeypatch):
    _without(monkeypatch, "dedupe")
    assert _extras(diags, FUZZY) == [(
        "warning", 11, 10, "dedupe fuzzy needs the package dedupe, which is not installed here",
        "pip install 'dsc[fuzzy]' on the machine that runs the spec; checking and compiling need no extra")]


def test_local_model_and_finetune_without_torch(diags, monkeypatch):
    _without(monkeypatch, "torch", "transformers")
    [(severity, line, column, message, hint)] = _extras(diags, AUGMENT)
    assert (severity, line, column) == ("warning", 14, 32)
    assert message == "a local model (using) needs the packages torch and transformers, which are not installed here"
    assert hint.startswith("pip install 'dsc[train]' ")
    [(_, line, column, message, _)] = _extras(diags, FINETUNE)
    assert (line, column) == (7, 1)
    assert message == "finetune needs the packages torch and transformers, which are not installed here"


def test_a_warning_does_not_stop_compiling(monkeypatch):
    from dsc.api import compile_text
    from dsc.syntax.source import SourceFile
    from checks.conftest import FRAME

    _without(monkeypatch, "dedupe")
    compiled = compile_text(SourceFile("t.dspec", FRAME + FUZZY))
    assert compiled.ok and "DSC221" in [d.code for d in compiled.diagnostics]


def test_installed_asks_without_importing(monkeypatch):
    _without(monkeypatch, "dedupe")
    assert not installed("dedupe")
    assert installed("json") and not installed("no_such_module_for_dsc")
    assert missing("dedupe fuzzy") == ("dedupe fuzzy needs the package dedupe, which is not installed here",
                                       "pip install 'dsc[fuzzy]'")


@pytest.mark.parametrize("rule", sorted(EXTRAS))
def test_each_extra_installs_the_packages_its_rule_needs(rule):
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    requirements = project["project"]["optional-dependencies"][EXTRAS[rule].name]
    names = {req.split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip() for req in requirements}
    assert set(EXTRAS[rule].modules) <= names
