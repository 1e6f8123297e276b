"""The generated train.py trains every export shape with TRL's SFTTrainer — two steps on the CPU,
random weights made here — and the tokens it trains on are the tokens `dsc finetune compare` counts.

The scripts run in this process (imported, then `main(argv)`), which spares each one the seconds
of importing torch; tests/finetune/test_ft_train_script.py runs them as programs.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from dsc.commands import app
from dsc.engines.export import render_exports
from dsc.exitcodes import EXIT_OK
from dsc.plan import ExportPlan
from ft_support import ROWS, block_fixture, offline, project  # noqa: F401, F811  (fixtures)
from test_ft_train_script import random_weights

DATA = [{**r, "system": "Be brief." if i % 4 == 0 else None, "chosen": r["output"], "rejected": "I don't know."}
        for i, r in enumerate(ROWS)]
CASES = {  # export shape: (finetune method, its settings)
    "instruction": ("lora", ("r 2",)),
    "chat": ("prompt_tuning", ("virtual_tokens 4",)),  # messages, in the chat template: assistant-only loss
    "prompt_completion": ("lora", ("r 2", "loss all")),  # the whole text
    "chat_prompt_completion": ("full", ()),
    "preference": ("lora", ("r 2",)),  # supervised on the chosen answers
}


def export(shape: str, path: Path) -> Path:
    table = pa.Table.from_pylist([{**r, "_dsc_id": f"r{i}"} for i, r in enumerate(DATA)])
    [out] = render_exports([ExportPlan(format="jsonl", path="{split}.jsonl", shape=shape)], {"train": table}, Path("."))
    path.write_bytes(out.content())
    return path


def run_script(path: Path, *argv: str) -> dict:
    """Run a generated train.py's main() here; its summary (the last line it prints)."""
    spec = importlib.util.spec_from_file_location(f"train_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        module.main(list(argv))
    return json.loads(printed.getvalue().strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("shape", CASES)
def test_train_py_trains_the_shape_on_the_tokens_compare_counts(shape, project, block, tmp_path):
    weights = random_weights(project.root / "models" / "tiny-gpt2", tmp_path / "weights")
    method, settings = CASES[shape]
    train = export(shape, tmp_path / f"{shape}.jsonl")
    spec = project.spec(block(method, 'base "models/tiny-gpt2"', "batch_size 2", "epochs 1", "max_length 200",
                              *settings), name=f"{shape}.dspec")
    out = tmp_path / shape
    written = CliRunner().invoke(app, ["finetune", "config", str(spec), "--out", str(out), "--train", str(train)])
    assert written.exit_code == EXIT_OK, written.output
    compared = CliRunner().invoke(app, ["finetune", "compare", str(spec), "--train", str(train), "--json"])
    assert compared.exit_code == EXIT_OK, compared.output
    estimate = next(m for m in json.loads(compared.stdout)["methods"] if m["method"] == method)
    summary = run_script(out / "train.py", "--model", str(weights), "--max-steps", "2", "--cpu",
                         "--output-dir", str(tmp_path / "checkpoints"))
    assert summary["steps"] == 2 and math.isfinite(summary["training_loss"]), summary
    assert (tmp_path / "checkpoints" / "train_result.json").exists()
    tokens = estimate["tokens"]
    virtual = tokens["virtual_tokens_per_row"]
    assert summary["max_length"] == tokens["max_length"] - virtual
    assert (summary["rows"], summary["text_tokens_per_epoch"], summary["tokens_per_epoch"]) == (
        tokens["rows"], tokens["text_per_epoch"], tokens["per_epoch"]), shape
