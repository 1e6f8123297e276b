"""The local engine on real and generated data: counts, determinism, cache, bad input."""
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsc.api import compile_text
from dsc.engines.local import CACHE_DIR, run_plan
from dsc.ops import runtime
from dsc.ops.runtime import RunError
from dsc.syntax.source import SourceFile
from hypothesis_budget import examples
from run_outputs import kept_by_id, kept_rows

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"


def plan_of(text: str):
    result = compile_text(SourceFile("t.dspec", text))
    assert result.ok, [d.message for d in result.diagnostics]
    return result.plan


def spec_over(path: str, schema: str, rules: str) -> str:
    return (f'source s {{\n  files "{path}"\n}}\n\nschema {{\n{schema}\n}}\n\nclean {{\n{rules}\n}}\n')


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def data_dir(tmp_path):
    shutil.copy(DATA / "common_gen_Example_prompt.jsonl", tmp_path / "common_gen.jsonl")
    shutil.copy(DATA / "code_alpaca_2k.json", tmp_path / "code_alpaca.json")
    shutil.copy(DATA / "cosmos_qa_only_question_answer.jsonl", tmp_path / "cosmos.jsonl")
    shutil.copy(DATA / "wiqa_what_is_the_final_step_of_the_following_process.jsonl", tmp_path / "wiqa.jsonl")
    return tmp_path


@pytest.mark.parametrize("name", ["cosmos", "wiqa", "common_gen"])
def test_exact_and_conflict_counts_match_pandas(data_dir, name):
    text = spec_over(f"{name}.jsonl", "  prompt : text\n  completion : text",
                     "  dedupe exact on prompt, completion\n  conflicts on prompt -> completion resolve drop")
    result = run_plan(plan_of(text), data_dir, data_dir / "out")
    df = pd.read_json(data_dir / f"{name}.jsonl", lines=True)
    exact = int(df.duplicated(["prompt", "completion"]).sum())
    unique = df.drop_duplicates(["prompt", "completion"])
    in_conflict = int((unique.groupby("prompt")["completion"].transform("nunique") > 1).sum())
    rules = {r["id"]: r for r in result.manifest["rules"]}
    assert exact + in_conflict > 0  # each file has real duplicates or conflicts
    assert rules["dedupe_exact[prompt,completion]"]["removed"] == exact
    assert rules["conflicts[prompt->completion]"]["removed"] == in_conflict
    assert result.manifest["counts"] == {"input": len(df), "kept": len(df) - exact - in_conflict,
                                         "rejected": exact + in_conflict}


def test_every_removed_duplicate_names_its_survivor(data_dir):
    text = spec_over("wiqa.jsonl", "  prompt : text\n  completion : text",
                     "  dedupe exact on prompt, completion ignoring case, whitespace")
    out = data_dir / "out"
    run_plan(plan_of(text), data_dir, out)
    kept = kept_by_id(out)
    rejects = read_jsonl(out / "rejects.jsonl")
    assert len(rejects) == 59  # pandas finds 59 exact duplicate rows in this file
    lines = read_jsonl(data_dir / "wiqa.jsonl")
    key = lambda r: json.dumps([r[c].casefold().split() for c in ("prompt", "completion")])  # noqa: E731
    first_line: dict[str, int] = {}
    for number, row in enumerate(lines, 1):
        first_line.setdefault(key(row), number)
    for r in rejects:
        survivor = kept[r["_dsc_duplicate_of"]]
        assert r["_dsc_rule"] == "dedupe_exact[prompt,completion]" and r["_dsc_line"] == 11
        assert r["_dsc_reason"] == "exact duplicate" and r["_dsc_cluster"] is not None
        assert r["_dsc_similarity"] is None  # only dedupe near measures a similarity
        assert r["_dsc_row"]["prompt"].casefold().split() == survivor["prompt"].casefold().split()
        # keep first = the first row of the file (pandas' drop_duplicates), not the smallest row id
        first = first_line[key(r["_dsc_row"])]
        assert first < int(r["_dsc_src"].rsplit(":", 1)[1])
        assert {c: survivor[c] for c in ("prompt", "completion")} == lines[first - 1]


