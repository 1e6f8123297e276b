"""`dsc init`: the starter policy passes `dsc check`, is canonical, and runs with the local engine.

Each test builds a small project (a folder with dsc.toml) holding the data in data/ and the
policy in specs/, so the policy reads '../data/…' as a real project would.
"""
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsc.api import compile_file
from dsc.commands import app
from dsc.engines.local import run_plan
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "data"
runner = CliRunner()


def dsc(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def project(tmp_path: Path, *files: Path) -> list[Path]:
    (tmp_path / "dsc.toml").write_text("")
    (tmp_path / "data").mkdir()
    (tmp_path / "specs").mkdir()
    return [Path(shutil.copy(f, tmp_path / "data" / f.name)) for f in files]


def train_rows(run) -> int:
    return next(split["rows"] for split in run.manifest["splits"] if split["name"] == "train")


def run_policy(policy: Path, out: Path):
    compiled = compile_file(policy)
    assert compiled.ok, compiled.diagnostics
    result = run_plan(compiled.plan, policy.resolve().parent, out)
    counts = result.manifest["counts"]
    return result, counts


@pytest.mark.parametrize("name, options", [
    ("common_gen_Example_prompt.jsonl", ["--key", "prompt", "--target", "completion"]),
    ("cosmos_qa_only_question_answer.jsonl", ["--key", "prompt", "--target", "completion"]),
    ("code_alpaca_2k.json", ["--key", "instruction,input", "--target", "output"]),
    ("toolformer-dedupe-only-dataset.json", ["--key", "instruction"]),
    ("seed_tasks.jsonl", []),
])
def test_init_policy_checks_and_runs(tmp_path, name, options):
    (data,) = project(tmp_path, EXAMPLES / name)
    policy = tmp_path / "specs" / "policy.dspec"
    result = dsc("init", data, "-o", policy, *options)
    assert result.exit_code == EXIT_OK, result.stderr
    text = policy.read_text()
    assert f'files "../data/{name}"' in text  # relative to where the policy is written
    assert dsc("check", policy).exit_code == EXIT_OK
    assert dsc("fmt", "--check", policy).exit_code == EXIT_OK
    run, counts = run_policy(policy, tmp_path / "out")
    assert counts["input"] == counts["kept"] + counts["rejected"]
    assert counts["input"] == json.loads(dsc("profile", data, "--json", "--text", "").stdout)["rows"]
    # a training file: every example file has prompt and response columns, so the chat shape
    train = (tmp_path / "out" / "train.jsonl").read_text().splitlines()
    assert len(train) == train_rows(run) > 0
    assert [m["role"] for m in json.loads(train[0])["messages"]][-2:] == ["user", "assistant"]


def test_every_rule_carries_the_counts_behind_it(tmp_path):
    (data,) = project(tmp_path, EXAMPLES / "cosmos_qa_only_question_answer.jsonl")
    policy = tmp_path / "specs" / "cosmos.dspec"
    assert dsc("init", data, "-o", policy, "--key", "prompt", "--target", "completion").exit_code == EXIT_OK
    lines = policy.read_text().splitlines()
    clean = lines[lines.index("clean {") + 1: lines.index("}", lines.index("clean {"))]
    rules = [i for i, line in enumerate(clean) if not line.strip().startswith("#")]
    assert rules, clean
    for i in rules:
        assert clean[i - 1].strip().startswith("#") and any(ch.isdigit() for ch in clean[i - 1]), clean[i - 1]
    text = "\n".join(lines)
    assert "# 1 row repeats an earlier row in every column\n  dedupe exact on prompt, completion" in text
    assert "# 28 keys (prompt) have 2 or more different completion values: 63 rows" in text
    assert "conflicts on prompt -> completion resolve majority else flag" in text


def test_init_suggests_rules_for_messy_values(tmp_path):
    data = tmp_path / "data" / "orders.csv"
    project(tmp_path)
    rows = ["id,note,placed,price,answer"]
    for i in range(60):
        day = 13 + i % 15  # days above 12 settle the order: day first
        note = "N/A" if i == 5 else f"  order {i}\u200b" if i % 10 == 0 else f"order {i}"
        answer = "" if i == 7 else f"answer number {i}"
        rows.append(f'o{i},{note},{day}/0{1 + i % 9}/2023,"{i},50 €",{answer}')
    rows.append(rows[1])  # an exact duplicate row
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    policy = tmp_path / "specs" / "orders.dspec"
    result = dsc("init", data, "-o", policy, "--key", "id")
    assert result.exit_code == EXIT_OK, result.stderr
    text = policy.read_text()
    assert "placed : date" in text and "price  : money" in text
    assert "standardize placed as date order DMY on_error flag" in text
    assert "standardize price as money locale de_DE on_error flag" in text
    assert "normalize note: strip_control, strip" in text
    assert 'drop where note in {"N/A"}' in text
    assert "drop where empty(answer)" in text
    assert "dedupe exact on id, note, placed, price, answer" in text
    assert "dedupe exact on id\n" in text
    assert dsc("check", policy).exit_code == EXIT_OK
    run, counts = run_policy(policy, tmp_path / "out")
    assert counts == {**counts, "input": 61, "kept": 58, "rejected": 3}
    kept = run.kept.to_pydict()
    assert kept["placed"][0] == "2023-01-13" and kept["price"][0] == "0.50"


def test_init_refuses_to_overwrite_and_to_leave_the_project(tmp_path):
    (data,) = project(tmp_path, EXAMPLES / "seed_tasks.jsonl")
    policy = tmp_path / "specs" / "seed.dspec"
    policy.write_text("# mine\n")
    refused = dsc("init", data, "-o", policy)
    assert refused.exit_code == EXIT_INPUT_ERROR and "--force" in refused.stderr
    assert policy.read_text() == "# mine\n"
    assert dsc("init", data, "-o", policy, "--force").exit_code == EXIT_OK
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "dsc.toml").write_text("")  # a project of its own, which the data is outside of
    outside = dsc("init", data, "-o", inner / "p.dspec")
    assert outside.exit_code == EXIT_INPUT_ERROR and "inside its project" in outside.stderr
    assert not (inner / "p.dspec").exists()
    spec = dsc("init", ROOT / "specs" / "common_gen.dspec", "-o", tmp_path / "x.dspec")
    assert spec.exit_code == EXIT_SPEC_ERROR and "data files" in spec.stderr


