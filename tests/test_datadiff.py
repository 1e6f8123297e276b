"""`dsc diff --data` (dsc.datadiff): real runs of the shipped specs over the shipped data.

The counts are checked against the id-level comparison of two independent `dsc run` outputs
(kept.parquet and rejects.jsonl by `_dsc_id`), on real changes and on random ones (hypothesis).
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dsc.api import compile_file
from dsc.commands import app
from dsc.datadiff import CATEGORIES, Side, data_diff
from dsc.datadiff_render import markdown, render
from dsc.engines.local import run_plan
from dsc.errors import DscError
from dsc.exitcodes import EXIT_DATA_CHANGED, EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR, EXIT_USAGE
from tests.hypothesis_budget import examples
from tests.run_outputs import kept_rows

ROOT = Path(__file__).resolve().parents[1]
SPECS = ["annotated", "code_alpaca", "common_gen", "self_instruct", "toolformer"]
SCHEMA = json.loads((ROOT / "docs" / "datadiff.schema.json").read_text(encoding="utf-8"))
runner = CliRunner()

# The counts an id-level comparison of two runs gives, as named in the report's summary.
COUNTS = ("newly_dropped", "newly_kept", "dropped_by_other_rule", "moved_split", "values_changed",
          "read_only_old", "read_only_new", "rows_both")


def dsc(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def _no_finetune(text: str) -> str:
    """The spec without its finetune block: the runs here compare data, not training estimates."""
    return re.sub(r"(?ms)^finetune .*?^}\n", "", text)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project's specs (finetune blocks left out) and the data they read."""
    root = tmp_path_factory.mktemp("project")
    (root / "dsc.toml").write_text("")
    for folder in ("data", "annotations", "evals"):
        shutil.copytree(ROOT / "examples" / folder, root / "examples" / folder)
    (root / "specs").mkdir()
    for name in SPECS:
        (root / "specs" / f"{name}.dspec").write_text(_no_finetune((ROOT / "specs" / f"{name}.dspec").read_text()))
    return root


def side(path: Path) -> Side:
    compiled = compile_file(path)
    assert compiled.ok, compiled.diagnostics
    return Side(str(path), compiled.plan, path.resolve().parent)


