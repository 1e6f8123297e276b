"""`decontaminate COLS against "evals…" [fields …] [ngram N]`: GPT-3-style n-gram overlap with eval
sets — exactly N words and not N-1, the normalisation, several eval files and fields, every hash hit
verified, the Bloom filter giving the same rows as the exact set, bad eval files stopping the run
with a DSC code, the cache key following the eval files, the gate and the report, and the shipped
spec against HumanEval with an independent check that no kept row shares a 13-gram with it."""
import json
import re
import string
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsc.ops.decontaminate as decon
from dsc.api import compile_file, compile_text
from dsc.engines.local import run_plan
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR
from dsc.ops.runtime import RunError
from dsc.reserved import CLUSTER, DUPLICATE_OF, ID, REASON
from dsc.syntax.source import SourceFile
from hypothesis_budget import examples
from laws import apply, assert_laws, dsc, table

REPO = Path(__file__).resolve().parents[2]
WORDS = [f"w{i}" for i in range(1, 31)]  # an eval text of 30 distinct words
EVAL = " ".join(WORDS)


@pytest.fixture(autouse=True)
def _fresh_indexes():
    decon._INDEXES.clear()  # each test's eval files are its own, even at the same path and size
    yield
    decon._INDEXES.clear()


@pytest.fixture
def evals(tmp_path, monkeypatch):
    """A folder (the cwd: the laws run with base_dir ".") holding one eval file, evals/a.jsonl."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evals").mkdir()
    write(tmp_path / "evals" / "a.jsonl", [{"question": "what is it?", "answer": EVAL}])
    return tmp_path


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def params(**extra):
    return {"columns": ["text"], "against": ["evals/a.jsonl"], **extra}


def run(texts, **extra):
    return apply("decontaminate", table(text=texts), params(**extra))


def removed_ids(outcome):
    return outcome.removed.column(ID).to_pylist()


# --------------------------------------------------------------------------- the rule on rows


def test_the_laws_hold_and_the_reject_names_eval_row_and_ngram(evals, monkeypatch):
    texts = ["intro " + " ".join(WORDS[2:15]) + " outro", "nothing to see here at all", None,
             " ".join(WORDS[:12]), "x " + EVAL]
    out = assert_laws("decontaminate", table(text=texts), params(), monkeypatch)
    assert removed_ids(out) == ["r0", "r4"]
    reason = out.removed.column(REASON).to_pylist()[0]
    assert reason == f'text shares the 13-gram "{" ".join(WORDS[2:15])}" with eval row evals/a.jsonl:1 (answer)'
    assert out.removed.column(CLUSTER).to_pylist() == ["evals/a.jsonl"] * 2
    assert out.removed.column(DUPLICATE_OF).to_pylist() == ["evals/a.jsonl:1"] * 2
    assert out.table.column(ID).to_pylist() == ["r1", "r2", "r3"]


def test_exactly_n_words_overlap_and_one_fewer_does_not(evals):
    thirteen = "before " + " ".join(WORDS[5:18]) + " after"
    twelve = "before " + " ".join(WORDS[5:17]) + " after"
    assert removed_ids(run([thirteen, twelve])) == ["r0"]
    assert removed_ids(run([thirteen, twelve], ngram=12)) == ["r0", "r1"]
    assert removed_ids(run([thirteen, twelve], ngram=14)) == []


def test_case_punctuation_and_whitespace_are_ignored(evals):
    write(evals / "evals" / "a.jsonl", [{"answer": "The quick brown fox doesn't jump over the lazy dog near "
                                                   "Straße twelve, thirteen and — fourteen!"}])
    variants = [
        "THE QUICK BROWN FOX DOESN'T JUMP OVER THE LAZY DOG NEAR STRASSE TWELVE",  # case, ß folds to ss
        "the   quick\tbrown\n\nfox doesnt jump over the lazy dog near straße twelve",  # whitespace; ' removed
        "the quick, brown fox: doesn't (jump) over «the» lazy dog — near straße... twelve?!",  # punctuation
        "the quick brown fox does not jump over the lazy dog near straße twelve",  # other words: no match
    ]
    assert removed_ids(run(variants)) == ["r0", "r1", "r2"]
    assert '"the quick brown fox doesnt jump over the lazy dog near strasse twelve"' in \
        run(variants).removed.column(REASON).to_pylist()[0]


def test_an_ngram_never_runs_across_columns_or_eval_fields(evals):
    write(evals / "evals" / "a.jsonl", [{"q": " ".join(WORDS[:7]), "a": " ".join(WORDS[7:20])}])
    tbl = table(x=[" ".join(WORDS[:7]), " ".join(WORDS[:7])], y=[" ".join(WORDS[7:13]), " ".join(WORDS[7:20])])
    out = apply("decontaminate", tbl, {"columns": ["x", "y"], "against": ["evals/a.jsonl"]})
    assert removed_ids(out) == ["r1"]  # row 0's 13 words are 7 in x and 6 in y
    assert out.removed.column(REASON).to_pylist()[0].startswith("y shares the 13-gram")
    joined = table(x=[" ".join(WORDS[:13])])  # the eval's q + a joined would hold these 13
    assert removed_ids(apply("decontaminate", joined, {"columns": ["x"], "against": ["evals/a.jsonl"]})) == []


def test_fields_limit_the_eval_text_compared(evals):
    write(evals / "evals" / "a.jsonl", [{"question": EVAL, "answer": "short"}])
    assert removed_ids(run([EVAL])) == ["r0"]
    assert removed_ids(run([EVAL], fields=["answer"])) == []
    assert removed_ids(run([EVAL], fields=["answer", "question"])) == ["r0"]


def test_several_eval_files_each_row_names_the_file_that_holds_its_ngram(evals):
    write(evals / "evals" / "b.jsonl", [{"answer": "unrelated"}, {"answer": " ".join(f"v{i}" for i in range(20))}])
    (evals / "other").mkdir()
    (evals / "other" / "c.json").write_text(json.dumps([{"text": " ".join(f"u{i}" for i in range(15))}]))
    texts = [" ".join(f"v{i}" for i in range(2, 16)), " ".join(f"u{i}" for i in range(1, 14)),
             " ".join(WORDS[10:23]), "clean row"]
    out = run(texts, against=["evals/*.jsonl", "other/c.json"])
    assert removed_ids(out) == ["r0", "r1", "r2"]
    assert out.removed.column(DUPLICATE_OF).to_pylist() == ["evals/b.jsonl:2", "other/c.json#0", "evals/a.jsonl:1"]
    assert out.removed.column(CLUSTER).to_pylist() == ["evals/*.jsonl", "other/c.json", "evals/*.jsonl"]


def test_a_hash_hit_is_verified_word_for_word(evals, monkeypatch):
    """Every word hashing alike makes every n-gram a hit: only the real overlap removes a row."""
    monkeypatch.setattr(decon, "_word_hashes", lambda flat: np.zeros(len(flat), dtype=np.uint64))
    texts = [" ".join(f"z{i}" for i in range(40)), " ".join(WORDS[:13]), "z " + " ".join(WORDS[1:14])]
    assert removed_ids(run(texts)) == ["r1", "r2"]


def test_the_bloom_filter_removes_the_same_rows_as_the_exact_set(evals, monkeypatch):
    rng = np.random.default_rng(7)
    vocab = [f"t{i}" for i in range(60)]
    eval_rows = [{"answer": " ".join(rng.choice(vocab, 30))} for _ in range(40)]
    write(evals / "evals" / "a.jsonl", eval_rows)
    texts = [" ".join(rng.choice(vocab, 25)) for _ in range(150)]
    texts += [r["answer"][:80] + " tail" for r in eval_rows[:10]]
    exact = run(texts, ngram=5)
    monkeypatch.setattr(decon, "BLOOM_ABOVE", 0)
    decon._INDEXES.clear()
    assert decon.eval_index(["evals/a.jsonl"], None, 5, Path(".")).bloom is not None
    bloomed = run(texts, ngram=5)
    assert removed_ids(bloomed) == removed_ids(exact) and len(removed_ids(exact)) >= 10
    assert bloomed.removed.equals(exact.removed)


def test_the_bloom_filter_keeps_its_stated_false_positive_rate():
    rng = np.random.default_rng(1)
    members = rng.integers(0, 2**63, 200_000, dtype=np.int64).astype(np.uint64)
    bloom = decon.Bloom(members, decon.FALSE_POSITIVE_RATE)
    assert bloom.contains(members).all()  # no false negative
    assert bloom.rate <= decon.FALSE_POSITIVE_RATE
    strangers = rng.integers(0, 2**63, 1_000_000, dtype=np.int64).astype(np.uint64)
    assert bloom.contains(strangers).mean() <= 2 * decon.FALSE_POSITIVE_RATE


# Words that exercise case folding, punctuation inside and around words, and Unicode punctuation.
_VOCAB = ["a", "B", "c.", "D,", "e!", "Ff", "(g)", "h-h", "I'm", "j—", "«k»", "ß", "SS", "l…", "m_n", "$o", "p+q"]


def reference_words(text: str) -> list[str]:
    """The documented normalisation, written independently: casefold, delete category P and ASCII's
    string.punctuation, split on whitespace."""
    deleted = {c for c in set(text.casefold()) if unicodedata.category(c).startswith("P") or c in string.punctuation}
    return "".join(c for c in text.casefold() if c not in deleted).split()


def reference_ngrams(text: str | None, n: int) -> set[tuple[str, ...]]:
    words = reference_words(text or "")
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


@settings(max_examples=examples(0.5), deadline=None)
@given(st.lists(st.lists(st.sampled_from(_VOCAB), min_size=1, max_size=9).map(" ".join), min_size=1, max_size=4),
       st.lists(st.lists(st.sampled_from(_VOCAB), max_size=9).map(" ".join), min_size=1, max_size=8),
       st.integers(1, 4))
def test_it_removes_exactly_the_rows_a_plain_python_ngram_set_finds(tmp_path_factory, eval_texts, texts, n):
    folder = tmp_path_factory.mktemp("e")
    write(folder / "e.jsonl", [{"t": t} for t in eval_texts])
    decon._INDEXES.clear()
    found = decon.matches_of([{"x": t} for t in texts], ["x"], ["e.jsonl"], folder, n=n)
    grams = set().union(*(reference_ngrams(t, n) for t in eval_texts))
    assert sorted(found) == [i for i, t in enumerate(texts) if reference_ngrams(t, n) & grams]
    for i, match in found.items():
        assert tuple(match.ngram.split(" ")) in reference_ngrams(texts[i], n) & grams


def test_an_empty_table_and_null_values_pass(evals):
    assert removed_ids(run([])) == []
    assert removed_ids(run([None, "", "   "])) == []


# --------------------------------------------------------------------------- bad eval files


@pytest.mark.parametrize("content, code, message", [
    ('{"answer": "fine"}\nnot json\n', "DSC302", "evals/a.jsonl:2: malformed JSON"),
    ('{"question": "only this"}\n', "DSC308", "has no field 'answer'"),
    ('{"n": 1}\n{"n": 2}\n', "DSC302", "eval file evals/a.jsonl has no text in its text fields"),
    ('{"answer": ""}\n{"answer": null}\n', "DSC302", "eval file evals/a.jsonl has no text in its fields answer"),
    ("", "DSC302", "evals/a.jsonl is empty"),
])
def test_a_bad_eval_file_stops_the_rule_with_a_code(evals, content, code, message):
    (evals / "evals" / "a.jsonl").write_text(content, encoding="utf-8")
    fields = ["answer"] if "answer" in message else None
    with pytest.raises(RunError) as err:
        run(["anything at all"], fields=fields)
    assert err.value.code == code and message in str(err.value), str(err.value)


def test_an_eval_pattern_that_matches_nothing_is_dsc301(evals):
    with pytest.raises(RunError) as err:
        run(["x"], against=["evals/missing/*.jsonl"])
    assert err.value.code == "DSC301" and "eval set 'evals/missing/*.jsonl'" in str(err.value)


SPEC = """\
dataset d version 1 {{
  seed 1
}}

