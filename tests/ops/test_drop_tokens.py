"""`drop where tokens(COL) …`: counted with the finetune block's base tokenizer (never approximated),
pinned in the plan by the fingerprint of its files, checked before a run, and the run's token-length
stats per split in stats.json and the report."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dsc.api import compile_file, compile_text
from dsc.engines.local import run_plan
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR
from dsc.finetune.model import resolve_base
from dsc.finetune.rows import example_tokens, read_rows, trl_example
from dsc.finetune.tokens import example_lengths, text_tokens
from dsc.ops.runtime import RunError
from dsc.syntax.source import SourceFile
from laws import apply, assert_laws, dsc, table

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "models" / "tiny-gpt2"  # a 512-token BPE tokenizer with a chat template
MESSY = ["two words", None, "", "   ", "\u3000", "zero\u200bwidth", "\u00dcn\u00efc\u00f6d\u00e9 \u2713 three",
         " padded one ", "a much longer line of text, which the tiny tokenizer cuts into many pieces"]


@pytest.fixture(scope="module")
def tokenizer():
    found, why = resolve_base(str(TINY), ROOT).load_tokenizer()
    assert found is not None, why
    return found


def per_row(tokenizer, texts):
    """What tokens() counts, asked of the tokenizer one row at a time (a null is "")."""
    return [len(tokenizer(t or "", add_special_tokens=False)["input_ids"]) for t in texts]


def rule(op=">", value=8, negate=False, base=str(TINY)):
    return {"kind": "measure", "column": "a", "func": "tokens", "op": op, "value": value, "negate": negate,
            "tokenizer": {"base": base, "fingerprint": resolve_base(base, ROOT).tokenizer_fingerprint()}}


def test_tokens_counts_with_the_tokenizer_and_keeps_the_laws(monkeypatch, tokenizer):
    counts = per_row(tokenizer, MESSY)
    out = assert_laws("drop", table(a=MESSY), rule(">", 8), monkeypatch)
    assert out.removed.column("_dsc_id").to_pylist() == [f"r{i}" for i, n in enumerate(counts) if n > 8]
    assert out.removed.column("_dsc_reason").to_pylist()[0] == "drop where tokens(a) > 8"
    assert counts[1] == counts[2] == 0  # a null counts as "": no tokens, no special tokens either
    nothing = apply("drop", table(a=MESSY), rule("<", 1))
    assert nothing.removed.column("_dsc_id").to_pylist() == ["r1", "r2"]


def test_batches_count_what_the_tokenizer_counts_row_by_row_on_the_shipped_data(tokenizer, monkeypatch):
    rows = json.loads((ROOT / "examples" / "data" / "code_alpaca_2k.json").read_text(encoding="utf-8"))
    texts = [r["output"] for r in rows] + [r["instruction"] + "\n" + r["input"] for r in rows]
    monkeypatch.setattr("dsc.finetune.tokens.BATCH_ROWS", 1000)  # several batches
    assert text_tokens(tokenizer, texts) == per_row(tokenizer, texts)
    assert text_tokens(tokenizer, texts[:50], special=True) == [len(tokenizer(t)["input_ids"]) for t in texts[:50]]


def test_example_lengths_are_the_tokens_train_py_trains_on(tokenizer):
    rows = [{"instruction": "Add.", "input": "2 and 3", "output": "5"},
            {"prompt": "2+2=", "completion": "4"},
            {"text": "a whole text<|endoftext|>"},
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
            {"prompt": [{"role": "user", "content": "Q"}], "completion": [{"role": "assistant", "content": "A"}]}]
    for template in (tokenizer.chat_template, None):
        examples = [trl_example(r, template) for r in rows]
        assert example_lengths(tokenizer, examples) == [example_tokens(tokenizer, e)[0] for e in examples]


SPEC = """dataset d version 1 {{
  seed 1
}}
source s {{
  files "rows.jsonl"
}}
schema {{
  instruction : text required
  output      : text required
}}
clean {{
  drop where tokens(output) > 12
}}
split by instruction {{
  train 0.5
  validation 0.5
}}
export jsonl "{{split}}.jsonl" shape {shape}
{finetune}"""
TINY_BLOCK = 'finetune lora {\n  base "models/tiny"\n  max_length 32\n}\n'
ROWS = [{"instruction": f"Question number {i}?", "output": " ".join(["word"] * (1 + i % 9))} for i in range(40)]


@pytest.fixture
def project(tmp_path):
    """A project with the tiny tokenizer in models/tiny, rows.jsonl and spec.dspec."""
    (tmp_path / "dsc.toml").write_text("")
    shutil.copytree(TINY, tmp_path / "models" / "tiny")
    shutil.copytree(ROOT / "examples" / "models" / "gpt2", tmp_path / "models" / "config-only")
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return tmp_path


def write_spec(project: Path, finetune: str = TINY_BLOCK, shape: str = "chat") -> Path:
    spec = project / "spec.dspec"
    spec.write_text(SPEC.format(finetune=finetune, shape=shape))
    return spec


def test_the_plan_names_the_tokenizer_as_written_and_pins_its_files(project):
    spec = write_spec(project)
    first = compile_file(spec)
    assert first.ok, first.diagnostics
    params = first.plan.steps[0].params
    assert params["tokenizer"] == {"base": "models/tiny",
                                   "fingerprint": resolve_base(str(TINY), ROOT).tokenizer_fingerprint()}
    # The chat template changes no count, so it changes no plan; the tokenizer's files do.
    (project / "models" / "tiny" / "chat_template.jinja").write_text("{{ messages }}")
    assert compile_file(spec).plan.fingerprint == first.plan.fingerprint
    config = project / "models" / "tiny" / "tokenizer_config.json"
    config.write_text(config.read_text().replace('"model_max_length": 256', '"model_max_length": 255'))
    again = compile_file(spec).plan
    assert again.fingerprint != first.plan.fingerprint
    assert again.steps[0].params["tokenizer"]["fingerprint"] != params["tokenizer"]["fingerprint"]
    # Other drop rules keep the plans they had: no tokenizer key at all.
    words = compile_text(SourceFile("x.dspec", SPEC.format(finetune="", shape="chat").replace("tokens(", "words(")))
    assert "tokenizer" not in words.plan.steps[0].params


def test_a_run_drops_by_tokens_and_counts_each_split(project, tokenizer):
    spec = write_spec(project)
    ran = dsc("run", spec, "--out", project / "out")
    assert ran.exit_code == EXIT_OK, ran.output
    out = project / "out"
    counts = per_row(tokenizer, [r["output"] for r in ROWS])
    rejected = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert len(rejected) == sum(n > 12 for n in counts) > 0
    assert {(r["_dsc_line"], r["_dsc_reason"]) for r in rejected} == {(12, "drop where tokens(output) > 12")}

    stats = json.loads((out / "stats.json").read_text())
    tokens = stats["tokens"]
    assert (tokens["base"], tokens["export"], tokens["max_length"], tokens["chat_template"]) == \
        ("models/tiny", "{split}.jsonl", 32, True)
    assert [s["name"] for s in tokens["splits"]] == ["train", "validation"]
    for split in tokens["splits"]:
        examples = [trl_example(r, tokenizer.chat_template) for r in read_rows(out / f"{split['name']}.jsonl")]
        lengths = [example_tokens(tokenizer, e)[0] for e in examples]  # what SFTTrainer tokenizes
        assert (split["rows"], split["tokens"], split["max"]) == (len(lengths), sum(lengths), max(lengths))
        assert split["truncated"] == sum(n > 32 for n in lengths)
        assert sum(b["rows"] for b in split["histogram"]) == split["rows"]
        assert [b["upto"] for b in split["histogram"]] == [16, 32, None]
    report = (out / "report.md").read_text()
    assert "### Token lengths" in report and "| > 32 (truncated) |" in report

    again = dsc("run", spec, "--out", project / "again")
    assert again.exit_code == EXIT_OK
    assert (project / "again" / "stats.json").read_bytes() == (out / "stats.json").read_bytes()


def test_without_a_tokenizer_the_report_says_why_and_counts_nothing(project):
    spec = write_spec(project, 'finetune lora {\n  base "models/config-only"\n}\n').read_text()
    (project / "spec.dspec").write_text(spec.replace("drop where tokens(output) > 12", "drop where words(output) > 6"))
    result = run_plan(compile_file(project / "spec.dspec").plan, project, project / "out")
    assert result.stats["tokens"] == {
        "error": "no tokenizer files in models/config-only, so no token is counted (no approximation)"}
    assert "### Token lengths\n\nNot counted: no tokenizer files" in (project / "out" / "report.md").read_text()


@pytest.mark.parametrize("finetune, words", [
    ("", "tokens() counts with the finetune block's base tokenizer, and the spec has no finetune block"),
    ("finetune lora {\n  r 8\n}\n", "and the finetune block has no 'base'"),
    ('finetune lora {\n  base "models/config-only"\n}\n',
     "tokens() counts with the tokenizer of base 'models/config-only', which has no tokenizer files"),
    ('finetune lora {\n  base "models/nowhere"\n}\n', "which cannot be used: base model 'models/nowhere' not found"),
    ('finetune lora {\n  base "models/tiny"\n}\nfinetune full {\n  base "models/config-only"\n}\n',
     "tokens() counts with one tokenizer, and the finetune blocks name 2 bases"),
])
def test_check_refuses_tokens_without_a_tokenizer(project, finetune, words):
    checked = dsc("check", write_spec(project, finetune))
    assert checked.exit_code == EXIT_SPEC_ERROR
    assert words in checked.stderr, checked.stderr


def test_a_tokenizer_that_does_not_load_stops_the_run_with_exit_4(project):
    spec = write_spec(project)
    (project / "models" / "tiny" / "tokenizer.json").write_text('{"not": "a tokenizer"')
    assert dsc("check", spec).exit_code == EXIT_OK  # its files are there; only loading them tells
    ran = dsc("run", spec, "--out", project / "out")
    assert ran.exit_code == EXIT_INPUT_ERROR
    assert "spec.dspec:12:3: error[DSC307]: tokens() cannot count: the tokenizer of models/tiny could not be " \
           "loaded (" in ran.stderr, ran.stderr


def test_a_plan_whose_tokenizer_changed_is_refused(project):
    plan = compile_file(write_spec(project)).plan
    config = project / "models" / "tiny" / "tokenizer_config.json"
    config.write_text(config.read_text() + "\n")
    with pytest.raises(RunError) as err:
        run_plan(plan, project, project / "out")
    assert (err.value.code, err.value.exit_code, err.value.line) == ("DSC307", EXIT_INPUT_ERROR, 12)
    assert "the tokenizer files of models/tiny changed since the plan was compiled" in str(err.value)


def test_a_plan_without_a_tokenizer_cannot_run_tokens():
    params = {**rule(), "tokenizer": None}
    with pytest.raises(RunError) as err:
        apply("drop", table(a=["x"]), params)
    assert (err.value.code, err.value.exit_code) == ("DSC310", EXIT_SPEC_ERROR)


def test_without_transformers_check_warns_and_the_run_stops(project, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "transformers", None)  # as if `pip install dsc` without the extra
    checked = dsc("check", write_spec(project))
    assert checked.exit_code == EXIT_OK
    assert "spec.dspec:12:14: warning[DSC221]: tokens() needs the package transformers, which is not installed " \
           "here" in checked.stderr, checked.stderr
    with pytest.raises(RunError) as err:
        apply("drop", table(a=["x"]), rule())
    assert err.value.code == "DSC312"
    assert str(err.value) == "tokens() needs the package transformers, which is not installed here: " \
                             "pip install 'dsc[train]'"