def _outputs(out: Path) -> dict[str, bytes]:
    """Every file the run wrote, exports in subfolders included (the stage cache is not an output)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and CACHE_DIR not in p.relative_to(out).parts}


def test_byte_identical_runs_and_worker_counts(data_dir, monkeypatch):
    text = spec_over("code_alpaca.json", "  instruction : text required\n  input : text\n  output : text",
                     "  normalize instruction, output: nfkc, collapse_whitespace, strip\n"
                     "  drop where words(output) < 2\n"
                     "  dedupe exact on instruction, input\n"
                     "  dedupe near on instruction, input jaccard >= 0.7 ngram 3 keep longest")
    text += ('\nsplit by instruction stratify input seed 5 {\n  train 0.8\n  validation 0.1\n  test 0.1\n}\n\n'
             'export jsonl "sft/{split}.jsonl" shape instruction\n'
             'export parquet "chat/{split}.parquet" shape chat\n'
             'export hf_disk "disk/{split}" shape chat\n\n'
             'gate {\n  rows(test) >= 10\n  leakage train, test jaccard >= 0.7 warn\n}\n')
    plan = plan_of(text)
    monkeypatch.setattr(runtime, "PARALLEL_MIN_ROWS", 100)  # make 2 workers really split the table
    # kept.jsonl is written on request only: asked for here, so its bytes are compared too.
    run_plan(plan, data_dir, data_dir / "a", workers=1, kept_jsonl=True)
    run_plan(plan, data_dir, data_dir / "b", workers=1, kept_jsonl=True)
    run_plan(plan, data_dir, data_dir / "c", workers=2, kept_jsonl=True)
    a, b, c = (_outputs(data_dir / d) for d in "abc")
    assert a == b == c
    assert set(a) >= {"kept.jsonl", "kept.parquet", "rejects.jsonl", "manifest.json", "stats.json", "report.md",
                      "report.html", "sft/train.jsonl", "chat/test.parquet", "disk/validation/state.json"}


def test_rerun_uses_cache_and_a_changed_rule_recomputes_from_there(data_dir):
    rules = "  drop where empty(completion)\n  dedupe exact on prompt, completion\n  dedupe near on prompt"
    text = spec_over("common_gen.jsonl", "  prompt : text\n  completion : text", rules)
    out = data_dir / "out"
    first = run_plan(plan_of(text), data_dir, out)
    assert not any(s.cached for s in first.stages)
    again = run_plan(plan_of(text), data_dir, out)
    assert all(s.cached for s in again.stages if s.op != "source")
    changed = run_plan(plan_of(text.replace("dedupe near on prompt", "dedupe near on prompt jaccard >= 0.5")),
                       data_dir, out)
    assert [s.cached for s in changed.stages if s.op != "source"] == [True, True, True, False]
    assert again.manifest == first.manifest


def test_bad_input_is_an_error_or_a_reject(tmp_path):
    (tmp_path / "rows.jsonl").write_text('{"q": "a"}\n{broken\n{"q": "b"}\n{"q": 3}\n', encoding="utf-8")
    result = run_plan(plan_of(spec_over("rows.jsonl", "  q : text", "  drop where empty(q)")), tmp_path,
                      tmp_path / "out")
    reasons = [r["_dsc_reason"] for r in read_jsonl(tmp_path / "out" / "rejects.jsonl")]
    assert result.manifest["counts"]["kept"] == 2
    assert any(r.startswith("malformed JSON") for r in reasons) and len(reasons) == 2
    with pytest.raises(RunError) as missing:
        run_plan(plan_of(spec_over("nope.jsonl", "  q : text", "  drop where empty(q)")), tmp_path, tmp_path / "o")
    assert missing.value.exit_code == 4 and "nope.jsonl" in str(missing.value)
    with pytest.raises(RunError) as lacking:
        run_plan(plan_of(spec_over("rows.jsonl", "  q : text\n  r : text", "  drop where empty(r)")), tmp_path,
                 tmp_path / "o")
    assert lacking.value.exit_code == 4 and "'r'" in str(lacking.value)


def test_a_file_two_sources_read_is_an_error_before_anything_is_written(tmp_path):
    """Its rows would be read twice, and `sample … from a` sampled b's rows as a's: the file, not
    the source block, tells a row's source. However the two patterns spell it."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.jsonl").write_text('{"q": "a"}\n{"q": "b"}\n', encoding="utf-8")
    (tmp_path / "data" / "more.jsonl").write_text('{"q": "c"}\n', encoding="utf-8")
    spec = ('source a {\n  files "data/rows.jsonl"\n}\n\nsource b {\n  files "data/*.jsonl"\n}\n\n'
            'clean {\n  sample rows 1 from a\n}\n')
    with pytest.raises(RunError) as both:
        run_plan(plan_of(spec), tmp_path, tmp_path / "out")
    assert both.value.exit_code == 4 and both.value.code == "DSC302"
    assert "data/rows.jsonl is read by source 'a' and by source 'b'" in str(both.value)
    assert not (tmp_path / "out" / "manifest.json").exists()
    apart = spec.replace('"data/*.jsonl"', '"data/more.jsonl"')
    assert run_plan(plan_of(apart), tmp_path, tmp_path / "out").manifest["counts"]["kept"] == 2  # 1 of a, all of b


