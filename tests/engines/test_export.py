"""Exports: every format and shape loads back with `datasets`; bad exports stop the run before any write."""
import json
from pathlib import Path

import datasets
import pyarrow as pa
import pytest

from dsc.api import compile_text
from dsc.engines.export import render_exports
from dsc.engines.layout import Output, problems
from dsc.engines.local import run_plan
from dsc.errors import render
from dsc.ops.runtime import RunError
from dsc.plan import ExportPlan
from dsc.syntax.source import SourceFile
from run_outputs import kept_rows

ROWS = [{"instruction": f"task {i}", "input": f"context {i}" if i % 3 else "", "output": f"answer {i}",
         "system": "be brief" if i % 5 == 0 else None} for i in range(40)]
SCHEMA = "schema {\n  instruction : text\n  input : text\n  output : text\n  system : text\n}\n"
SPLIT = "split by instruction seed 3 {\n  train 0.7\n  validation 0.3\n}\n"


def plan_of(text: str):
    result = compile_text(SourceFile("t.dspec", text))
    assert result.ok, [d.message for d in result.diagnostics]
    return result.plan


def run(base: Path, exports: str, out: Path, rows=ROWS, schema=SCHEMA):
    (base / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return run_plan(plan_of(f'source s {{\n  files "rows.jsonl"\n}}\n\n{schema}\n{SPLIT}\n{exports}'), base, out)


def by_split(out: Path) -> dict[str, list[dict]]:
    rows = kept_rows(out, as_json=True)
    return {name: [r for r in rows if r["_dsc_split"] == name] for name in ("train", "validation")}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    (base / "fmt.j2").write_text("### {{ instruction }}\n{% if input %}{{ input }}\n{% endif %}=> {{ output }}"
                                 "{{ ' [' ~ split ~ ']' }}\n", encoding="utf-8")
    result = run(base, 'export parquet "plain/{split}.parquet"\n'
                       'export jsonl "alpaca/{split}.jsonl" shape instruction\n'
                       'export hf_disk "chat/{split}" shape chat\n'
                       'export parquet "chat/{split}.parquet" shape chat\n'
                       'export jsonl "text/{split}.jsonl" template "fmt.j2"\n', base / "out")
    return base / "out", result, base / "hf-cache"


def load(kind: str, path: Path, cache: Path):
    return datasets.load_dataset(kind, data_files=str(path), split="train", cache_dir=str(cache))


def test_manifest_lists_each_split_with_its_rows_and_outputs(exported):
    out, result, _ = exported
    splits = {s["name"]: s for s in result.manifest["splits"]}
    assert splits["train"]["rows"] + splits["validation"]["rows"] == len(ROWS)
    assert splits["train"]["rows"] > 0 and splits["validation"]["rows"] > 0
    assert splits["validation"]["outputs"] == ["plain/validation.parquet", "alpaca/validation.jsonl",
                                               "chat/validation", "chat/validation.parquet", "text/validation.jsonl"]
    for name in splits["train"]["outputs"]:
        entry = result.manifest["outputs"][name]
        assert entry["split"] == "train" and entry["rows"] == splits["train"]["rows"] and len(entry["sha256"]) == 64


def test_plain_parquet_loads_with_the_data_columns_and_row_ids(exported):
    out, _, cache = exported
    for name, rows in by_split(out).items():
        loaded = load("parquet", out / "plain" / f"{name}.parquet", cache)
        assert loaded.column_names == ["instruction", "input", "output", "system", "_dsc_id"]
        assert loaded["_dsc_id"] == [r["_dsc_id"] for r in rows]


def test_instruction_shape_is_alpaca(exported):
    out, _, cache = exported
    rows = by_split(out)["train"]
    loaded = load("json", out / "alpaca" / "train.jsonl", cache)
    assert loaded.column_names == ["instruction", "input", "output"]
    assert loaded.to_list() == [{k: r[k] for k in ("instruction", "input", "output")} for r in rows]


def test_chat_shape_loads_from_disk_and_from_parquet(exported):
    out, _, cache = exported
    rows = by_split(out)["validation"]
    from_disk = datasets.load_from_disk(str(out / "chat" / "validation"))
    from_parquet = load("parquet", out / "chat" / "validation.parquet", cache)
    expected = []
    for r in rows:
        user = r["instruction"] + (f"\n\n{r['input']}" if r["input"] else "")
        turns = [{"role": "system", "content": r["system"]}] if r["system"] else []
        expected.append(turns + [{"role": "user", "content": user}, {"role": "assistant", "content": r["output"]}])
    assert from_disk.column_names == ["messages"]
    assert from_disk["messages"] == expected == from_parquet["messages"]


def test_template_renders_each_row_to_text(exported):
    out, _, cache = exported
    rows = by_split(out)["train"]
    loaded = load("json", out / "text" / "train.jsonl", cache)
    first = rows[0]
    inp = f"{first['input']}\n" if first["input"] else ""
    assert loaded.column_names == ["text"] and len(loaded) == len(rows)
    assert loaded[0]["text"] == f"### {first['instruction']}\n{inp}=> {first['output']} [train]"


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("template, code, words", [
    ("{{ instruction }} {{ answer }}", 4, "uses 'answer', which the data lacks"),
    ("{{ instruction.__class__.__mro__ }}", 2, "__class__"),
    ("{{ row.update({'output': 1}) }}", 2, "unsafe"),
    ("{% if %}", 2, "fmt.j2:1: error[DSC310]: template error"),
])
def test_bad_templates_are_clear_errors_and_nothing_changes(tmp_path, template, code, words):
    out = tmp_path / "out"
    run(tmp_path, 'export jsonl "{split}.jsonl"\n', out)
    before = snapshot(out)
    (tmp_path / "fmt.j2").write_text(template, encoding="utf-8")
    with pytest.raises(RunError) as err:
        run(tmp_path, 'export jsonl "{split}.jsonl"\nexport jsonl "t/{split}.jsonl" template "fmt.j2"\n', out)
    assert err.value.exit_code == code and words in render(err.value)
    assert snapshot(out) == before


@pytest.mark.parametrize("path, words", [
    ("../{split}.jsonl", "it leaves the output directory"),
    ("a/../../{split}.jsonl", "it leaves the output directory"),
    (".dsc-cache/{split}.jsonl", "one of the run's own outputs"),
    ("link/{split}.jsonl", "through a symbolic link"),
])
def test_paths_stay_inside_the_output_directory(tmp_path, path, words):
    spec = f'source s {{\n  files "rows.jsonl"\n}}\n\n{SCHEMA}\n{SPLIT}\nexport jsonl "{path}"\n'
    if "link" not in path:  # `dsc check` refuses it at its line (a link is only known in the output folder)
        [diag] = [d for d in compile_text(SourceFile("t.dspec", spec)).diagnostics if d.is_error]
        assert diag.code == "DSC218" and words in diag.message and diag.span.line == 17
    # … and so does the run, before it reads anything, for a plan that skipped the checks.
    plan = plan_of(spec.replace(path, "ok/{split}.jsonl"))
    plan = plan.model_copy(update={"exports": [plan.exports[0].model_copy(update={"path": path})]})
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RunError) as err:
        run_plan(plan, tmp_path, out)
    assert err.value.exit_code == 2 and words in str(err.value)
    assert sorted(p.name for p in out.iterdir()) == ["link"] and not any((tmp_path / "elsewhere").iterdir())
    assert [p.name for p in tmp_path.glob("*.jsonl")] == []


