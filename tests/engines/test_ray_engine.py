"""The Ray engine gives the local engine's rows: kept rows, rejects (rule and reason), flags,
conflict decisions, annotation label resolutions and split assignment, on the example specs and on a seeded synthetic table
with injected exact duplicates, near duplicates and conflicts — whatever the partitioning.

One local Ray instance (2 CPUs) serves the whole module: starting Ray costs seconds.
"""
import json
import logging
import random
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ray = pytest.importorskip("ray", reason="the ray engine needs Ray Data: pip install 'dsc[ray]'")
pytest.importorskip("ray.data", reason="the ray engine needs Ray Data: pip install 'dsc[ray]'")

from dsc.api import compile_text  # noqa: E402
from dsc.commands import app  # noqa: E402
from dsc.engines.local import run_plan as run_local  # noqa: E402
from dsc.engines.permissions import Permissions  # noqa: E402
from dsc.engines.ray import run_plan as run_ray  # noqa: E402
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR, EXIT_USAGE  # noqa: E402
from dsc.ops.runtime import RunError  # noqa: E402
from dsc.syntax.source import SourceFile  # noqa: E402
from run_outputs import kept_rows  # noqa: E402

# Ray Data's own context copies touch its deprecated settings; nothing dsc can act on. Every test
# here starts or uses the module's Ray session (seconds each), so all are `slow`.
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.dspec"))
# What only a Ray run writes: the engine section of the manifest, the workers' shards, and so the
# record of what dsc wrote in the folder.
RAY_ONLY = ("manifest.json", "shards", ".dsc-owned")


@pytest.fixture(scope="module", autouse=True)
def ray_session():
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR,
             log_to_driver=False)
    yield
    ray.shutdown()


def plan_of(text: str, name: str = "t.dspec"):
    result = compile_text(SourceFile(name, text))
    assert result.ok, [d.message for d in result.diagnostics]
    return result.plan


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def files(out: Path) -> dict[str, bytes]:
    """Every output both engines write (the stage cache is not an output)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.relative_to(out).parts[0] not in RAY_ONLY + (".dsc-cache",)}


def assert_same_rows(local: Path, on_ray: Path) -> None:
    """The comparison the engine promises, as sets keyed by row id, then byte for byte."""
    kept_l, kept_r = kept_rows(local), kept_rows(on_ray)
    split_of = lambda rows: {r["_dsc_id"]: r.get("_dsc_split") for r in rows}  # noqa: E731
    assert split_of(kept_r) == split_of(kept_l)
    rejected = lambda out: {(r["_dsc_id"], r["_dsc_rule"], r["_dsc_reason"], r["_dsc_cluster"],  # noqa: E731
                             r["_dsc_duplicate_of"]) for r in read_jsonl(out / "rejects.jsonl")}
    assert rejected(on_ray) == rejected(local)
    for name in ("flags.jsonl", "conflicts.jsonl", "labels.jsonl"):
        assert read_jsonl(on_ray / name) == read_jsonl(local / name)
    assert files(on_ray) == files(local)  # and so the order, the exports, the stats and the report
    manifest_l = json.loads((local / "manifest.json").read_text())
    manifest_r = json.loads((on_ray / "manifest.json").read_text())
    assert manifest_r["engine"] == "ray" and manifest_r["cluster"]["cpus"] == 2
    assert manifest_r["rules"] == manifest_l["rules"] and manifest_r["counts"] == manifest_l["counts"]
    shards = {k: v for k, v in manifest_r["outputs"].items() if k.startswith("shards/")}
    counts = manifest_l["counts"]  # shards hold every output row, generated ones included
    assert sum(v["rows"] for v in shards.values()) == counts["kept"] + counts.get("generated", 0)
    for path in shards:
        assert (on_ray / path).is_file()


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_example_specs_give_the_local_rows(spec, tmp_path):
    plan = plan_of(spec.read_text(encoding="utf-8"), str(spec))
    run_local(plan, spec.parent, tmp_path / "local")
    result = run_ray(plan, spec.parent, tmp_path / "ray")
    assert_same_rows(tmp_path / "local", tmp_path / "ray")
    placement = {p["id"]: p["where"] for p in result.manifest["placement"]}
    assert all(placement[s.id] == "cluster" for s in plan.steps)  # the specs use distributed rules only
    assert all(placement[a.id] == "driver" for a in plan.annotations)


SYNTHETIC = """dataset synthetic version 1 {
  seed 3
  locale en_US
}

source rows {
  files "rows.jsonl"
  key id
}

