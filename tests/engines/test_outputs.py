"""Writing outputs: streamed files equal the row-by-row ones, hashes are of what is on disk, a
failure while writing changes nothing, and a rerun from the stage cache writes the same bytes."""
import datetime as dt
import decimal
import hashlib
import io
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dsc.api import compile_text
from dsc.commands import app
from dsc.engines import outputs
from dsc.engines.local import CACHE_DIR, run_plan
from dsc.engines.outputs import STAGING, row_json
from dsc.ops.runtime import RunError
from dsc.syntax.source import SourceFile
from hypothesis_budget import examples
from run_outputs import kept_rows

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"


def plan_of(text: str):
    result = compile_text(SourceFile("t.dspec", text))
    assert result.ok, [d.message for d in result.diagnostics]
    return result.plan


def tree(out: Path) -> dict[str, bytes]:
    """Every file under `out` but the stage cache."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and CACHE_DIR not in p.relative_to(out).parts}


def jsonl_of(table: pa.Table, decode_row: bool = False) -> bytes:
    sink = io.BytesIO()
    outputs._write_table_jsonl(sink, table, decode_row)
    return sink.getvalue()


# --- the column-wise jsonl writer is row_json, line for line ------------------------------

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)
_columns = {
    "s": (st.one_of(st.none(), _text, st.sampled_from(['q"\\', "\x00\x1f\x7f", "\u2028é😀"])), pa.string()),
    "ls": (st.one_of(st.none(), _text), pa.large_string()),
    "i": (st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), pa.int64()),
    "u8": (st.one_of(st.none(), st.integers(0, 255)), pa.uint8()),
    "b": (st.one_of(st.none(), st.booleans()), pa.bool_()),
    "f": (st.one_of(st.none(), st.floats(), st.sampled_from([1e-7, 1e22, -0.0])), pa.float64()),
    "l": (st.one_of(st.none(), st.lists(st.one_of(st.none(), _text), max_size=2)), pa.list_(pa.string())),
    "m": (st.one_of(st.none(), st.fixed_dictionaries({"z": st.integers(0, 3), "a": _text})),
          pa.struct([("z", pa.int64()), ("a", pa.string())])),
    "t": (st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1970, 1, 1))), pa.timestamp("us")),
    "d": (st.one_of(st.none(), st.decimals(allow_nan=False, places=2, min_value=-100, max_value=100)),
          pa.decimal128(5, 2)),
    "n": (st.none(), pa.null()),
    "k ey\"": (st.one_of(st.none(), _text), pa.string()),
}


@st.composite
def tables(draw):
    names = draw(st.lists(st.sampled_from(sorted(_columns)), max_size=5, unique=True))
    rows = draw(st.integers(0, 10))
    return pa.table({n: pa.array([draw(_columns[n][0]) for _ in range(rows)], _columns[n][1]) for n in names})


@settings(max_examples=examples(2), deadline=None)
@given(table=tables(), batch=st.sampled_from([1, 3, 8192]))
def test_table_jsonl_is_row_json_line_by_line(table, batch):
    saved, outputs.BATCH_ROWS = outputs.BATCH_ROWS, batch
    try:
        written = jsonl_of(table)
    finally:
        outputs.BATCH_ROWS = saved
    assert written == "".join(row_json(r) + "\n" for r in table.to_pylist()).encode("utf-8")


@settings(max_examples=examples(2), deadline=None)
@given(table=tables(), batch=st.sampled_from([1, 3, 8192]))
def test_rows_json_is_row_json_of_each_row(table, batch):
    saved, outputs.BATCH_ROWS = outputs.BATCH_ROWS, batch
    try:
        texts = outputs.rows_json(table)
    finally:
        outputs.BATCH_ROWS = saved
    assert texts.type == pa.string()
    assert texts.to_pylist() == [row_json(r) for r in table.to_pylist()]


def test_rejected_rows_are_written_as_objects_when_their_text_is_json():
    rows = ['{"b": 1, "a": [1.5, null]}', "not json", None, '{"a": "\\ud800"}', '{"a": "\\u00e9"}', "{broken"]
    table = pa.table({"_dsc_id": [str(i) for i in range(len(rows))], "_dsc_row": rows})
    lines = [json.loads(line) for line in jsonl_of(table, decode_row=True).decode("utf-8").splitlines()]
    assert [r["_dsc_row"] for r in lines] == [{"a": [1.5, None], "b": 1}, "not json", None,
                                               '{"a": "\\ud800"}', {"a": "é"}, "{broken"]


# --- whole runs ------------------------------------------------------------------------------

SPEC = '''source s {
  files "rows.jsonl"
}

clean {
  dedupe exact on q
}

split by q {
  train 0.5
  test 0.5
}

export jsonl "sft/{split}.jsonl"
export hf_disk "disk/{split}"
'''


@pytest.fixture
def data_dir(tmp_path):
    rows = [{"q": f"question {i % 40}", "tags": ["a", "b"][: i % 3], "n": i} for i in range(120)]
    lines = [json.dumps(r) for r in rows] + ["{broken"]
    (tmp_path / "rows.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_manifest_lists_the_hash_and_size_of_every_file_written(data_dir):
    manifest = run_plan(plan_of(SPEC), data_dir, data_dir / "out", kept_jsonl=True).manifest
    out = data_dir / "out"
    for name in ("kept.jsonl", "kept.parquet", "rejects.jsonl", "stats.json", "report.md", "sft/train.jsonl"):
        data = (out / name).read_bytes()
        assert manifest["outputs"][name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert manifest["outputs"][name]["bytes"] == len(data)
    assert manifest["outputs"]["kept.jsonl"]["rows"] == len((out / "kept.jsonl").read_text().splitlines())
    assert manifest["outputs"]["kept.parquet"]["rows"] == len(kept_rows(out)) == manifest["counts"]["kept"]
    assert manifest["outputs"]["disk/train"]["files"] >= 2
    assert not (out / STAGING).exists()


def test_a_failure_while_writing_changes_nothing_in_the_output_directory(data_dir, monkeypatch):
    out = data_dir / "out"
    run_plan(plan_of(SPEC), data_dir, out)
    before = tree(out)

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs, "write_parquet", disk_full)
    other = [json.dumps({"q": f"other {i}", "tags": [], "n": i}) for i in range(60)]
    (data_dir / "rows.jsonl").write_text("\n".join(other), encoding="utf-8")
    with pytest.raises(OSError, match="No space left"):
        run_plan(plan_of(SPEC), data_dir, out)
    assert tree(out) == before
    assert not (out / STAGING).exists()


def test_a_rerun_from_the_stage_cache_writes_the_same_bytes(data_dir):
    # The list column once lost its item field's name through a parquet cache entry, which
    # changed kept.parquet on every cached rerun.
    fresh = run_plan(plan_of(SPEC), data_dir, data_dir / "out")
    first = tree(data_dir / "out")
    shutil.rmtree(data_dir / "out" / "sft")
    cached = run_plan(plan_of(SPEC), data_dir, data_dir / "out")
    assert all(s.cached for s in cached.stages if s.op != "source")
    assert tree(data_dir / "out") == first
    assert cached.manifest == fresh.manifest


def test_parquet_outputs_are_zstd_compressed_and_hold_the_kept_rows(data_dir):
    """kept.parquet and parquet exports are written with zstd (a third smaller than snappy on text),
    and still read back as the rows kept.jsonl (asked for) holds."""
    import pyarrow.parquet as pq

    text = SPEC + 'export parquet "pq/{split}.parquet"\n'
    out = data_dir / "out"
    run_plan(plan_of(text), data_dir, out, kept_jsonl=True)
    kept = [json.loads(line) for line in (out / "kept.jsonl").read_text(encoding="utf-8").splitlines()]
    for name in ("kept.parquet", "pq/train.parquet", "pq/test.parquet"):
        meta = pq.ParquetFile(out / name).metadata
        codecs = {meta.row_group(g).column(c).compression for g in range(meta.num_row_groups)
                  for c in range(meta.num_columns)}
        assert codecs == {"ZSTD"}, name
    assert pq.read_table(out / "kept.parquet").to_pylist() == kept
    exported = pq.read_table(out / "pq/train.parquet").to_pylist() + pq.read_table(out / "pq/test.parquet").to_pylist()
    assert sorted(r["_dsc_id"] for r in exported) == sorted(r["_dsc_id"] for r in kept)


def test_outputs_of_real_data_equal_the_row_by_row_rendering(tmp_path):
    shutil.copy(DATA / "code_alpaca_2k.json", tmp_path / "code_alpaca.json")
    spec = ('source s {\n  files "code_alpaca.json"\n}\n\nclean {\n  normalize instruction: nfkc, strip\n'
            '  dedupe near on instruction jaccard >= 0.7 ngram 3 keep longest\n}\n')
    result = run_plan(plan_of(spec), tmp_path, tmp_path / "out", kept_jsonl=True)
    kept = result.kept.select([c for c in result.kept.column_names if not c.startswith("_dsc_")] + ["_dsc_id"])
    expected = "".join(row_json(r) + "\n" for r in kept.to_pylist()).encode("utf-8")
    assert (tmp_path / "out" / "kept.jsonl").read_bytes() == expected
    rejects = result.rejects.to_pylist()
    for r in rejects:
        r["_dsc_row"] = json.loads(r["_dsc_row"])
    assert (tmp_path / "out" / "rejects.jsonl").read_bytes() == \
        "".join(row_json(r) + "\n" for r in rejects).encode("utf-8")


def test_non_json_values_are_written_as_text():
    table = pa.table({"d": pa.array([decimal.Decimal("1.50")], pa.decimal128(5, 2)),
                      "t": pa.array([dt.datetime(2024, 5, 1, 12)], pa.timestamp("s"))})
    assert jsonl_of(table) == b'{"d": "1.50", "t": "2024-05-01 12:00:00"}\n'


# --- kept.jsonl is written on request only (`dsc run --kept-jsonl`) ------------------------


def test_kept_jsonl_is_written_only_when_asked_and_holds_the_rows_of_kept_parquet(data_dir):
    """`--kept-jsonl` writes the kept rows as JSON lines, the same rows in the same order as
    kept.parquet; without it there is no kept.jsonl, the manifest does not list one, and the
    summary line names kept.parquet alone."""
    spec = data_dir / "t.dspec"
    spec.write_text(SPEC, encoding="utf-8")
    plain = CliRunner().invoke(app, ["run", str(spec), "--out", str(data_dir / "plain"), "-q"])
    asked = CliRunner().invoke(app, ["run", str(spec), "--out", str(data_dir / "asked"), "-q", "--kept-jsonl"])
    assert plain.exit_code == asked.exit_code == 0, (plain.output, asked.output)
    assert not (data_dir / "plain" / "kept.jsonl").exists()
    manifest = json.loads((data_dir / "plain" / "manifest.json").read_text())
    assert "kept.jsonl" not in manifest["outputs"] and "kept.parquet" in manifest["outputs"]
    assert "kept.parquet, rejects.jsonl" in plain.stdout and "kept.jsonl" not in plain.stdout
    assert "kept.parquet, kept.jsonl, rejects.jsonl" in asked.stdout
    jsonl = (data_dir / "asked" / "kept.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in jsonl] == kept_rows(data_dir / "asked") == kept_rows(data_dir / "plain")
    assert len(jsonl) == manifest["counts"]["kept"] > 0
    # Everything else is the same file, byte for byte: the flag adds one output and changes no other.
    asked_tree, plain_tree = tree(data_dir / "asked"), tree(data_dir / "plain")
    assert set(asked_tree) - set(plain_tree) == {"kept.jsonl"}
    assert all(asked_tree[n] == plain_tree[n] for n in plain_tree if n not in ("manifest.json", ".dsc-owned"))


def test_a_kept_jsonl_an_earlier_run_wrote_goes_when_the_next_run_does_not_ask(data_dir):
    """A rerun without --kept-jsonl removes the kept.jsonl an earlier run wrote (dsc's own, so it
    may), rather than leave old rows beside the new ones; the record of dsc's paths drops it."""
    out = data_dir / "out"
    run_plan(plan_of(SPEC), data_dir, out, kept_jsonl=True)
    assert (out / "kept.jsonl").is_file()
    other = [json.dumps({"q": f"other {i}", "tags": [], "n": i}) for i in range(60)]
    (data_dir / "rows.jsonl").write_text("\n".join(other), encoding="utf-8")
    manifest = run_plan(plan_of(SPEC), data_dir, out).manifest
    assert not (out / "kept.jsonl").exists() and "kept.jsonl" not in manifest["outputs"]
    assert "kept.jsonl" not in json.loads((out / ".dsc-owned").read_text())["paths"]
    assert {r["q"] for r in kept_rows(out)} <= {f"other {i}" for i in range(60)}
    assert not (out / STAGING).exists()
    # Asked for again, it is back, with the new rows.
    run_plan(plan_of(SPEC), data_dir, out, kept_jsonl=True)
    assert [json.loads(line) for line in (out / "kept.jsonl").read_text().splitlines()] == kept_rows(out)