def test_absolute_and_colliding_paths_are_refused():
    exports = [Output("export path", "/tmp/{split}.jsonl", 1), Output("export path", "x.jsonl", 2),
               Output("export path", "./x.jsonl", 3)]
    assert [(o.line, why) for o, why in problems(exports, ["all"])] == [
        (1, "for split 'all' it gives '/tmp/all.jsonl': it is absolute"), (3, "line 2 writes 'x.jsonl' too")]


def test_shapes_need_their_columns(tmp_path):
    # Without a schema nothing is known of the columns at check time (with one, a missing column is DSC201:
    # tests/checks/test_shape_columns.py); the run checks the data.
    rows = [{"instruction": f"t{i}", "label": "x"} for i in range(30)]
    with pytest.raises(RunError) as err:
        run(tmp_path, 'export jsonl "{split}.jsonl" shape chat\n', tmp_path / "out", rows=rows, schema="")
    assert err.value.exit_code == 4
    assert "needs an output column, one of output, response, completion, answer; the data has instruction, label" \
        in str(err.value)


def test_prompt_completion_columns_map_to_the_instruction_shape():
    table = pa.table({"prompt": ["p"], "completion": ["c"], "_dsc_id": ["r"]})
    [f] = render_exports([ExportPlan(format="jsonl", path="x.jsonl", shape="instruction")], {"all": table}, Path("."))
    assert json.loads(f.content()) == {"instruction": "p", "input": "", "output": "c"}