def test_init_never_writes_the_policy_over_its_own_data(tmp_path):
    """Not even with --force, named or reached through a glob: the data would be gone."""
    (data,) = project(tmp_path, EXAMPLES / "seed_tasks.jsonl")
    before = data.read_bytes()
    for args in ([data, "-o", data], [data, "-o", data, "--force"], [data.parent / "*.jsonl", "-o", data, "--force"]):
        refused = dsc("init", *args)
        assert refused.exit_code == EXIT_INPUT_ERROR and "is one of the data files" in refused.stderr, refused.stderr
        assert "--force" not in refused.stderr
    assert data.read_bytes() == before


def test_init_explodes_a_list_of_records_into_a_training_file(tmp_path):
    # seed_tasks keeps each task's examples in `instances`, a list of {input, output} records.
    (data,) = project(tmp_path, EXAMPLES / "seed_tasks.jsonl")
    policy = tmp_path / "specs" / "seed.dspec"
    assert dsc("init", data, "-o", policy).exit_code == EXIT_OK
    text = policy.read_text()
    assert "  explode instances  #" in text
    assert "  input             : text  # empty in 50 of 175 rows\n" in text  # optional: not required
    assert "  output            : text required" in text
    assert "# rows with the same instruction stay in one split; of the 175 rows profiled: train 152, " \
           "validation 23\nsplit by instruction {\n  train 0.9\n  validation 0.1\n}" in text
    assert 'export jsonl "{split}.jsonl" shape chat' in text
    run, counts = run_policy(policy, tmp_path / "out")
    assert (counts["input"], counts["kept"], counts["rejected"]) == (175, 175, 0)
    train = [json.loads(line) for line in (tmp_path / "out" / "train.jsonl").read_text().splitlines()]
    assert len(train) == 152
    first = next(row for row in train if "\n\n" in row["messages"][0]["content"])  # instruction, then input
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]