def test_outputs_an_earlier_run_wrote_and_this_one_does_not_go(data_dir):
    """A split the spec no longer has leaves no export behind (its rows are in the other splits
    now: a stale test.jsonl would contaminate an evaluation); files dsc did not write stay."""
    out = data_dir / "out"
    run_plan(plan_of(SPEC.replace("  test 0.5\n", "  test 0.3\n  extra 0.2\n")), data_dir, out)
    assert (out / "sft" / "extra.jsonl").is_file() and (out / "disk" / "extra").is_dir()
    (out / "notes.txt").write_text("mine\n")
    (out / "sft" / "mine.jsonl").write_text("{}\n")
    manifest = run_plan(plan_of(SPEC), data_dir, out).manifest
    assert not (out / "sft" / "extra.jsonl").exists() and not (out / "disk" / "extra").exists()
    assert (out / "notes.txt").read_text() == "mine\n" and (out / "sft" / "mine.jsonl").read_text() == "{}\n"
    dsc_files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
                 and not p.relative_to(out).as_posix().startswith(".dsc-")
                 and p.relative_to(out).parts[0] != "disk"} - {"notes.txt", "sft/mine.jsonl"}
    assert dsc_files == {name for name in manifest["outputs"] if not name.startswith("disk/")} | {"manifest.json"}
    owned = json.loads((out / ".dsc-owned").read_text())["paths"]
    assert "sft/extra.jsonl" not in owned and "disk/extra" not in owned
    assert not (out / STAGING).exists()


def test_a_kept_jsonl_dsc_did_not_write_stops_the_run_with_or_without_the_flag(data_dir):
    """The name stays the run's own: a kept.jsonl someone else put in a fresh folder is neither
    deleted nor left beside the run's outputs as if it were one of them; the run stops (exit 4)."""
    out = data_dir / "out"
    out.mkdir()
    (out / "kept.jsonl").write_text("mine\n")
    for asked in (False, True):
        with pytest.raises(RunError, match="kept.jsonl: dsc did not write it") as err:
            run_plan(plan_of(SPEC), data_dir, out, kept_jsonl=asked)
        assert err.value.exit_code == 4
        assert (out / "kept.jsonl").read_text() == "mine\n" and not (out / "kept.parquet").exists()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_files_are_written_largest_first_and_their_entries_come_back_in_order(workers):
    started = []
    jobs = [(size, lambda size=size: started.append(size) or f"file of {size}") for size in (5, 900, 90, 810)]
    assert outputs._in_threads(jobs, workers) == ["file of 5", "file of 900", "file of 90", "file of 810"]
    if workers > 1:  # the pool's threads take the two largest first (in either order)
        assert set(started[:2]) == {900, 810}
