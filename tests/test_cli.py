"""The command line as a user runs it: exit codes, outputs, bad input never a traceback."""
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsc.commands import app
from dsc.exitcodes import EXIT_GATE_FAILED, EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR, EXIT_USAGE

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.dspec"))
runner = CliRunner()


def dsc(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_example_specs_check_and_are_formatted(spec):
    assert dsc("check", spec).exit_code == EXIT_OK
    assert dsc("fmt", "--check", spec).exit_code == EXIT_OK


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_compile_twice_gives_identical_bytes(spec, tmp_path):
    assert dsc("compile", spec, "-o", tmp_path / "a.json").exit_code == EXIT_OK
    assert dsc("compile", spec, "-o", tmp_path / "b.json").exit_code == EXIT_OK
    first = (tmp_path / "a.json").read_bytes()
    assert first == (tmp_path / "b.json").read_bytes()
    assert json.loads(first)["fingerprint"].startswith("sha256:")
    assert dsc("compile", spec).stdout.encode() == first


def test_explain_and_diff(tmp_path):
    spec = ROOT / "specs" / "common_gen.dspec"
    explained = dsc("explain", spec)
    assert explained.exit_code == EXIT_OK and "conflicts" in explained.stdout
    (tmp_path / "dsc.toml").write_text("")  # marks the project root, so ../examples stays inside it
    (tmp_path / "specs").mkdir()
    changed = tmp_path / "specs" / "common_gen.dspec"
    changed.write_text(spec.read_text().replace("train 0.8", "train 0.7").replace("test 0.1", "test 0.2"))
    out = dsc("diff", spec, changed)
    assert out.exit_code == EXIT_OK and "moves rows between splits" in out.stdout


def test_fmt_rewrites_and_check_reports(tmp_path):
    messy = tmp_path / "m.dspec"
    messy.write_text("gate   {\n dropped<=5%   # keep it low\n}\n")
    assert dsc("fmt", "--check", messy).exit_code == EXIT_SPEC_ERROR
    assert dsc("fmt", messy).exit_code == EXIT_OK
    assert messy.read_text() == "gate {\n  dropped <= 5%  # keep it low\n}\n"
    assert dsc("fmt", "--check", messy).exit_code == EXIT_OK


@pytest.mark.parametrize("content, code, words", [
    (b"", EXIT_SPEC_ERROR, "has no 'source' block"),
    (b"\x00\x01\x02binary", EXIT_SPEC_ERROR, "binary"),
    (b"clean {\n  drop where words(x) < 3\n\xff\xfe\n}\n", EXIT_SPEC_ERROR, "not UTF-8"),
    (b"{" * 10000, EXIT_SPEC_ERROR, "unexpected"),
    (b"clean {\n  dedup exact on x\n", EXIT_SPEC_ERROR, "did you mean 'dedupe'"),
])
def test_bad_specs_get_diagnostics_not_tracebacks(tmp_path, content, code, words):
    spec = tmp_path / "bad.dspec"
    spec.write_bytes(content)
    for command in ("check", "compile", "explain"):
        result = dsc(command, spec)
        assert result.exit_code == code
        assert words in result.stderr
        assert "Traceback" not in result.stderr


def test_missing_files_exit_4(tmp_path):
    assert dsc("check", tmp_path / "nope.dspec").exit_code == EXIT_INPUT_ERROR
    assert dsc("fmt", tmp_path / "nope.dspec").exit_code == EXIT_INPUT_ERROR
    assert dsc("diff", tmp_path / "nope.json", tmp_path / "nope.dspec").exit_code == EXIT_INPUT_ERROR
    spec = tmp_path / "s.dspec"
    spec.write_text('source s {\n  files "missing.jsonl"\n}\n')
    result = dsc("run", spec, "--out", tmp_path / "out")
    assert result.exit_code == EXIT_INPUT_ERROR and "missing.jsonl" in result.stderr


def test_run_writes_outputs_and_a_summary(tmp_path):
    shutil.copy(ROOT / "examples" / "data" / "wiqa_what_is_the_final_step_of_the_following_process.jsonl",
                tmp_path / "wiqa.jsonl")
    spec = tmp_path / "s.dspec"
    spec.write_text('source s {\n  files "wiqa.jsonl"\n}\n\nclean {\n  dedupe exact on prompt, completion\n}\n')
    result = dsc("run", spec, "--out", tmp_path / "out")
    assert result.exit_code == EXIT_OK, result.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["counts"] == {"input": 200, "kept": 141, "rejected": 59}
    assert "dedupe_exact[prompt," in result.stdout and "59" in result.stdout
    assert "split all: 141 rows" in result.stdout


def test_a_split_of_one_row_is_one_row(tmp_path):
    (tmp_path / "one.jsonl").write_text('{"q": "a"}\n')
    spec = tmp_path / "s.dspec"
    spec.write_text('source s {\n  files "one.jsonl"\n}\n')
    result = dsc("run", spec, "--out", tmp_path / "out")
    assert result.exit_code == EXIT_OK, result.stderr
    assert "split all: 1 row\n" in result.stdout or "split all: 1 row " in result.stdout, result.stdout


def test_exit_codes_are_distinct():
    assert len({EXIT_OK, EXIT_SPEC_ERROR, EXIT_GATE_FAILED, EXIT_INPUT_ERROR, 1}) == 5


def test_annotated_spec_runs_and_a_failing_annotation_floor_exits_3(tmp_path):
    spec = ROOT / "specs" / "annotated.dspec"
    result = dsc("run", spec, "--out", tmp_path / "ok")
    assert result.exit_code == EXIT_OK, result.stderr
    stats = json.loads((tmp_path / "ok" / "stats.json").read_text())
    assert json.dumps(stats).count("krippendorff") >= 1
    strict = ROOT / "specs" / ".strict_annotated.dspec"  # beside the original, so its paths resolve
    strict.write_text(spec.read_text().replace("nominal >= 0.6", "nominal >= 0.95")
                      .replace("below_threshold drop", "below_threshold fail")
                      .replace("agreement(question_type) >= 0.6", "agreement(question_type) >= 0.5"))
    try:
        failed = dsc("run", strict, "--out", tmp_path / "strict")
    finally:
        strict.unlink()
    assert failed.exit_code == EXIT_GATE_FAILED
    assert "question_type" in failed.stderr and "0.95" in failed.stderr
    assert (tmp_path / "strict" / "manifest.json").exists()  # outputs are still written


def test_an_annotation_floor_that_flags_is_a_warning_on_the_terminal(tmp_path):
    spec = ROOT / "specs" / "annotated.dspec"
    flagging = ROOT / "specs" / ".flagging_annotated.dspec"  # beside the original, so its paths resolve
    flagging.write_text(spec.read_text().replace("nominal >= 0.6", "nominal >= 0.95")
                        .replace("below_threshold drop", "below_threshold flag"))
    try:
        result = dsc("run", flagging, "--out", tmp_path / "out")
    finally:
        flagging.unlink()
    assert result.exit_code == EXIT_OK, result.stderr
    assert re.search(r"warning: agreement for 'question_type' is [0-9.]+, below the threshold 0.95", result.stderr)


def test_agreement_command(tmp_path):
    # Krippendorff 2011's 4 coders × 12 units example (nominal alpha 0.743), in long format.
    data = {"A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
            "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
            "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
            "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]}
    rows = [{"item": str(u), "annotator": who, "label": str(v)}
            for who, values in data.items() for u, v in enumerate(values) if v is not None]
    path = tmp_path / "k.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = dsc("agreement", path, "--metric", "krippendorff", "--level", "nominal", "--json")
    assert result.exit_code == EXIT_OK, result.stderr
    found = json.loads(result.stdout)
    # unit 12 has one label only, so 11 units are pairable (as in Krippendorff 2011)
    assert round(found["value"], 3) == 0.743 and found["annotators"] == 4 and found["items"] == 11
    assert dsc("agreement", path, "--metric", "fleiss", "--weights", "linear").exit_code == EXIT_SPEC_ERROR
    assert dsc("agreement", tmp_path / "none.jsonl", "--metric", "percent").exit_code == EXIT_INPUT_ERROR


def test_agreement_says_which_records_it_left_out(tmp_path):
    path = tmp_path / "gaps.jsonl"
    path.write_text('{"item": "1", "annotator": "a", "label": "x"}\n{"item": "1", "annotator": "b", "label": "x"}\n'
                    'not json\n{"item": "2", "annotator": "a"}\n')
    text = dsc("agreement", path, "--metric", "percent")
    assert text.exit_code == EXIT_OK and text.stdout.startswith("percent: 1.0000 over 1 items")
    assert "2 of 4 records not used:\n  gaps.jsonl:3: not valid JSON" in text.stderr and "gaps.jsonl:4: no label" in text.stderr
    found = json.loads(dsc("agreement", path, "--metric", "percent", "--json").stdout)
    assert found["records"] == 4 and [p["source"] for p in found["not_used"]] == ["gaps.jsonl:3", "gaps.jsonl:4"]


def test_compile_into_an_existing_folder_writes_spec_name_plan_json(tmp_path):
    spec = ROOT / "specs" / "common_gen.dspec"
    result = dsc("compile", spec, "-o", tmp_path)
    assert result.exit_code == EXIT_OK, result.stderr
    assert (tmp_path / "common_gen.plan.json").read_text() == dsc("compile", spec, "-o", "-").stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["common_gen.plan.json"]  # no temp file left


def test_compile_to_an_unwritable_place_is_an_input_error_and_leaves_nothing(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    result = dsc("compile", ROOT / "specs" / "common_gen.dspec", "-o", tmp_path / "file" / "plan.json")
    assert result.exit_code == EXIT_INPUT_ERROR and "cannot be written" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_workers_are_capped_at_64(tmp_path):
    result = dsc("run", ROOT / "specs" / "common_gen.dspec", "--out", tmp_path / "out", "--workers", "100000")
    assert result.exit_code == EXIT_USAGE and "--workers" in result.output
    assert not (tmp_path / "out").exists()


def test_compile_and_fmt_never_replace_a_link_or_a_device(tmp_path):
    spec = tmp_path / "s.dspec"
    spec.write_text('source s {\n  files "d.jsonl"\n}\n')
    target = tmp_path / "target.json"
    target.write_text("mine")
    (tmp_path / "link.json").symlink_to(target)
    result = dsc("compile", spec, "-o", tmp_path / "link.json")
    assert result.exit_code == EXIT_INPUT_ERROR and "is a symbolic link" in result.stderr
    assert (tmp_path / "link.json").is_symlink() and target.read_text() == "mine"
    assert dsc("compile", spec, "-o", "/dev/null").exit_code == EXIT_INPUT_ERROR
    assert Path("/dev/null").is_char_device()

    messy = tmp_path / "messy.dspec"
    messy.write_text('source s {\n    files   "d.jsonl"\n}\n')
    (tmp_path / "linked.dspec").symlink_to(messy)
    result = dsc("fmt", tmp_path / "linked.dspec")
    assert result.exit_code == EXIT_INPUT_ERROR and "is a symbolic link" in result.stderr
    assert (tmp_path / "linked.dspec").is_symlink()
