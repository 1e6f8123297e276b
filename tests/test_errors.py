"""One error model: every run-time error class is a DscError with a documented DSC3xx code, its
location is structured (never "line N: " baked into the text) and the CLI prints it like a diagnostic."""
from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import pytest

from dsc.annotation import AnnotationFileError, MetricError
from dsc.atomic import WriteError
from dsc.augment.apikey import KeyProblem
from dsc.diagnostics import CODES as COMPILE_CODES
from dsc.errors import CODES, DscError, Location, render
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR
from dsc.finetune.errors import FinetuneError
from dsc.io import SourceError
from dsc.kernels.fuzzy import FuzzyError
from dsc.locale import OptionError
from dsc.ops.runtime import RunError
from dsc.profile.load import ProfileError
from dsc.report import StatsError
from dsc.syntax.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
DSC = ROOT / "dsc"
CLASSES = [RunError, SourceError, AnnotationFileError, MetricError, StatsError, ProfileError, FuzzyError,
           OptionError, WriteError, KeyProblem]


def _calls() -> list[tuple[str, ast.Call]]:
    """Every call of a DscError class in dsc, with where it is."""
    names = {c.__name__ for c in CLASSES} | {"FinetuneError", "DscError"}
    found = []
    for path in sorted(DSC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return found


def _codes_in_source() -> set[str]:
    text = "".join(p.read_text(encoding="utf-8") for p in DSC.rglob("*.py") if p.name != "errors.py")
    return set(re.findall(r'"(DSC3\d\d)"', text))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_error_class_is_a_dsc_error_with_a_documented_code(cls):
    err = cls("something is wrong")
    assert isinstance(err, DscError) and err.code in CODES
    assert str(err) == err.message == "something is wrong" and err.exit_code in (EXIT_SPEC_ERROR, EXIT_INPUT_ERROR)


def test_the_old_signatures_keep_working():
    assert RunError("x", EXIT_SPEC_ERROR).exit_code == EXIT_SPEC_ERROR
    assert RunError("x", exit_code=EXIT_SPEC_ERROR, code="DSC308", line=4).location == Location(4)
    assert ProfileError("x", EXIT_SPEC_ERROR).exit_code == EXIT_SPEC_ERROR
    ft = FinetuneError("DSC307", "train split 't.jsonl' does not exist", missing=True, hint="run it")
    assert (ft.code, ft.hint, ft.exit_code, ft.missing) == ("DSC307", "run it", EXIT_INPUT_ERROR, True)
    assert FinetuneError("DSC209", "r 64 is too large", setting="r").exit_code == EXIT_SPEC_ERROR
    assert isinstance(MetricError("x"), ValueError) and isinstance(OptionError("x"), ValueError)


def test_every_code_is_documented_and_used():
    """docs/diagnostics.md is generated from CODES (tests/test_plan.py holds it current); every code
    a raise site names is there, and every code there is named by some raise site."""
    used = _codes_in_source() | {c.default_code for c in CLASSES}
    assert used - set(CODES) == set()
    assert set(CODES) - used == set()
    docs = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    assert all(f"`{code}`" in docs for code in CODES)
    assert not set(CODES) & set(COMPILE_CODES)


def test_every_run_error_names_its_code():
    missing = [where for where, call in _calls() if call.func.id == "RunError"
               and "code" not in {k.arg for k in call.keywords}]
    assert missing == []


def test_no_message_bakes_a_spec_line_into_its_text():
    """A spec line is the error's `line`, rendered by the CLI as SPEC:LINE:COL; lists of several
    places (refused outputs, refused permissions) name each line in their items."""
    baked = []
    for where, call in _calls():
        first = call.args[0] if call.args and call.func.id != "FinetuneError" else None
        if isinstance(first, ast.JoinedStr) and first.values and isinstance(first.values[0], ast.Constant) \
                and str(first.values[0].value).startswith("line "):
            baked.append(where)
    assert baked == []


def test_an_error_survives_pickling_with_its_code_and_location():
    """Ray sends a worker's RunError to the driver pickled; FinetuneError takes its code first."""
    for err in (RunError("x", EXIT_SPEC_ERROR, code="DSC308", line=4, hint="h"),
                FinetuneError("DSC307", "gone", setting="base", missing=True)):
        back = pickle.loads(pickle.dumps(err))
        assert (type(back), str(back), back.code, back.location, back.hint, back.exit_code) == \
               (type(err), str(err), err.code, err.location, err.hint, err.exit_code)


def test_render_places_an_error_like_a_diagnostic():
    src = SourceFile("p.dspec", "clean {\n\tdrop where empty(x)\n}\n")
    err = RunError("rule drop[x] names column 'x', which the data lacks", code="DSC308", line=2, hint="add it")
    assert render(err, src) == ("p.dspec:2:2: error[DSC308]: rule drop[x] names column 'x', which the data lacks\n"
                                "  2 |  drop where empty(x)\n"
                                "    |  ^^^^^^^^^^^^^^^^^^^\n"
                                "  hint: add it")
    assert render(RunError("--out o/ is in use", code="DSC305"), src) == "p.dspec: error[DSC305]: --out o/ is in use"
    assert render(RunError("a", code="DSC305")) == "error[DSC305]: a"
    at_template = RunError("template error: x", code="DSC310", location=Location(3, file="t.j2"))
    assert render(at_template, src) == "t.j2:3: error[DSC310]: template error: x"
    # A spec that cannot be read again is still named, without an excerpt.
    assert render(err, ROOT / "no-such.dspec").splitlines()[0] == \
           f"{ROOT / 'no-such.dspec'}:2:1: error[DSC308]: rule drop[x] names column 'x', which the data lacks"


def test_an_operator_error_is_placed_at_its_rule(tmp_path):
    err = RunError("column 'n' holds int64 values, not text", code="DSC303")
    assert err.at_line(12).location == Location(12) and err.at_line(30).location == Location(12)


def test_dsc_run_prints_the_code_at_the_spec_line(tmp_path):
    from typer.testing import CliRunner

    from dsc.commands import app

    (tmp_path / "d.jsonl").write_text('{"prompt": "a b c d"}\n', encoding="utf-8")
    spec = tmp_path / "s.dspec"
    spec.write_text('dataset t version 1 {\n  seed 1\n}\n\nsource s {\n  files "d.jsonl"\n}\n\n'
                    "clean {\n  drop where words(answer) < 3\n}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == EXIT_INPUT_ERROR, result.output
    assert f"{spec}:10:3: error[DSC308]: rule drop[answer] names column 'answer', which the data lacks" \
           in result.stderr
    assert "  10 |   drop where words(answer) < 3" in result.stderr