schema {
  id         : string required
  prompt     : text
  completion : text
  score      : int
  opened     : date
}

clean {
  normalize prompt, completion: nfkc, strip
  drop where empty(completion)
  standardize opened as date from [de_DE, en_US] order DMY on_error flag
  dedupe exact on prompt, completion ignoring case, whitespace keep longest
  conflicts on prompt -> score resolve majority else flag
  conflicts on prompt -> completion resolve first
  dedupe near on prompt jaccard >= 0.7 ngram 3 words keep by score desc
}

split by prompt seed 5 {
  train 0.8
  test 0.2
}

export jsonl "{split}.jsonl"
"""
DATES = ["2021-06-01", "10.1.2019", "3. März 2020", "March 3, 2020", "yesterday", "31.02.2019", None]


def synthetic_rows(n: int = 2500, seed: int = 17) -> list[dict]:
    """Random prompts with injected exact copies (case and spacing changed), near copies (one
    word changed), conflicting completions, empty completions, null keys and unreadable dates."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(300)]
    rows: list[dict] = []
    for i in range(n):
        roll, src = rng.random(), rng.choice(rows) if rows else None
        if src and src["prompt"] and roll < 0.12:
            prompt = src["prompt"].upper() if rng.random() < 0.5 else "  " + src["prompt"].replace(" ", "   ")
            completion = src["completion"]
        elif src and src["prompt"] and roll < 0.26:
            words = src["prompt"].split()
            words[rng.randrange(len(words))] = rng.choice(vocab)
            prompt, completion = " ".join(words), src["completion"]
        elif src and roll < 0.34:
            prompt, completion = src["prompt"], f"answer {rng.randrange(3)}"
        else:
            prompt = " ".join(rng.choice(vocab) for _ in range(rng.randint(12, 30)))
            completion = f"answer {rng.randrange(40)}"
        if roll > 0.98:
            prompt = None
        if 0.96 < roll <= 0.97:
            completion = " "
        rows.append({"id": f"r{i:05d}", "prompt": prompt, "completion": completion,
                     "score": rng.choice([None, 1, 2, 3, 5, 8]), "opened": rng.choice(DATES)})
    return rows


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthetic")
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in synthetic_rows()), encoding="utf-8")
    plan = plan_of(SYNTHETIC)
    run_local(plan, folder, folder / "local")
    return folder, plan


def test_synthetic_table_gives_the_local_rows_at_any_partitioning(synthetic):
    folder, plan = synthetic
    local = json.loads((folder / "local" / "manifest.json").read_text())
    removed = {r["id"]: r["removed"] for r in local["rules"]}
    # The table exercises every rule: something is removed or flagged by each.
    assert removed["drop[completion]"] and removed["dedupe_exact[prompt,completion]"]
    assert removed["dedupe_near[prompt]"] and removed["conflicts[prompt->completion]"]
    assert {f["rule"] for f in read_jsonl(folder / "local" / "flags.jsonl")} == {
        "standardize[opened]", "conflicts[prompt->score]"}
    for parts in (3, 8):
        run_ray(plan, folder, folder / f"ray{parts}", partitions=parts)
        assert_same_rows(folder / "local", folder / f"ray{parts}")


def test_two_ray_runs_write_the_same_bytes(synthetic):
    folder, plan = synthetic
    for run in ("a", "b"):
        run_ray(plan, folder, folder / f"again-{run}", partitions=5)
    everything = lambda out: {p.relative_to(out).as_posix(): p.read_bytes()  # noqa: E731
                              for p in sorted(out.rglob("*")) if p.is_file()}
    assert everything(folder / "again-a") == everything(folder / "again-b")  # manifest and shards too


def _write(folder: Path, rows: list[dict]) -> None:
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_unique_schema_runs_on_the_driver_and_says_so(tmp_path):
    _write(tmp_path, [{"k": k, "v": v} for k, v in [("a", "1"), ("b", "2"), ("a", "3"), ("c", "2"), ("b", "2")]])
    plan = plan_of('source s {\n  files "rows.jsonl"\n}\n\nschema {\n  k : string unique\n  v : text\n}\n\n'
                   "clean {\n  dedupe exact on v\n}\n")
    # kept.jsonl asked for on both engines: `files` compares it byte for byte with the rest.
    run_local(plan, tmp_path, tmp_path / "local", kept_jsonl=True)
    result = run_ray(plan, tmp_path, tmp_path / "ray", kept_jsonl=True)
    assert (tmp_path / "ray" / "kept.jsonl").is_file() and "kept.jsonl" in result.manifest["outputs"]
    assert_same_rows(tmp_path / "local", tmp_path / "ray")
    [schema] = [p for p in result.manifest["placement"] if p["id"] == "schema"]
    assert schema["where"] == "driver" and "unique" in schema["why"]