RULES = [
    "  normalize a, b: nfkc, casefold, collapse_whitespace",
    "  drop where words(a) < 2",
    "  drop where empty(b)",
    "  drop where a matches \"x+\"",
    "  drop where b in {p, q}",
    "  dedupe exact on a",
    "  dedupe exact on a, b ignoring case",
    "  dedupe near on a jaccard >= 0.5 ngram 2 keep longest",
    "  dedupe exact on b keep none",
    "  conflicts on a -> b resolve majority else drop",
    "  conflicts on a -> b resolve first",
]
words = st.sampled_from(["x", "xx", "y", "p", "q", "Z z", " ", "", "dup dup dup"])
cells = st.one_of(st.none(), st.lists(words, max_size=4).map(" ".join))


@settings(max_examples=examples(0.6), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries({"a": cells, "b": cells}), min_size=1, max_size=40),
       rules=st.lists(st.sampled_from(RULES), min_size=1, max_size=5))
def test_kept_plus_rejected_equals_input(tmp_path_factory, rows, rules):
    base = tmp_path_factory.mktemp("prop")
    (base / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run_plan(plan_of(spec_over("rows.jsonl", "  a : text\n  b : text", "\n".join(rules))), base,
                      base / "out")
    kept = [r["_dsc_id"] for r in kept_rows(base / "out")]
    rejected = [r["_dsc_id"] for r in read_jsonl(base / "out" / "rejects.jsonl")]
    assert len(kept) + len(rejected) == len(rows)
    assert len(set(kept + rejected)) == len(rows)  # every input row is in exactly one place


def _annotated_with_conflicts(tmp_path) -> Path:
    """Run specs/annotated.dspec with a conflicts rule added; its output folder."""
    spec = ROOT / "specs" / "annotated.dspec"
    text = spec.read_text(encoding="utf-8").replace(
        "  drop where empty(completion)\n",
        "  drop where empty(completion)\n  conflicts on prompt -> completion resolve majority else flag\n")
    run_plan(plan_of(text), spec.parent, tmp_path / "out")
    return tmp_path / "out"


def test_label_resolutions_are_not_counted_as_conflicts(tmp_path):
    out = _annotated_with_conflicts(tmp_path)
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    groups = read_jsonl(out / "conflicts.jsonl")
    # only the conflicts rule's groups, each with its real decision
    assert {g["rule"] for g in groups} == {"conflicts[prompt->completion]"} and len(groups) == 28
    assert stats["conflicts"] == {"groups": 28, "decisions": {"no majority: flagged, all kept": 28}}
    assert stats["annotations"]["question_type"]["resolution"] == {
        "policy": "majority", "prefer": "domain_expert", "tie": "drop", "rows": 200, "resolved": 180, "first": 0,
        "drop": 0, "flag": 0, "below_floor": 20, "unannotated": 0, "by": {"majority": 180}}
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "### Conflicts\n\n28 conflict groups: 28 no majority: flagged, all kept (conflicts.jsonl has each " \
           "decision).\n" in report
    assert "| `question_type` | majority prefer domain\\_expert tie drop | 200 | 180 (180 majority) | 0 | 0 | 0 | " \
           "20 | 0 |" in report


def test_label_resolutions_are_written_to_labels_jsonl(tmp_path):
    out = _annotated_with_conflicts(tmp_path)
    labels = read_jsonl(out / "labels.jsonl")
    assert len(labels) == 200 and {r["rule"] for r in labels} == {"annotate[question_type]"}
    removed = {r["_dsc_id"]: r["_dsc_reason"] for r in read_jsonl(out / "rejects.jsonl")}
    assert {r["row_id"]: r["reason"] for r in labels if not r["kept"]} == removed
    kept = {r["_dsc_id"]: r["question_type"] for r in kept_rows(out)}
    assert {r["row_id"]: r["label"] for r in labels if r["kept"]} == kept
    assert labels[0]["line"] == 27 and set(labels[0]) == {"field", "row_id", "votes", "item_agreement", "status",
                                                          "method", "label", "kept", "reason", "rule", "line"}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "labels.jsonl" in manifest["outputs"]


# --- the stage cache: each entry is its difference from the stage's input -----------------------

def _entry_tables(cache: Path) -> dict[str, list[str]]:
    """The column names of every stored table in the cache, by file name."""
    import pyarrow as pa

    return {p.name: pa.ipc.open_file(pa.memory_map(str(p))).schema.names for p in sorted(cache.glob("*.arrow"))}


def test_a_cache_entry_stores_positions_and_changed_columns_only(data_dir):
    # a rule that changes nothing, two that only remove rows, one that changes a column
    rules = "  drop where empty(completion)\n  dedupe exact on prompt\n  normalize completion: casefold\n" \
            "  dedupe near on prompt"
    out = data_dir / "out"
    first = run_plan(plan_of(spec_over("common_gen.jsonl", "  prompt : text\n  completion : text", rules)),
                     data_dir, out)
    stored = _entry_tables(out / CACHE_DIR)
    kept = {name: cols for name, cols in stored.items() if name.endswith(".kept.arrow")}
    removing = [s for s in first.stages if s.op not in ("source", "normalize") and s.removed]
    unchanged = [s for s in first.stages if s.op not in ("source", "normalize") and not s.removed]
    assert len(removing) >= 1 and len(unchanged) >= 2  # the schema stage and `drop where empty` at least
    # a stage that changed nothing stores no kept table; one that removed rows their positions only
    assert sorted(kept.values()) == [["position"]] * len(removing) + [["position", "completion"]]
    for name, cols in stored.items():
        if name.endswith(".removed.arrow"):
            assert "prompt" not in cols and cols[0] == "position"  # removed rows are input rows too
    logs = [json.loads(p.read_text()) for p in (out / CACHE_DIR).glob("*.log.json")]
    assert sorted(log["kept"]["stored"] for log in logs) == ["input"] * len(unchanged) + ["rows"] * (len(removing) + 1)
    again = run_plan(plan_of(spec_over("common_gen.jsonl", "  prompt : text\n  completion : text", rules)),
                     data_dir, out)
    assert all(s.cached for s in again.stages if s.op != "source")
    assert again.manifest == first.manifest
    assert again.kept.equals(first.kept) and again.rejects.equals(first.rejects)


def test_the_cache_is_a_small_share_of_the_input_when_rules_remove_rows(data_dir):
    rules = "  drop where words(prompt) < 3\n  dedupe exact on prompt\n  dedupe near on prompt\n" \
            "  drop where empty(completion)"
    out = data_dir / "out"
    run_plan(plan_of(spec_over("common_gen.jsonl", "  prompt : text\n  completion : text", rules)), data_dir, out)
    cache = sum(p.stat().st_size for p in (out / CACHE_DIR).rglob("*") if p.is_file())
    # five stages each wrote a copy of their rows before: now far less than one copy
    assert cache < 0.25 * (data_dir / "common_gen.jsonl").stat().st_size


@pytest.mark.parametrize("damage", ["truncate", "delete", "positions out of range", "unknown kind"])
def test_a_damaged_cache_entry_is_recomputed_never_trusted(data_dir, damage):
    import pyarrow as pa

    rules = "  dedupe exact on prompt\n  normalize completion: casefold"
    text = spec_over("common_gen.jsonl", "  prompt : text\n  completion : text", rules)
    out = data_dir / "out"
    first = run_plan(plan_of(text), data_dir, out)
    cache = out / CACHE_DIR
    entry = next(p for p in cache.glob("*.kept.arrow")
                 if "completion" in pa.ipc.open_file(pa.memory_map(str(p))).schema.names)
    log = cache / entry.name.replace(".kept.arrow", ".log.json")
    if damage == "truncate":
        entry.write_bytes(entry.read_bytes()[:200])
    elif damage == "delete":
        entry.unlink()
    elif damage == "positions out of range":
        table = pa.ipc.open_file(pa.memory_map(str(entry))).read_all()
        bad = table.set_column(0, "position", pa.array([10**9] * table.num_rows, pa.int64()))
        with pa.OSFile(str(entry), "wb") as sink, pa.ipc.new_file(sink, bad.schema) as writer:
            writer.write_table(bad)
    else:
        log.write_text(json.dumps(dict(json.loads(log.read_text()), kept={"stored": "guess"})))
    again = run_plan(plan_of(text), data_dir, out)
    assert [s.cached for s in again.stages if s.op != "source"] == [True, True, False]
    assert again.manifest == first.manifest


def test_an_entry_of_the_earlier_whole_table_format_still_loads(tmp_path):
    import pyarrow as pa

    from dsc.engines.local import _Cache

    source = pa.table({"_dsc_id": ["a", "b"], "t": ["x", "y"]})
    removed = source.slice(1)
    for name, table in (("kept", source.slice(0, 1)), ("removed", removed)):  # uncompressed, no "stored"
        with pa.OSFile(str(tmp_path / f"k.{name}.arrow"), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
            w.write_table(table)
    (tmp_path / "k.log.json").write_text(json.dumps({"flags": [], "decisions": []}))
    kept, gone, log = _Cache(tmp_path, "seed").load("k", source)
    assert kept.equals(source.slice(0, 1)) and gone.equals(removed) and log["flags"] == []


ids = st.sampled_from(["a", "b", "c", "d", None])
values = st.one_of(st.none(), st.text(max_size=3))


@settings(max_examples=examples(0.6), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(ids, values, st.integers(-3, 3)), max_size=12),
       picks=st.lists(st.integers(0, 11), max_size=12),
       change=st.sampled_from(["none", "text", "type", "add", "drop", "rename", "metadata", "no id"]))
def test_a_stored_difference_rebuilds_the_table_exactly(tmp_path_factory, rows, picks, change):
    """Whatever a stage returns — rows of its input in any order and number (ids may repeat and
    differ elsewhere), changed, added, dropped or retyped columns, other metadata — the entry
    rebuilds it value for value, schema and metadata included."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from dsc.engines.local import Outcome, _Cache

    source = pa.table({"_dsc_id": [r[0] for r in rows], "t": [r[1] for r in rows], "n": [r[2] for r in rows]},
                      schema=pa.schema([("_dsc_id", pa.string()), ("t", pa.string()), ("n", pa.int64())]))
    table = source.take(pa.array([p for p in picks if p < len(rows)], pa.int64()))
    if change == "text":
        table = table.set_column(1, "t", pc.utf8_upper(table.column("t")))
    elif change == "type":
        table = table.set_column(2, "n", table.column("n").cast(pa.int8()))
    elif change == "add":
        table = table.append_column("_dsc_reason", pa.array(["why"] * table.num_rows))
    elif change == "drop":
        table = table.drop_columns(["t"])
    elif change == "rename":
        table = table.rename_columns(["_dsc_id", "u", "n"])
    elif change == "metadata":
        table = table.replace_schema_metadata({"k": "v"})
    elif change == "no id":
        table = table.drop_columns(["_dsc_id"])
    root = tmp_path_factory.mktemp("cache")
    cache = _Cache(root, "seed")
    cache.save("k", source, Outcome(table, source.slice(0, 0), [], []))
    kept, removed, _ = cache.load("k", source)
    assert kept.equals(table) and kept.schema.equals(table.schema, check_metadata=True)
    assert removed.num_rows == 0 and removed.schema.equals(source.schema, check_metadata=True)


def test_kernels_are_loaded_while_the_sources_are_read_and_a_failure_there_changes_nothing(data_dir, monkeypatch):
    # Operator.warm runs on a thread during reading, and is joined before any stage (a process
    # pool must not fork mid-load); it is only a speed-up, so if it fails the run is the same.
    from dsc.ops.dedupe_near import DedupeNear

    text = spec_over("cosmos.jsonl", "  prompt : text\n  completion : text",
                     "  dedupe near on prompt jaccard >= 0.7 ngram 3 words")
    plan = plan_of(text)
    calls = []
    real = DedupeNear.warm.__func__
    monkeypatch.setattr(DedupeNear, "warm", classmethod(lambda cls, p: calls.append(p) or real(cls, p)))
    run_plan(plan, data_dir, data_dir / "warm")
    assert [p["ngram"] for p in calls] == [3]

    def broken(cls, params):
        raise RuntimeError("no kernel today")

    monkeypatch.setattr(DedupeNear, "warm", classmethod(broken))
    run_plan(plan, data_dir, data_dir / "cold")
    assert (data_dir / "warm" / "kept.parquet").read_bytes() == (data_dir / "cold" / "kept.parquet").read_bytes()
