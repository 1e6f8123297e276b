"""The emitted train.py trains: two optimisation steps on the CPU, from random weights made here, on
the tiny train split, with a finite loss — for each method."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
from typer.testing import CliRunner

from dsc.commands import app
from dsc.exitcodes import EXIT_OK
from ft_support import block_fixture, offline, project  # noqa: F401, F811  (fixtures)

TIMEOUT_S = 120  # each run takes ~15 s on two cores; the limit only stops a hang

CASES = {  # name: (model folder in the project, finetune block settings)
    "lora-gpt2": ("tiny-gpt2", "lora", ("r 4", "alpha 8", "dropout 0.05", "target c_attn, c_fc")),
    "prompt-gpt2": ("tiny-gpt2", "prompt_tuning", ("virtual_tokens 4", 'init_text "Answer:"', "lr 0.03")),
    "full-llama": ("tiny-llama", "full", ("optimizer adafactor", "lr 0.001")),
}


def random_weights(model_dir, out_dir):
    """A loadable model folder: random weights for the config, and its tokenizer."""
    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(model_dir, local_files_only=True)
    AutoModelForCausalLM.from_config(config).save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(model_dir, local_files_only=True).save_pretrained(out_dir)
    return out_dir


@pytest.mark.slow
def test_train_py_runs_two_steps_per_method(project, block, tmp_path):
    runs = {}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    for name, (model, method, settings) in CASES.items():
        spec = project.spec(block(method, f'base "models/{model}"', "batch_size 2", "epochs 1", *settings),
                            name=f"{name}.dspec")
        out = tmp_path / name
        result = CliRunner().invoke(app, ["finetune", "config", str(spec), "--out", str(out), "--train",
                                          str(project.train)])
        assert result.exit_code == EXIT_OK, result.output
        weights = random_weights(project.root / "models" / model, tmp_path / f"{name}-weights")
        # The runs are independent: start them all, then wait, so two cores overlap their start-up.
        runs[name] = subprocess.Popen(
            [sys.executable, str(out / "train.py"), "--model", str(weights), "--max-steps", "2", "--cpu",
             "--output-dir", str(tmp_path / f"{name}-checkpoints")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for name, proc in runs.items():
        stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
        assert proc.returncode == 0, f"{name}: {stderr[-3000:]}"
        summary = json.loads(stdout.strip().splitlines()[-1])
        assert summary["steps"] == 2 and math.isfinite(summary["training_loss"]), (name, summary)
        assert (tmp_path / f"{name}-checkpoints" / "train_result.json").exists()