def test_a_schema_reject_carries_the_value_as_read_on_the_cluster(tmp_path):
    (tmp_path / "rows.csv").write_text("name,age\nann,31\nbob,two\ncy,40\n", encoding="utf-8")
    plan = plan_of('source s {\n  files "rows.csv"\n}\n\nschema {\n  name : text\n  age : int\n}\n\n'
                   "clean {\n  drop where empty(name)\n}\n")
    run_local(plan, tmp_path, tmp_path / "local")
    result = run_ray(plan, tmp_path, tmp_path / "ray")
    assert_same_rows(tmp_path / "local", tmp_path / "ray")
    assert [(r["_dsc_reason"], r["_dsc_row"]) for r in read_jsonl(tmp_path / "ray" / "rejects.jsonl")] == [
        ("column 'age': value is not of type int", {"name": "bob", "age": "two"})]
    assert {p["id"]: p["where"] for p in result.manifest["placement"]}["schema"] == "cluster"


def test_rules_after_every_row_is_gone_still_match(tmp_path):
    _write(tmp_path, [{"q": "x", "a": ""}, {"q": "y", "a": " "}])
    plan = plan_of('source s {\n  files "rows.jsonl"\n}\n\nclean {\n  drop where empty(a)\n'
                   "  dedupe exact on q\n  dedupe near on q\n  conflicts on q -> a resolve drop\n}\n")
    run_local(plan, tmp_path, tmp_path / "local")
    run_ray(plan, tmp_path, tmp_path / "ray")
    assert_same_rows(tmp_path / "local", tmp_path / "ray")


