"""Compile-time checks of the finetune settings dsc/finetune added: vocabularies, the resource-figure
chain, and the base path; and the pieces of the generated files that must stay in step with the rest
of dsc."""
from __future__ import annotations

from pathlib import Path

import pytest

from dsc.api import compile_text
from dsc.engines.shapes import FIELDS
from dsc.finetune import rows
from dsc.finetune.config import ScriptContext, train_script
from dsc.finetune.model import BaseModel
from dsc.finetune.settings import recipe
from dsc.plan import FinetunePlan
from dsc.syntax.source import SourceFile
from ft_support import offline  # noqa: F401  (fixture: no network)

HEAD = 'dataset d version 1 {\n  seed 1\n}\nsource s {\n  files "a.jsonl"\n}\nschema {\n  prompt : text\n}\n'


def found(*settings: str, method: str = "lora", base_dir: Path | None = None):
    text = HEAD + f"finetune {method} {{\n" + "".join(f"  {s}\n" for s in settings) + "}\n"
    return [(d.code, d.message) for d in compile_text(SourceFile("t.dspec", text), base_dir).diagnostics]


def test_vocabularies():
    assert found('base "m"', "precision bf16", "optimizer adafactor", "gpu_memory_gb 80") == []
    assert found('base "m"', "precision bf61", "optimizer adam", "gpu_count 1.5") == [
        ("DSC203", "unknown precision 'bf61'"),
        ("DSC203", "unknown optimizer 'adam'"),
        ("DSC212", "'gpu_count' asks for a GPU-hours estimate, which also needs 'gpu_tflops' and 'utilization'"),
        ("DSC209", "'gpu_count' must be a whole number from 1 to 1000000, not 1.5"),
    ]
    chain = ("gpu_tflops 312", "utilization 40%", "gpu_power_w 400")
    assert found('base "m"', *chain, "pue 0.9") == [("DSC209", "'pue' must be in [1, 10], not 0.9")]


@pytest.mark.parametrize("settings, message", [
    (("gpu_tflops 312",), "'gpu_tflops' asks for a GPU-hours estimate, which also needs 'utilization'"),
    (("gpu_count 8",), "'gpu_count' asks for a GPU-hours estimate, which also needs 'gpu_tflops' and 'utilization'"),
    (("carbon_kg_per_kwh 0.3", "gpu_tflops 312", "utilization 40%"),
     "'carbon_kg_per_kwh' asks for a CO2 estimate, which also needs 'gpu_power_w'"),
    (("pue 1.5",), "'pue' asks for an energy estimate, which also needs 'gpu_tflops', 'utilization' and "
                   "'gpu_power_w'"),
])
def test_a_resource_figure_needs_the_figures_before_it(settings, message):
    assert found('base "m"', *settings) == [("DSC212", message)]


def test_complete_figures_and_none_at_all_pass():
    assert found('base "m"', "gpu A100") == []
    assert found('base "m"', "gpu_tflops 312", "utilization 40%", "gpu_power_w 400", "carbon_kg_per_kwh 0.4") == []


def test_base_paths_stay_in_the_project(tmp_path):
    (tmp_path / "dsc.toml").write_text("")
    assert found('base "../../elsewhere"', base_dir=tmp_path) == [
        ("DSC218", "base model path '../../elsewhere' is not allowed: it leaves the project with '..'")]
    assert found('base "org/name@abc123"', base_dir=tmp_path) == []


def test_trl_example_reads_the_columns_the_export_writes():
    """train.py carries its own copy of the export's column names; they must not drift apart."""
    source = rows.embedded_source().replace("'", '"')  # what train.py carries
    for field, names in FIELDS.items():
        assert f'"{field}": {names!r}'.replace("'", '"') in source


def test_train_script_is_python_whatever_the_spec_strings_hold(tmp_path):
    tricky = 'Answer: """ \' \\n {{ x }}'
    rec = recipe(FinetunePlan(method="prompt_tuning", settings={"base": "m", "init_text": tricky}))
    text = train_script(rec, BaseModel("m", folder=tmp_path / "m"), 128,
                        ScriptContext(tmp_path / "out", "s.dspec", "demo", "sha256:" + "0" * 64, tmp_path / "t.jsonl"))
    compile(text, "train.py", "exec")
    assert "BASE_MODEL = '../m'" in text and "TRAIN_FILE = '../t.jsonl'" in text
    assert "ROW_MAX_LENGTH = 108" in text  # 128 less the 20 default virtual tokens