def validate(report: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(report, SCHEMA, cls=jsonschema.Draft202012Validator)


# ---- the id-level comparison of two `dsc run` outputs -----------------------------------------------------------

def _outcome(out: Path) -> tuple[dict, dict]:
    fate, data = {}, {}
    for row in kept_rows(out, as_json=True):
        if row.get("_dsc_aug_rule"):
            continue
        fate[row["_dsc_id"]] = ("kept", row.get("_dsc_split"))
        data[row["_dsc_id"]] = {k: v for k, v in row.items() if not k.startswith("_dsc_")}
    for line in (out / "rejects.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        fate[row["_dsc_id"]] = ("dropped", row["_dsc_rule"])
    return fate, data


def id_level(old_out: Path, new_out: Path) -> dict:
    (old, old_data), (new, new_data) = _outcome(old_out), _outcome(new_out)
    both = [i for i in new if i in old]
    kept_both = [i for i in both if old[i][0] == new[i][0] == "kept"]
    return {
        "newly_dropped": sum(old[i][0] == "kept" and new[i][0] == "dropped" for i in both),
        "newly_kept": sum(old[i][0] == "dropped" and new[i][0] == "kept" for i in both),
        "dropped_by_other_rule": sum(old[i][0] == new[i][0] == "dropped" and old[i] != new[i] for i in both),
        "moved_split": sum(old[i] != new[i] for i in kept_both),
        "values_changed": sum(old_data[i] != new_data[i] for i in kept_both),
        "read_only_old": sum(i not in new for i in old),
        "read_only_new": sum(i not in old for i in new),
        "rows_both": len(both),
    }


def run_both(old: Path, new: Path, tmp: Path) -> dict:
    """Each spec run on its own with `dsc run`'s engine, each into a fresh folder (no shared cache)."""
    outs = []
    for n, spec in enumerate((old, new)):
        s = side(spec)
        out = tmp / f"run{n}"
        shutil.rmtree(out, ignore_errors=True)
        run_plan(s.plan, s.base_dir, out)
        outs.append(out)
    return id_level(*outs)


# ---- real changes -----------------------------------------------------------------------------------------------

def _changed(project: Path, name: str, text: str) -> Path:
    path = project / "specs" / name
    path.write_text(text)
    return path


def test_threshold_and_split_change_on_code_alpaca(project, tmp_path):
    """The change of issue 19: near-duplicate threshold 0.8 → 0.6, split 0.9/0.1 → 0.8/0.2."""
    old = project / "specs" / "code_alpaca.dspec"
    new = _changed(project, "code_alpaca_b.dspec",
                   old.read_text().replace("jaccard >= 0.8 ngram", "jaccard >= 0.6 ngram")
                   .replace("train 0.9", "train 0.8").replace("validation 0.1", "validation 0.2"))
    report = data_diff(side(old), side(new))
    validate(report)
    s = report["summary"]
    assert (s["fate_changed"], s["moved_split"], s["newly_dropped"]) == (193, 190, 3)
    assert [(m["from"], m["to"], m["rows"]) for m in report["moves"]] == [("train", "validation", 190)]
    assert [(g["rule"], g["rows"]) for g in report["dropped"]] == [("dedupe_near[instruction,input]", 3)]
    rule = report["rules"][0]
    assert (rule["rule"], rule["dropped_old"], rule["dropped_new"], rule["now_drops"]) == \
        ("dedupe_near[instruction,input]", 0, 3, 3)
    assert rule["policy_change"] == "changed: threshold 0.8 → 0.6"
    example = report["dropped"][0]["examples"][0]
    assert example["source"].startswith("../examples/data/code_alpaca_2k.json#")
    assert example["old"] == {"kept": True, "split": "train"}
    assert example["new"]["rule"] == "dedupe_near[instruction,input]"
    assert {k: s[k] for k in COUNTS} == run_both(old, new, tmp_path)
    gates = {g["gate"]: g for g in report["gates"]}
    # 2 rows fewer than without the decontaminate rule: the two that share a 13-gram with HumanEval
    assert (gates["rows(train)"]["old"]["measured"], gates["rows(train)"]["new"]["measured"]) == (1807, 1614)


def test_value_change_is_counted_per_column(project, tmp_path):
    old = project / "specs" / "code_alpaca.dspec"
    new = _changed(project, "code_alpaca_c.dspec",
                   old.read_text().replace("strip_control, strip", "strip_control, collapse_whitespace, strip"))
    report = data_diff(side(old), side(new))
    validate(report)
    columns = {v["column"]: v["rows"] for v in report["values"]}
    assert columns and set(columns) <= {"instruction", "input", "output"}
    assert report["summary"]["values_changed"] == run_both(old, new, tmp_path)["values_changed"] > 0
    example = report["values"][0]["examples"][0]
    assert example["old"] != example["new"]


def test_the_unchanged_prefix_runs_once(project):
    """A changed split reruns no clean rule: the second side takes every stage from the cache."""
    old = project / "specs" / "common_gen.dspec"
    new = _changed(project, "common_gen_b.dspec", old.read_text().replace("train 0.8", "train 0.7")
                   .replace("test 0.1", "test 0.2"))
    notes = []
    report = data_diff(side(old), side(new), progress=notes.append)
    assert report["summary"]["moved_split"] > 0
    # A stage's end reads "STAGE: IN -> OUT rows", with " (cached)" when the cache gave it (dsc.engines.progress).
    old_stages = [n for n in notes if n.startswith("old: ") and " -> " in n]
    assert old_stages and all(n.endswith("(cached)") for n in old_stages), old_stages
    assert not any(n.startswith("old: reading source") for n in notes)  # the data files are read once


def test_a_late_rule_reruns_only_itself(project):
    old = project / "specs" / "toolformer.dspec"
    new = _changed(project, "toolformer_b.dspec", old.read_text().replace("resolve majority else flag",
                                                                           "resolve first"))
    notes = []
    data_diff(side(old), side(new), progress=notes.append)
    computed = [n for n in notes if n.startswith("old: ") and " -> " in n and n.endswith(" rows")]
    assert len(computed) == 1 and computed[0].startswith("old: conflicts"), computed


def test_the_diff_writes_nothing_beside_the_specs(project, tmp_path):
    before = sorted(p for p in project.rglob("*"))
    work = tmp_path / "cache"
    spec = project / "specs" / "self_instruct.dspec"
    data_diff(side(spec), side(spec), work_dir=work)
    assert sorted(p for p in project.rglob("*")) == before
    assert (work / ".dsc-cache").is_dir()


def test_changed_inputs_are_told_apart_from_the_policy(project, tmp_path):
    """The same policy over an edited copy of its data: every change is the inputs' doing."""
    other = tmp_path / "other"
    (other / "examples" / "data").mkdir(parents=True)
    (other / "dsc.toml").write_text("")
    (other / "specs").mkdir()
    shutil.copy(project / "specs" / "self_instruct.dspec", other / "specs")
    rows = (project / "examples" / "data" / "seed_tasks.jsonl").read_text().splitlines()
    edited = [json.loads(r) for r in rows[5:]]  # the first five rows are gone
    for row in edited[:3]:
        row["instances"][0]["output"] = row["instances"][0]["output"] + " (edited)"
    (other / "examples" / "data" / "seed_tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in edited))
    old, new = project / "specs" / "self_instruct.dspec", other / "specs" / "self_instruct.dspec"
    report = data_diff(side(old), side(new))
    validate(report)
    assert report["inputs"]["changed"]
    assert [f["status"] for f in report["inputs"]["files"]] == ["changed"]
    s = report["summary"]
    assert s["read_only_old"] == 5 and s["read_only_new"] == 0  # keyed rows: an edit keeps the id
    assert s["values_changed"] == 3
    effects = report["effects"]
    assert effects["separated"]
    policy = effects["policy"]["summary"]
    assert policy["rows_changed"] == 0 and policy["gates_changed"] == 0
    assert effects["inputs"]["summary"]["rows_changed"] == s["rows_changed"]
    assert {k: s[k] for k in COUNTS} == run_both(old, new, tmp_path)
    assert "the data changed too" in render(report, "text")


# ---- properties -------------------------------------------------------------------------------------------------

def _clean_lines(text: str) -> tuple[int, list[int]]:
    lines = text.splitlines()
    start = lines.index("clean {")
    end = lines.index("}", start)
    return start, list(range(start + 1, end))


def _text_columns(text: str) -> list[str]:
    block = text[text.index("schema {"):]
    block = block[: block.index("}")]
    return re.findall(r"^\s+(\w+)\s*:\s*text", block, flags=re.M)


@st.composite
def mutation(draw):
    """One random policy change, as a function of the spec's text (None: it does not apply)."""
    kind = draw(st.sampled_from(["threshold", "split", "seed", "remove", "add", "normalize", "words"]))
    if kind == "threshold":
        value = draw(st.sampled_from(["0.5", "0.6", "0.7", "0.75", "0.85", "0.9", "0.95"]))
        return lambda t: re.sub(r"jaccard >= [0-9.]+ ngram", f"jaccard >= {value} ngram", t, count=1)
    if kind == "split":
        first = draw(st.integers(60, 95))

        def split(t):
            parts = re.findall(r"^  (\w+) (0\.\d+)$", t, flags=re.M)
            if len(parts) < 2:
                return None
            a, b = (round(float(p[1]) * 100) for p in parts[:2])
            if not 0 < first < a + b:
                return None
            t = re.sub(rf"^  {parts[0][0]} {parts[0][1]}$", f"  {parts[0][0]} {first / 100}", t, flags=re.M)
            second = f"  {parts[1][0]} {(a + b - first) / 100}"
            return re.sub(rf"^  {parts[1][0]} {parts[1][1]}$", second, t, flags=re.M)
        return split
    if kind == "seed":
        seed = draw(st.integers(1, 10_000))
        return lambda t: re.sub(r"^(split by \w+)( seed \d+)? \{$", rf"\1 seed {seed} {{", t, count=1, flags=re.M)
    if kind == "remove":
        index = draw(st.integers(0, 10))

        def remove(t):
            lines = t.splitlines(keepends=True)
            _, rules = _clean_lines(t)
            if len(rules) < 2:
                return None
            del lines[rules[index % len(rules)]]
            return "".join(lines)
        return remove
    if kind == "add":
        index, limit, pick = draw(st.integers(0, 10)), draw(st.integers(2, 12)), draw(st.integers(0, 10))

        def add(t):
            lines = t.splitlines(keepends=True)
            _, rules = _clean_lines(t)
            columns = _text_columns(t)
            rule = f"  drop where words({columns[pick % len(columns)]}) < {limit}\n"
            lines.insert(rules[index % len(rules)] + 1, rule)
            return "".join(lines)
        return add
    if kind == "words":
        limit = draw(st.integers(1, 8))
        return lambda t: re.sub(r"words\((\w+)\) < \d+", rf"words(\1) < {limit}", t, count=1)
    option = draw(st.sampled_from(["collapse_whitespace", "lowercase"]))
    return lambda t: re.sub(r"(normalize [^:]+: )", rf"\1{option}, ", t, count=1) if option not in t else None


def _mutated(project: Path, name: str, changes, tag: str) -> Path | None:
    text = (project / "specs" / f"{name}.dspec").read_text()
    for change in changes:
        text = change(text)
        if text is None:
            return None
    path = project / "specs" / f"{name}_{tag}.dspec"
    path.write_text(text)
    return path if compile_file(path).ok else None


PROPERTY = settings(max_examples=examples(0.05), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.slow
@PROPERTY
@given(name=st.sampled_from(SPECS), changes=st.lists(mutation(), max_size=2))
def test_a_spec_against_itself_reports_no_change(project, name, changes):
    spec = _mutated(project, name, changes, "same")
    assume(spec is not None)
    try:
        report = data_diff(side(spec), side(spec), examples=1)
    except DscError:
        assume(False)  # a change that empties a split, say: no run to compare
    validate(report)
    s = report["summary"]
    assert s["rows_changed"] == s["fate_changed"] == s["values_changed"] == 0
    assert s["gates_changed"] == 0 and not report["inputs"]["changed"] and report["policy"] == []
    assert "no data change" in render(report, "text")


@pytest.mark.slow
@PROPERTY
@given(name=st.sampled_from(SPECS), changes=st.lists(mutation(), min_size=1, max_size=2))
def test_counts_equal_the_id_level_comparison_of_two_runs(project, tmp_path_factory, name, changes):
    new = _mutated(project, name, changes, "new")
    assume(new is not None)
    old = project / "specs" / f"{name}.dspec"
    try:
        report = data_diff(side(old), side(new), examples=1)
    except DscError:
        assume(False)
    validate(report)
    s = report["summary"]
    assert {k: s[k] for k in COUNTS} == run_both(old, new, tmp_path_factory.mktemp("runs"))
    per_rule_gained = sum(r["now_drops"] for r in report["rules"])
    assert per_rule_gained == s["newly_dropped"] + s["dropped_by_other_rule"]


# ---- the command line -------------------------------------------------------------------------------------------

def test_cli_exit_codes_and_formats(project):
    old = project / "specs" / "common_gen.dspec"
    new = _changed(project, "common_gen_c.dspec", old.read_text().replace("train 0.8", "train 0.7")
                   .replace("test 0.1", "test 0.2"))
    text = dsc("diff", old, new, "--data")
    assert text.exit_code == EXIT_OK and "move between splits" in text.stdout.splitlines()[2]
    assert dsc("diff", old, new, "--data", "--exit-code").exit_code == EXIT_DATA_CHANGED
    assert dsc("diff", old, old, "--data", "--exit-code").exit_code == EXIT_OK
    assert dsc("diff", old, new, "--data", "--fail-on", "drops-more,changes-values").exit_code == EXIT_OK
    hit = dsc("diff", old, new, "--data", "--fail-on", "drops-more,moves-splits")
    assert hit.exit_code == EXIT_DATA_CHANGED and "moves-splits" in hit.stderr
    assert dsc("diff", old, new, "--exit-code").exit_code == EXIT_DATA_CHANGED  # without --data: the policy
    assert dsc("diff", old, old, "--exit-code").exit_code == EXIT_OK
    md = dsc("diff", old, new, "--data", "--format", "markdown")
    assert md.exit_code == EXIT_OK
    first = md.stdout.splitlines()[0]
    assert first.startswith("**dsc diff --data**") and "move between splits" in first
    assert "| from \\ to |" in md.stdout and "<details>" in md.stdout and "#### Gates" in md.stdout
    out = dsc("diff", old, new, "--data", "--format", "json")
    report = json.loads(out.stdout)
    validate(report)
    assert report["summary"]["moved_split"] > 0
    validate(json.loads(dsc("diff", old, new, "--format", "json").stdout))  # the policy alone


def test_specs_without_a_split_block_diff_in_every_format(tmp_path):
    """Their rows are in the one split a run calls `all` (it was None, and the text report crashed)."""
    (tmp_path / "dsc.toml").write_text("")
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps({"q": q}) + "\n" for q in ["a b", "c", "d e", "a b"]))
    old, new = tmp_path / "old.dspec", tmp_path / "new.dspec"
    old.write_text('source s {\n  files "rows.jsonl"\n}\n\nclean {\n  dedupe exact on q\n}\n')
    new.write_text(old.read_text().replace("dedupe exact on q", "dedupe exact on q\n  drop where words(q) < 2"))
    text = dsc("diff", old, new, "--data")
    assert text.exit_code == EXIT_OK, text.output
    assert re.search(r"kept rows per split\n  all +3 +→ +2 +−1\n", text.stdout), text.stdout
    assert "| all | 3 | 2 | −1 |" in dsc("diff", old, new, "--data", "--format", "markdown").stdout
    report = json.loads(dsc("diff", old, new, "--data", "--format", "json").stdout)
    validate(report)
    assert report["splits"] == [{"split": "all", "old": 3, "new": 2}]


@pytest.mark.parametrize("args", [["--format", "yaml"], ["--fail-on", "drops-more"], ["--data", "--fail-on", "nope"]])
def test_cli_usage_errors(args):
    spec = ROOT / "specs" / "common_gen.dspec"
    result = dsc("diff", spec, spec, *args)
    assert result.exit_code == EXIT_USAGE and "Traceback" not in result.output


def test_an_added_spec_is_all_added(project):
    spec = project / "specs" / "self_instruct.dspec"
    out = dsc("diff", os.devnull, spec, "--data", "--format", "json", "--exit-code")
    assert out.exit_code == EXIT_DATA_CHANGED
    report = json.loads(out.stdout)
    validate(report)
    assert report["old"]["problem"] == "absent" and not report["old"]["ran"]
    assert {c["kind"] for c in report["policy"]} == {"added"}
    s = report["summary"]
    assert s["read_only_new"] == s["rows_new"] == 175 and s["rows_both"] == 0
    assert "the spec is new" in dsc("diff", os.devnull, spec, "--data").stdout


def test_an_old_side_that_does_not_compile_shows_the_new_side_alone(project):
    bad = _changed(project, "broken.dspec", "dataset x version 1 {\n  seed 1\n}\nclean {\n  drop where words(a) <\n}\n")
    spec = project / "specs" / "self_instruct.dspec"
    out = dsc("diff", bad, spec, "--data", "--format", "markdown")
    assert out.exit_code == EXIT_OK and "Traceback" not in out.output
    assert "does not compile" in out.stdout and "DSC105" in out.stderr
    assert "175 rows are new" in out.stdout.splitlines()[0]
    report = json.loads(dsc("diff", bad, spec, "--data", "--format", "json").stdout)
    validate(report)
    assert report["old"]["problem"].startswith("does not compile")
    # Without --data the old side must compile, as before.
    assert dsc("diff", bad, spec).exit_code == EXIT_SPEC_ERROR
    # The new side must compile, always.
    assert dsc("diff", spec, bad, "--data").exit_code == EXIT_SPEC_ERROR


def test_an_old_side_whose_run_fails_is_reported(project):
    spec = project / "specs" / "self_instruct.dspec"
    (project / "examples" / "data" / "broken.jsonl").write_text('{"id": "a", "instruction": \n')
    broken = _changed(project, "broken_data.dspec", spec.read_text().replace("seed_tasks.jsonl", "broken.jsonl"))
    assert compile_file(broken).ok  # the file is there: only reading it fails
    out = dsc("diff", broken, spec, "--data", "--format", "json")
    assert out.exit_code == EXIT_OK, out.output
    report = json.loads(out.stdout)
    validate(report)
    assert report["old"]["problem"].startswith("its run failed") and not report["old"]["ran"]
    assert report["summary"]["read_only_new"] == 175
    # The new side's run failing is the command's failure, with the run's exit code.
    failed = dsc("diff", spec, broken, "--data")
    assert failed.exit_code == EXIT_INPUT_ERROR and "Traceback" not in failed.output


def test_missing_files_exit_4(project):
    spec = project / "specs" / "self_instruct.dspec"
    gone = _changed(project, "gone.dspec", spec.read_text().replace("seed_tasks.jsonl", "seed_tasks_gone.jsonl"))
    assert dsc("diff", spec, gone, "--data").exit_code == EXIT_INPUT_ERROR
    assert dsc("diff", project / "specs" / "nope.dspec", spec, "--data").exit_code == EXIT_INPUT_ERROR


def test_markdown_stays_under_the_comment_limit(project):
    old = project / "specs" / "code_alpaca.dspec"
    new = _changed(project, "code_alpaca_d.dspec", old.read_text().replace("train 0.9", "train 0.5")
                   .replace("validation 0.1", "validation 0.5")
                   .replace("nfc, strip_control, strip", "nfc, strip_control, collapse_whitespace, strip"))
    report = data_diff(side(old), side(new), examples=100)
    full = markdown(report)
    assert "<details>" in full
    for limit in (len(full) - 1, 3000, 1500):
        cut = markdown(report, limit=limit)
        assert len(cut) <= limit and "**Cut**" in cut
        assert cut.count("<details>") == cut.count("</details>")
        assert cut.splitlines()[0] == full.splitlines()[0]


def test_categories_are_documented():
    doc = (ROOT / "docs" / "review.md").read_text(encoding="utf-8")
    for name in CATEGORIES:
        assert f"`{name}`" in doc


def test_base_from_git_separates_policy_and_data(tmp_path):
    """`--base REF`: the old spec and its tracked data as they were at REF (dsc.gitbase)."""
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    (repo / "examples" / "data").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "data" / "seed_tasks.jsonl", repo / "examples" / "data")
    spec = repo / "specs" / "self_instruct.dspec"
    spec.write_text((ROOT / "specs" / "self_instruct.dspec").read_text())

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
                       cwd=repo, check=True, capture_output=True)
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "base")
    spec.write_text(spec.read_text().replace("train 0.9", "train 0.8").replace("validation 0.1", "validation 0.2"))
    data = repo / "examples" / "data" / "seed_tasks.jsonl"
    data.write_text("".join(data.read_text().splitlines(keepends=True)[4:]))  # four rows gone
    out = dsc("diff", "--base", "HEAD", spec, "--data", "--format", "json")
    assert out.exit_code == EXIT_OK, out.output
    report = json.loads(out.stdout)
    validate(report)
    assert report["old"]["spec"] == f"HEAD:{spec}"
    assert report["inputs"]["changed"] and report["summary"]["read_only_old"] == 4
    assert report["effects"]["separated"]
    assert report["effects"]["policy"]["summary"]["moved_split"] > 0
    assert report["effects"]["policy"]["summary"]["read_only_old"] == 0
    assert report["effects"]["inputs"]["summary"]["read_only_old"] == 4
    assert report["effects"]["inputs"]["summary"]["moved_split"] == 0
    added = dsc("diff", "--base", "HEAD", repo / "specs" / "new.dspec", "--data")
    assert added.exit_code == EXIT_INPUT_ERROR  # the new side itself does not exist
    shutil.copy(spec, repo / "specs" / "new.dspec")
    added = dsc("diff", "--base", "HEAD", repo / "specs" / "new.dspec", "--data", "--format", "json")
    assert added.exit_code == EXIT_OK and json.loads(added.stdout)["old"]["problem"] == "absent"
    assert dsc("diff", "--base", "no-such-ref", spec, "--data").exit_code == EXIT_INPUT_ERROR