def template_rows(n: int = 600, seed: int = 11) -> list[dict]:
    """Template-heavy prompts: one long shared preamble (every row in one LSH bucket of most bands)
    and a short tail, each tail copied a few times with one word changed."""
    rng = random.Random(seed)
    preamble = " ".join(f"t{i}" for i in range(40))
    tails = [[f"w{rng.randrange(500)}" for _ in range(10)] for _ in range(n // 3)]
    rows = []
    for i in range(n):
        tail = list(tails[i % len(tails)])
        if i >= len(tails):
            tail[rng.randrange(len(tail))] = f"w{rng.randrange(500)}"
        rows.append({"id": f"r{i:04d}", "q": f"{preamble} {' '.join(tail)}"})
    rng.shuffle(rows)
    return rows


@pytest.mark.parametrize("options", ["jaccard >= 0.85 keep first", "jaccard >= 0.7 keep hash cluster components",
                                     "jaccard >= 0.8 keep last"])
def test_template_heavy_buckets_give_the_local_rows(tmp_path, options):
    _write(tmp_path, template_rows())
    plan = plan_of(f'source s {{\n  files "rows.jsonl"\n  key id\n}}\n\nclean {{\n  dedupe near on q {options}\n}}\n')
    run_local(plan, tmp_path, tmp_path / "local")
    [removed] = [r["removed"] for r in json.loads((tmp_path / "local" / "manifest.json").read_text())["rules"]
                 if r["op"] == "dedupe_near"]
    assert 0 < removed < 600  # something is similar enough, not everything
    run_ray(plan, tmp_path, tmp_path / "ray", partitions=4)
    assert_same_rows(tmp_path / "local", tmp_path / "ray")


@pytest.mark.parametrize("rule, code, message", [
    ("standardize q as money EUR", 2, "writes the column 'q_currency', which the data already has"),
    ("dedupe exact on missing", 4, "rule dedupe_exact[missing] names column 'missing'"),
    ("dedupe near on missing", 4, "rule dedupe_near[missing] names column 'missing'"),
    ("conflicts on q -> missing resolve drop", 4, "names column 'missing'"),
])
def test_an_error_inside_a_worker_is_the_local_engines_error(tmp_path, rule, code, message):
    _write(tmp_path, [{"q": "5 EUR", "q_currency": "EUR"}, {"q": "6 EUR", "q_currency": "EUR"}])
    plan = plan_of(f'source s {{\n  files "rows.jsonl"\n}}\n\nclean {{\n  {rule}\n}}\n')
    with pytest.raises(RunError) as local:
        run_local(plan, tmp_path, tmp_path / "local")
    with pytest.raises(RunError) as on_ray:
        run_ray(plan, tmp_path, tmp_path / "ray")
    assert (on_ray.value.exit_code, str(on_ray.value)) == (local.value.exit_code, str(local.value)) == (
        code, str(local.value))
    assert message in str(on_ray.value)
    # The code and the rule's line come back from the worker too (dsc.errors: pickled with the error).
    assert (on_ray.value.code, on_ray.value.location) == (local.value.code, local.value.location)
    assert local.value.line == 6 and local.value.code in ("DSC308", "DSC310")


@pytest.mark.parametrize("address, says", [
    ("127.0.0.1:1", "cannot connect to the Ray cluster at '127.0.0.1:1'"),
    ("ray://127.0.0.1:1", "Ray Data does not work through Ray Client"),
    ("nowhere", "an address is 'auto' or HOST:PORT"),
])
def test_a_bad_address_is_a_clear_error(tmp_path, address, says):
    result = CliRunner().invoke(app, ["run", str(ROOT / "specs" / "common_gen.dspec"), "--out", str(tmp_path),
                                      "--engine", "ray", "--address", address])
    assert result.exit_code == EXIT_INPUT_ERROR, result.output
    assert says in result.output and "Traceback" not in result.output
    assert not (tmp_path / "manifest.json").exists()


def test_engine_options_are_checked(tmp_path):
    spec = str(ROOT / "specs" / "common_gen.dspec")
    runner = CliRunner()
    assert runner.invoke(app, ["run", spec, "--out", str(tmp_path), "--engine", "spark"]).exit_code == EXIT_USAGE
    assert runner.invoke(app, ["run", spec, "--out", str(tmp_path), "--address", "auto"]).exit_code == EXIT_USAGE


def test_augmentation_runs_on_the_driver_with_the_local_rows(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "augment"))  # the augmentation tests' loopback server
    from aug_support import ChatServer

    monkeypatch.setenv("DSC_TEST_RAY_AUG_KEY", "sk-test")
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()
    _write(tmp_path, [{"id": f"t{i}", "prompt": " ".join(words[(i + k) % 12] for k in range(4 + i % 5)) + "?"}
                      for i in range(40)])
    with ChatServer() as server:
        plan = plan_of("dataset aug version 1 {\n  seed 5\n  locale en_US\n}\n\n"
                       'source rows {\n  files "rows.jsonl"\n  key id\n}\n\n'
                       "schema {\n  id : string required\n  prompt : text required\n}\n\n"
                       "split by id {\n  train 0.8\n  validation 0.2\n}\n\n"
                       f'augment train {{\n  paraphrase prompt ratio 0.5 endpoint "{server.url}" model "fake" '
                       "key_env DSC_TEST_RAY_AUG_KEY\n}\n")
        allowed = Permissions.from_operator([server.url])
        run_local(plan, tmp_path, tmp_path / "local", permissions=allowed)
        result = run_ray(plan, tmp_path, tmp_path / "ray", permissions=allowed)
    assert_same_rows(tmp_path / "local", tmp_path / "ray")
    assert len(kept_rows(tmp_path / "ray")) > 40  # generated rows were added
    [augment] = [p for p in result.manifest["placement"] if p["id"] == "paraphrase[prompt]"]
    assert augment["where"] == "driver"


def test_cli_runs_on_ray(tmp_path):
    result = CliRunner().invoke(app, ["run", str(ROOT / "specs" / "common_gen.dspec"), "--out", str(tmp_path),
                                      "--engine", "ray", "--kept-jsonl"])
    assert result.exit_code == 0, result.output
    assert "shards/train/part-00000.parquet" in result.output
    assert json.loads((tmp_path / "manifest.json").read_text())["engine"] == "ray"
    assert read_jsonl(tmp_path / "kept.jsonl") == kept_rows(tmp_path)  # --kept-jsonl on Ray as on local
    again = CliRunner().invoke(app, ["run", str(ROOT / "specs" / "common_gen.dspec"), "--out", str(tmp_path),
                                     "--engine", "ray"])
    assert again.exit_code == 0, again.output
    assert not (tmp_path / "kept.jsonl").exists()  # not asked for: the earlier run's copy is gone


def test_without_ray_the_engine_says_how_to_install_it(tmp_path, monkeypatch):
    from dsc.engines import ray_cluster

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(RunError, match=r"pip install 'dsc\[ray\]'"):
        with ray_cluster.connect(None, 2, lambda _m: None):
            pass