source s {{
  files "rows.jsonl"
}}

schema {{
  prompt : text required
  answer : text
}}

clean {{
  {rule}
}}

gate {{
  {gate}
}}
"""
RULE = 'decontaminate prompt, answer against "evals/a.jsonl"'
GATE = 'contaminated("evals/a.jsonl") <= 0 warn'


@pytest.fixture
def project(evals):
    (evals / "dsc.toml").write_text("")
    write(evals / "rows.jsonl", [{"prompt": "say " + " ".join(WORDS[:13]), "answer": "ok"},
                                 {"prompt": "hello", "answer": "world"},
                                 {"prompt": "again", "answer": " ".join(WORDS[15:30])}])
    return evals


def spec(project: Path, rule: str = RULE, gate: str = GATE) -> Path:
    path = project / "s.dspec"
    path.write_text(SPEC.format(rule=rule, gate=gate), encoding="utf-8")
    return path


def test_check_finds_a_missing_eval_file_and_a_bad_ngram(project):
    got = dsc("check", spec(project, 'decontaminate prompt against "evals/none.jsonl" ngram 0', "dropped <= 50%"))
    assert got.exit_code == EXIT_SPEC_ERROR
    assert "s.dspec:15:32: error[DSC212]: eval set 'evals/none.jsonl' does not exist" in got.stderr
    assert "error[DSC209]: n-gram size must be a whole number from 1 to 64, not 0" in got.stderr
    escaping = dsc("check", spec(project, 'decontaminate prompt against "../../evals.jsonl"', "dropped <= 50%"))
    assert "error[DSC218]: eval set '../../evals.jsonl' is not allowed: it leaves the project" in escaping.stderr


@pytest.mark.parametrize("gate, problem", [
    ('contaminated("evals/b.jsonl") <= 0', "error[DSC203]: no decontaminate rule reads 'evals/b.jsonl'"),
    ("contaminated(evals) <= 0", "error[DSC217]: 'contaminated' takes an eval set in quotes"),
    ('contaminated("evals/a.jsonl") <= 5%', "error[DSC209]: a row count must be"),
    ('rows("train") >= 1', "error[DSC217]: 'rows' takes a split name, not a string"),
    ('contaminated("evals/a.jsonl") >= 1', "warning[DSC215]: 'contaminated >= …' fails when too few rows"),
])
def test_the_gate_is_checked(project, gate, problem):
    got = dsc("check", spec(project, gate=gate))
    assert problem in got.stderr, got.stderr


def test_a_run_removes_the_rows_gates_them_and_reports_the_eval_sets(project):
    out = project / "out"
    ran = dsc("run", spec(project), "--out", out)
    assert ran.exit_code == EXIT_OK, ran.stderr
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert [r["_dsc_duplicate_of"] for r in rejects] == ["evals/a.jsonl:1", "evals/a.jsonl:1"]
    assert rejects[1]["_dsc_reason"].startswith('answer shares the 13-gram "w16 w17')
    stats = json.loads((out / "stats.json").read_text())
    assert stats["contamination"] == [{
        "rule": "decontaminate[prompt,answer]", "line": 15, "ngram": 13, "rows_in": 3, "removed": 2,
        "evals": [{"pattern": "evals/a.jsonl", "rows": 2, "files": [{"file": "evals/a.jsonl", "rows": 2}]}]}]
    [gate] = stats["gates"]
    assert (gate["measured"], gate["passed"], gate["unit"]) == (2, False, "count")
    assert gate["message"] == ('contaminated(evals/a.jsonl) <= 0: measured 2 (rows sharing an n-gram with '
                               'evals/a.jsonl), limit 0')
    report = (out / "report.md").read_text()
    assert "### Contamination" in report
    assert "| `decontaminate[prompt,answer]` | 15 | 13 | `evals/a.jsonl` | 2 of 3 | `evals/a.jsonl` (2) |" in report
    assert "<h2 id=\"contamination\">Contamination</h2>" in (out / "report.html").read_text()


def test_a_changed_eval_file_reruns_the_rule_and_an_unchanged_one_does_not(project):
    path = spec(project)
    plan = compile_file(path).plan
    first = run_plan(plan, project, project / "out1")
    cached = run_plan(plan, project, project / "out1")
    stage = [s for s in cached.stages if s.op == "decontaminate"][0]
    assert stage.cached and stage.removed == 2
    write(project / "evals" / "a.jsonl", [{"answer": "nothing in common with the rows"}])
    again = run_plan(plan, project, project / "out1")
    stage = [s for s in again.stages if s.op == "decontaminate"][0]
    assert not stage.cached and stage.removed == 0
    assert first.kept.num_rows == 1 and again.kept.num_rows == 3


def test_a_bad_eval_file_at_run_time_is_a_dsc_error_not_a_traceback(project):
    (project / "evals" / "a.jsonl").write_text('{"answer": "some words"}\n{"answer": \n', encoding="utf-8")
    ran = dsc("run", spec(project, gate="dropped <= 100%"), "--out", project / "out")
    assert ran.exit_code == EXIT_INPUT_ERROR
    assert re.search(r"s\.dspec:15:3: error\[DSC302\]: eval set 'evals/a\.jsonl': evals/a\.jsonl:2: malformed JSON",
                     ran.stderr), ran.stderr
    assert "hint: every eval row must be readable" in ran.stderr
    (project / "evals" / "a.jsonl").write_text('{"answer": \n', encoding="utf-8")
    ran = dsc("run", spec(project, gate="dropped <= 100%"), "--out", project / "out")
    assert ran.exit_code == EXIT_INPUT_ERROR
    assert "error[DSC311]: eval set 'evals/a.jsonl': it produced no rows (1 rejected)" in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr + ran.stdout


def test_an_eval_link_out_of_the_project_is_refused(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    write(outside / "secret.jsonl", [{"answer": EVAL}])
    (project / "evals" / "a.jsonl").unlink()
    (project / "evals" / "a.jsonl").symlink_to(outside / "secret.jsonl")
    ran = dsc("run", spec(project, 'decontaminate prompt against "evals/*.jsonl"', "dropped <= 100%"),
              "--out", project / "out")
    assert ran.exit_code == EXIT_SPEC_ERROR
    assert "DSC309" in ran.stderr and "eval set 'evals/*.jsonl' matches evals/a.jsonl" in ran.stderr


def test_it_compiles_prints_back_and_explains():
    text = SPEC.format(rule='decontaminate prompt against "e/*.jsonl", "f.json" fields q, a ngram 8',
                       gate='contaminated("e/x.jsonl") <= 0')
    got = compile_text(SourceFile("x.dspec", text))
    assert got.ok, got.diagnostics
    [step] = got.plan.steps
    assert step.params == {"columns": ["prompt"], "against": ["e/*.jsonl", "f.json"], "fields": ["q", "a"],
                           "ngram": 8}
    from dsc.explain import summarize
    from dsc.fmt import format_spec
    assert summarize(step) == ("remove rows whose prompt share a 8-word n-gram (case, punctuation and whitespace "
                               "ignored) with fields q, a of e/*.jsonl, f.json")
    assert 'decontaminate prompt against "e/*.jsonl", "f.json" fields q, a ngram 8' in format_spec(got.spec)
    assert 'contaminated("e/x.jsonl") <= 0' in format_spec(got.spec)
    default = compile_text(SourceFile("x.dspec", SPEC.format(rule=RULE, gate=GATE))).plan.steps[0]
    assert default.params["ngram"] == 13 and default.params["fields"] is None


# --------------------------------------------------------------------------- the shipped spec and HumanEval


def test_the_shipped_code_alpaca_spec_removes_its_humaneval_overlap_and_keeps_none(tmp_path):
    """examples/evals/HumanEval.jsonl against specs/code_alpaca.dspec's data: the rows the rule removes,
    and an independent check (plain Python n-grams of the whole kept file) that no kept row shares a
    13-gram with a HumanEval prompt or solution."""
    compiled = compile_file(REPO / "specs" / "code_alpaca.dspec")
    plan = compiled.plan.model_copy(update={"finetune": []})
    result = run_plan(plan, REPO / "specs", tmp_path / "out")
    mine = [r for r in result.rejects.to_pylist() if r["_dsc_rule"].startswith("decontaminate")]
    assert [r["_dsc_duplicate_of"] for r in mine] == ["../examples/evals/HumanEval.jsonl:97",
                                                      "../examples/evals/HumanEval.jsonl:157"]
    assert '"isprime true for j in range2 i if i j 0 isprime false"' in mine[0]["_dsc_reason"]
    humaneval = [json.loads(line) for line in (REPO / "examples" / "evals" / "HumanEval.jsonl").open()]
    grams = set().union(*(reference_ngrams(r[f], 13) for r in humaneval for f in ("prompt", "canonical_solution")))
    kept = result.kept.to_pylist()
    assert not [r[ID] for r in kept if any(reference_ngrams(r[c], 13) & grams for c in ("instruction", "input",
                                                                                         "output"))]
    removed = [json.loads(r["_dsc_row"]) for r in mine]
    assert all(any(reference_ngrams(r[c], 13) & grams for c in ("instruction", "input", "output")) for r in removed)
