"""`dedupe fuzzy` as a user runs it: `dsc check` and `dsc run` through the command line."""
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK
from dsc.kernels.fuzzy import load_pairs
from laws import dsc

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "fuzzy"
PEOPLE_SPEC = """\
dataset people version 1 {
  seed 1
}
source people {
  files "people.json"
}
schema {
  name    : text
  address : text
}
clean {
  dedupe fuzzy on name, address pairs "people_pairs.json"
}
"""
NO_DEDUPE = "dedupe fuzzy needs the package dedupe, which is not installed here"


@pytest.fixture
def people_spec(tmp_path):
    for name in ("people.json", "people_pairs.json"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    spec = tmp_path / "people.dspec"
    spec.write_text(PEOPLE_SPEC)
    return spec


def test_without_dedupe_check_warns_and_run_stops_with_the_install_command(people_spec, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dedupe", None)  # as if `pip install dsc` without the extra
    checked = dsc("check", people_spec)
    assert checked.exit_code == EXIT_OK
    assert f"people.dspec:12:10: warning[DSC221]: {NO_DEDUPE}" in checked.stderr
    assert "hint: pip install 'dsc[fuzzy]'" in checked.stderr

    ran = dsc("run", people_spec, "--out", tmp_path / "out")
    assert ran.exit_code == EXIT_INPUT_ERROR
    assert f"people.dspec:12:3: error[DSC312]: {NO_DEDUPE}: pip install 'dsc[fuzzy]'" in ran.stderr


def test_a_dedupe_that_fails_to_import_stops_the_run_with_its_message(people_spec, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ImportError("fuzzy de-duplication needs dedupe: pip install 'dsc[fuzzy]'")

    monkeypatch.setattr("dsc.kernels.fuzzy.fuzzy_duplicates", broken)
    ran = dsc("run", people_spec, "--out", tmp_path / "out")
    assert ran.exit_code == EXIT_INPUT_ERROR
    assert "people.dspec:12:3: error[DSC312]: fuzzy de-duplication needs dedupe: pip install 'dsc[fuzzy]'" in ran.stderr


# --------------------------------------------------------------------------
# The shipped example: examples/labels/toolformer_pairs.json, trained on and run over
# tests/fixtures/fuzzy/toolformer_slice.json (rows of the Toolformer data it was not trained on)

TOOLFORMER_SPEC = FIXTURES / "toolformer.dspec"
SCRIPT = REPO / "examples" / "labels" / "toolformer_pairs.py"

# Survivor (the lowest original row index: `keep by row asc`) -> the rows merged into it.
# Rows not listed stay apart.
MERGED = {
    # "What is the capital of X?" asked again in other words, through the input, or of another
    # lookup tool: one group per country, and no two countries merged.
    28: [2100, 2465, 4160,
         2831],  # wrong: also asks for the population (the model sees one long, similar sentence)
    69: [374, 510, 712, 1138, 1210, 1554, 3024, 3060, 3208, 3572, 4523, 6313, 6337, 6987,
         4242],  # wrong: also asks for the temperature there
    452: [1700, 2514, 3816, 5885],
    1163: [4444],  # misses 4063, answered "To find the capital of Spain, search(…)"
    1365: [3096],
    1634: [5594, 6865, 7592],
    1740: [2251, 2727],
    # The speed of light in a vacuum, and in miles per hour, kept apart from each other. Missed:
    # 1164 and 7397 (wikipedia('Speed of light')) for the first, 2607, 3376 and 5084 for the second.
    162: [1039, 2335, 5602, 6162, 6733, 7209, 7524],
    1271: [1957],
}


def _script():
    spec = importlib.util.spec_from_file_location("toolformer_pairs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_toolformer_files_are_what_the_script_writes_from_the_upstream_rows():
    script = _script()
    rows = script.load_rows()  # checks the data file's git blob first
    assert script.PAIRS.read_text(encoding="utf-8") == script.pairs_json(rows)
    assert script.SLICE.read_text(encoding="utf-8") == script.slice_json(rows)
    pairs = load_pairs(script.PAIRS, ["instruction", "input", "output"])
    assert (len(pairs["match"]), len(pairs["distinct"])) == (37, 33)


@pytest.mark.slow
def test_toolformer_example_merges_rewordings_and_keeps_look_alikes_apart(tmp_path):
    pytest.importorskip("dedupe")
    ran = dsc("run", TOOLFORMER_SPEC, "--out", tmp_path)
    assert ran.exit_code == EXIT_OK, ran.stderr
    merged: dict[int, list[int]] = {}
    for line in (tmp_path / "rejects.jsonl").read_text().splitlines():
        reject = json.loads(line)
        assert reject["_dsc_reason"] == "fuzzy duplicate record"
        merged.setdefault(int(reject["_dsc_duplicate_of"]), []).append(int(reject["_dsc_id"]))
    assert {k: sorted(v) for k, v in merged.items()} == {k: sorted(v) for k, v in MERGED.items()}


# --------------------------------------------------------------------------
# Caching as the engine runs the rule: the pairs file's sha256 is part of the stage's key, and the
# kernel keeps dedupe's scored pairs in the run's cache folder (dsc.kernels.fuzzy, "Cost and caching")


def _execute(spec, work_dir):
    from dsc.api import compile_file
    from dsc.engines.local import execute

    compiled = compile_file(spec)
    assert compiled.ok, compiled.diagnostics
    result = execute(compiled.plan, spec.parent, work_dir)
    fuzzy_stage = next(s for s in result.stages if s.op == "dedupe_fuzzy")
    return result, fuzzy_stage


@pytest.fixture
def trainings(monkeypatch):
    """Whether each clustering call of the kernel trained (True) or clustered cached scores (False)."""
    from dsc.kernels import fuzzy

    calls = []
    real_cluster, real_child = fuzzy._cluster, fuzzy._cluster_in_child
    monkeypatch.setattr(fuzzy, "_cluster", lambda *job: calls.append(job[5] is None) or real_cluster(*job))
    monkeypatch.setattr(fuzzy, "_cluster_in_child", lambda job: calls.append(job[5] is None) or real_child(job))
    return calls


def test_an_edited_pairs_file_reruns_the_rule_and_retrains(people_spec, tmp_path, trainings):
    pytest.importorskip("dedupe")
    work = tmp_path / "work"
    first, stage = _execute(people_spec, work)
    assert not stage.cached and trainings == [True] and stage.rows_out == 30
    _, stage = _execute(people_spec, work)
    assert stage.cached and trainings == [True]  # the whole stage came from the stage cache

    pairs_file = people_spec.parent / "people_pairs.json"
    pairs = json.loads(pairs_file.read_text())
    pairs["match"] = pairs["match"][1:]
    pairs_file.write_text(json.dumps(pairs))
    _, stage = _execute(people_spec, work)
    assert not stage.cached and trainings == [True, True]
    assert len(list((work / ".dsc-cache" / "fuzzy").glob("*.scores.npy"))) == 2


def test_a_new_threshold_clusters_the_cached_scores(people_spec, tmp_path, trainings):
    pytest.importorskip("dedupe")
    work = tmp_path / "work"
    cold, _ = _execute(people_spec, work)
    people_spec.write_text(people_spec.read_text().replace('"people_pairs.json"',
                                                           '"people_pairs.json" threshold 0.95'))
    stricter, stage = _execute(people_spec, work)
    assert not stage.cached and trainings == [True, False]
    # The same as a run that trains from scratch at 0.95.
    fresh, _ = _execute(people_spec, tmp_path / "fresh")
    assert trainings == [True, False, True]
    assert stage.rows_out == 32 and stricter.kept.equals(fresh.kept) and stricter.rejects.equals(fresh.rejects)
    assert not stricter.kept.equals(cold.kept)


def test_one_or_two_workers_write_the_same_bytes(people_spec, tmp_path):
    pytest.importorskip("dedupe")
    outs = []
    for workers in (1, 2):
        ran = dsc("run", people_spec, "--out", tmp_path / f"w{workers}", "--workers", workers)
        assert ran.exit_code == EXIT_OK, ran.stderr
        outs.append([(tmp_path / f"w{workers}" / name).read_bytes() for name in ("kept.parquet", "rejects.jsonl")])
    assert outs[0] == outs[1]
    assert len(outs[0][1].splitlines()) == 12