def test_init_types_optional_text_yes_no_words_and_placeholders(tmp_path):
    data = tmp_path / "data" / "tickets.csv"
    project(tmp_path)
    notes = ["needs a second look", "checked twice", "N/A", "customer called back", "see ticket", "ok per manager"]
    rows = ["id,question,answer,comment,resolved,category"]
    for i in range(60):
        comment = "" if i % 4 == 3 and i < 52 else notes[i % len(notes)]  # 13 of 60 empty
        category = "N/A" if i == 4 else ["bug", "billing", "account"][i % 3]
        rows.append(f"t{i},How do I fix problem {i}?,Restart and retry step {i}.,{comment},"
                    f"{'ja' if i % 3 else 'nein'},{category}")
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    policy = tmp_path / "specs" / "tickets.dspec"
    assert dsc("init", data, "-o", policy).exit_code == EXIT_OK
    text = policy.read_text()
    assert "  comment  : text  # empty in 13 of 60 rows\n" in text  # free text, optional: no label, not required
    assert "  resolved : bool required" in text
    assert "standardize resolved as bool locale de_DE on_error flag" in text
    assert ('  category : label {"account", "billing", "bug"} required  # never empty in 60 rows; 3 distinct '
            'values; the schema rejects the rows holding "N/A" ×1: no value, not a label') in text
    assert "split by question {" in text and 'export jsonl "{split}.jsonl" shape chat' in text
    assert dsc("check", policy).exit_code == EXIT_OK and dsc("fmt", "--check", policy).exit_code == EXIT_OK
    run, counts = run_policy(policy, tmp_path / "out")
    assert (counts["input"], counts["kept"], counts["rejected"]) == (60, 59, 1)  # the "N/A" category
    kept = run.kept.to_pydict()
    assert set(kept["resolved"]) == {True, False} and kept["comment"].count("") == 13
    assert (tmp_path / "out" / "train.jsonl").read_text().count("\n") == train_rows(run)


def test_init_leaves_a_rule_whose_locale_the_data_cannot_tell_to_the_author(tmp_path):
    """`1.695` is 1.695 in en_US and 1695 in de_DE; `¥11,469` is yen in ja_JP and yuan in zh_CN:
    the rule is written commented out, with the competing readings, never with the first locale
    of the tie-break list. Values only one reading fits keep their rule."""
    (tmp_path / "dsc.toml").write_text("")
    rows = ["id,dotnum,yen,eur"] + [f'{i},{i % 9 + 1}.{i:03d},"¥{i + 1}1,469","{i + 1}.{i * 7 % 1000:03d},{i:02d} €"'
                                    for i in range(40)]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    policy = tmp_path / "m.dspec"
    assert dsc("init", tmp_path / "m.csv", "-o", policy).exit_code == EXIT_OK
    text = policy.read_text()
    assert "\n  # standardize dotnum as number on_error flag\n" in text
    assert "but locales read these values differently (1.000 is 1.000 in en_US" in text
    assert "\n  # standardize yen as money" in text
    assert "\n  standardize eur as money locale de_DE on_error flag\n" in text, text
    assert dsc("check", policy).exit_code == EXIT_OK


def test_many_placeholders_and_no_empty_value_are_not_two_spellings(tmp_path):
    (tmp_path / "dsc.toml").write_text("")
    rows = ["id,note"] + [f"k{i},{'N/A' if i % 4 == 0 else f'note number {i}'}" for i in range(20)]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    policy = tmp_path / "p.dspec"
    assert dsc("init", tmp_path / "p.csv", "-o", policy).exit_code == EXIT_OK
    text = policy.read_text()
    assert "two spellings" not in text
    assert ('# placeholders for "no value" in note: "N/A" ×5, 5 of 20 rows: too many to drop unasked. '
            'If those rows are of no use, drop them with:\n  # drop where note in {"N/A"}\n') in text, text
