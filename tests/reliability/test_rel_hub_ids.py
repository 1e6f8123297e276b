"""A hub id or a model id never reads a folder of the working directory.

`datasets.load_dataset("x")` and transformers' `from_pretrained("x")` first look for a folder `x`
under the working directory. dsc gives them only an absolute folder of the project,
`hf://datasets/OWNER/NAME` (the hub or its cache) or a model's snapshot folder in the Hugging Face
cache (`dsc.hub_ids`). Each test runs from a working directory that holds a decoy folder
named like the id — "SECRET" rows, or a model config of another shape — and shows that none of it
is read (audit hook on open / listdir / scandir) and that a missing dataset or model is a clear
error naming the id.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rel_support import Watch

REPO = Path(__file__).resolve().parents[2]
TINY_GPT2 = REPO / "examples" / "models" / "tiny-gpt2"
REVISION = "0123456789abcdef0123456789abcdef01234567"
SECRET = "SECRET row from the working directory"

SPEC = """\
dataset s version 1 {{
  seed 1
}}

source h {{
  hub "{id}" split train revision "abc123"
}}

schema {{
  prompt : text required
}}

export jsonl "{{split}}.jsonl"
"""


def _decoy_rows(folder: Path) -> None:
    (folder / "data").mkdir(parents=True)
    pq.write_table(pa.table({"prompt": [SECRET]}), folder / "data" / "train-00000.parquet")


def _read_under(watch: Watch, folder: Path) -> list[str]:
    """What the watch saw opened or listed inside `folder` (a decoy), relative paths resolved."""
    return [p for p in watch.reads + watch.listings if Path(p).resolve().is_relative_to(folder.resolve())]


@pytest.fixture
def places(tmp_path, monkeypatch):
    """(project, working directory): the project is empty but for its marker; the process runs
    from the other folder, where the decoys go; datasets stays offline with its caches in tmp."""
    import datasets.config
    import huggingface_hub.constants

    project, cwd = tmp_path / "project", tmp_path / "cwd"
    project.mkdir()
    cwd.mkdir()
    (project / "dsc.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets-cache")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    return project, cwd


@pytest.mark.parametrize("dataset_id", ["secret_ds", "org/name"])
def test_a_run_from_a_folder_named_like_the_hub_id_reads_none_of_it(tmp_path, dataset_id):
    """`dsc run` (a real subprocess, offline, empty caches) from a working directory holding a
    dataset folder named like the id: the run stops (exit 2 or 4) naming the id, and no secret row
    is in any output."""
    project, cwd = tmp_path / "project", tmp_path / "cwd"
    project.mkdir()
    (project / "dsc.toml").write_text("", encoding="utf-8")
    (project / "s.dspec").write_text(SPEC.format(id=dataset_id), encoding="utf-8")
    _decoy_rows(cwd / dataset_id)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "dsc", "run", str(project / "s.dspec"), "--out", str(out)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode in (2, 4), done.stdout + done.stderr
    assert f"'{dataset_id}'" in done.stderr
    assert "Traceback" not in done.stderr
    written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert not [p for p in written if b"SECRET" in p.read_bytes()]
    assert "SECRET" not in done.stdout + done.stderr


def test_dsc_check_names_an_id_that_is_neither_a_hub_id_nor_a_folder_in_the_project(tmp_path):
    from typer.testing import CliRunner

    from dsc.commands import app
    from dsc.exitcodes import EXIT_SPEC_ERROR

    (tmp_path / "dsc.toml").write_text("", encoding="utf-8")
    spec = tmp_path / "s.dspec"
    spec.write_text(SPEC.format(id="secret_ds") + 'augment train {\n  paraphrase prompt ratio 0.5 using "t5@main"\n}\n'
                    + 'finetune full {\n  base "/models/x@main"\n}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(spec)])
    assert result.exit_code == EXIT_SPEC_ERROR
    assert f"{spec}:6:7: error[DSC209]: hub dataset 'secret_ds' is neither a hub id nor a folder in the project" \
        in result.output
    assert f"{spec}:15:37: error[DSC209]: model 't5@main' is not a hub id at a revision" in result.output
    assert f"{spec}:18:8: error[DSC218]: base model path '/models/x@main' is not allowed: it is absolute" \
        in result.output
    assert result.output.count("hint: write a hub") == 3


def test_a_cached_hub_dataset_loads_from_the_cache_not_the_working_directory(places):
    """Offline, `org/name` loads from the datasets cache — not from `./org/name`, which is never opened."""
    from dsc.io import HubRef, SourceSpec, read_source

    import datasets.config

    project, cwd = places
    (project / "name").mkdir()
    pq.write_table(pa.table({"prompt": ["cached row"]}), project / "name" / "train-00000.parquet")
    read_source(SourceSpec("h", hub=HubRef("name")), project)  # a project folder: its table is cached…
    cache = Path(datasets.config.HF_DATASETS_CACHE)
    shutil.copytree(cache / "name", cache / "org___name")  # …where the hub dataset org/name's would be
    shutil.rmtree(project / "name")
    _decoy_rows(cwd / "org" / "name")
    with Watch() as watch:
        result = read_source(SourceSpec("h", hub=HubRef("org/name")), project)
    assert result.table.column("prompt").to_pylist() == ["cached row"]
    assert not _read_under(watch, cwd / "org")


@pytest.mark.parametrize("dataset_id", ["secret_ds", "s" * 300])  # 300: longer than a file name may be
def test_a_hub_dataset_id_that_is_no_hub_id_is_refused_before_anything_is_read(places, dataset_id):
    from dsc.io import HubRef, SourceError, SourceSpec, read_source

    project, cwd = places
    _decoy_rows(cwd / "secret_ds")
    with Watch() as watch, pytest.raises(SourceError) as refused:
        read_source(SourceSpec("h", hub=HubRef(dataset_id)), project)
    assert f"'{dataset_id}' is neither a folder in" in str(refused.value)
    assert "nor a hub id (a hub id is owner/name)" in str(refused.value)
    assert not _read_under(watch, cwd / "secret_ds")


def _decoy_model(folder: Path) -> None:
    """A gpt2 config with another number of layers than the cached model, and its tokenizer."""
    shutil.copytree(TINY_GPT2, folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    (folder / "config.json").write_text(json.dumps({**config, "n_layer": 7}), encoding="utf-8")


def _cached_model(hub_cache: Path, repo: str) -> Path:
    snapshot = hub_cache / f"models--{repo.replace('/', '--')}" / "snapshots" / REVISION
    shutil.copytree(TINY_GPT2, snapshot)
    return snapshot


def test_a_base_model_id_reads_the_hub_cache_not_the_working_directory(places):
    import huggingface_hub.constants

    from dsc.finetune.errors import FinetuneError
    from dsc.finetune.model import resolve_base

    project, cwd = places
    _decoy_model(cwd / "org" / "tiny")
    with Watch() as watch, pytest.raises(FinetuneError) as missing:
        resolve_base(f"org/tiny@{REVISION}", project).load_config()
    assert missing.value.message == f"base model 'org/tiny@{REVISION}' is not in the local Hugging Face cache"
    snapshot = _cached_model(Path(huggingface_hub.constants.HF_HUB_CACHE), "org/tiny")
    with watch:
        base = resolve_base(f"org/tiny@{REVISION}", project)
        config, (tokenizer, _) = base.load_config(), base.load_tokenizer()
    assert config.n_layer == json.loads((TINY_GPT2 / "config.json").read_text())["n_layer"] != 7
    assert tokenizer is not None and Path(base.source) == snapshot.resolve()
    assert not _read_under(watch, cwd / "org")


def test_an_augment_model_id_reads_the_hub_cache_not_the_working_directory(places):
    from dsc.augment.local import LocalBackend
    from dsc.ops.runtime import RunError
    from dsc.plan import AugmentRule

    project, cwd = places
    (cwd / "org" / "t5").mkdir(parents=True)
    (cwd / "org" / "t5" / "config.json").write_text(json.dumps({"model_type": "t5"}), encoding="utf-8")
    rule = AugmentRule(id="paraphrase[q]", line=7, splits=["train"], method="paraphrase", column="q",
                       ratio=Decimal("0.5"), backend="local", model=f"org/t5@{REVISION}")
    with Watch() as watch, pytest.raises(RunError) as missing:
        LocalBackend(rule, project, "en").prepare()
    assert f"the model 'org/t5@{REVISION}' is not in the local Hugging Face cache" in str(missing.value)
    assert missing.value.exit_code == 4
    assert not _read_under(watch, cwd / "org")


def test_the_generated_train_script_reads_a_hub_model_from_the_cache_only(places, tmp_path):
    """train.py, run from a folder holding `org/tiny`, trains the cached snapshot."""
    import huggingface_hub.constants
    from typer.testing import CliRunner

    from dsc.commands import app
    from dsc.exitcodes import EXIT_OK

    project, cwd = places
    snapshot = _cached_model(Path(huggingface_hub.constants.HF_HUB_CACHE), "org/tiny")
    _decoy_model(cwd / "org" / "tiny")
    train = tmp_path / "train.jsonl"
    train.write_text('{"instruction": "Say hi.", "output": "hi"}\n', encoding="utf-8")
    spec = project / "s.dspec"
    spec.write_text(SPEC.format(id="org/data") + f'\nfinetune full {{\n  base "org/tiny@{REVISION}"\n}}\n',
                    encoding="utf-8")
    made = CliRunner().invoke(app, ["finetune", "config", str(spec), "--out", str(tmp_path / "ft"),
                                    "--train", str(train)])
    assert made.exit_code == EXIT_OK, made.output
    script = importlib.util.spec_from_file_location("train_script", tmp_path / "ft" / "train.py")
    module = importlib.util.module_from_spec(script)
    script.loader.exec_module(module)
    assert Path(module.model_folder()) == snapshot.resolve()
