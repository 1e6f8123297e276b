"""`dsc finetune config` and `dsc finetune compare` as a user runs them: outputs, exit codes, and
bad input as a diagnostic at the spec line at fault — never a traceback."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from dsc.commands import app
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR
from ft_support import block_fixture, offline, project  # noqa: F401, F811  (fixtures)

runner = CliRunner()
GPU = ("gpu T4", "gpu_tflops 65", "utilization 30%", "gpu_power_w 70", "carbon_kg_per_kwh 0.2")


def dsc(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_compare_table_and_json(project, block):
    spec = project.spec(block("lora", 'base "models/tiny-gpt2"', "r 4", "target c_attn, c_proj", *GPU))
    table = dsc("finetune", "compare", spec, "--train", project.train)
    assert table.exit_code == EXIT_OK, table.output
    for words in ("full*", "LoRA", "prompt tuning*", "GPU-hours", "CO2 (kg)", "warning[domain_shift]",
                  "tokens: exact: the base model's TokenizersBackend"):
        assert words in table.stdout
    first = dsc("finetune", "compare", spec, "--train", project.train, "--json")
    again = dsc("finetune", "compare", spec, "--train", project.train, "--json")
    assert first.exit_code == EXIT_OK and first.stdout == again.stdout
    data = json.loads(first.stdout)
    assert [m["method"] for m in data["methods"]] == ["full", "lora", "prompt_tuning"]
    lora = data["methods"][1]
    assert lora["parameters"]["trainable"] == 4 * 2 * ((64 + 192) + (64 + 64) + (256 + 64))
    assert [t["target"] for t in lora["parameters"]["by_target"]] == ["c_attn", "c_proj"]
    assert all(m["co2_kg"] > 0 for m in data["methods"])
    assert data["plan"].startswith("sha256:") and data["train"]["rows"] == 8


def test_config_writes_the_four_files_identically_twice(project, block, tmp_path):
    spec = project.spec(block("lora", 'base "models/tiny-llama"', "r 8", "target all_linear", "precision fp32"))
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        result = dsc("finetune", "config", spec, "--out", out, "--train", project.train)
        assert result.exit_code == EXIT_OK, result.output
    names = sorted(p.name for p in outs[0].iterdir() if p.name != ".dsc-finetune.json")  # its record of them
    assert names == ["estimates.json", "peft_config.json", "train.py", "training_args.json"]
    assert all((outs[0] / n).read_bytes() == (outs[1] / n).read_bytes() for n in names if n != "train.py")
    peft = json.loads((outs[0] / "peft_config.json").read_text())
    assert peft == {"bias": "none", "fan_in_fan_out": False, "lora_alpha": 8, "lora_dropout": 0, "peft_type": "LORA",
                    "r": 8, "target_modules": "all-linear", "task_type": "CAUSAL_LM"}
    args = json.loads((outs[0] / "training_args.json").read_text())
    assert (args["learning_rate"], args["bf16"], args["seed"]) == (0.0002, False, 7)
    estimates = json.loads((outs[0] / "estimates.json").read_text())
    assert args["max_length"] == estimates["methods"][0]["settings"]["max_length"]  # TRL would use 1024 otherwise


def test_config_never_replaces_nor_removes_a_file_it_did_not_write(project, block, tmp_path):
    lora = project.spec(block("lora", 'base "models/tiny-gpt2"'))
    out = tmp_path / "mine"
    out.mkdir()
    (out / "train.py").write_text("my own script\n")
    refused = dsc("finetune", "config", lora, "--out", out, "--train", project.train)
    assert refused.exit_code == EXIT_INPUT_ERROR and "which dsc did not write" in refused.stderr
    assert "\n  train.py\n" in refused.stderr and (out / "train.py").read_text() == "my own script\n"
    assert sorted(p.name for p in out.iterdir()) == ["train.py"]  # nothing written
    (out / "train.py").unlink()
    assert dsc("finetune", "config", lora, "--out", out, "--train", project.train).exit_code == EXIT_OK
    assert dsc("finetune", "config", lora, "--out", out, "--train", project.train).exit_code == EXIT_OK  # its own
    (out / "peft_config.json").write_text('{"edited": "by hand"}')  # changed since: no longer dsc's to remove
    full = project.spec(block("full", 'base "models/tiny-gpt2"'))
    refused = dsc("finetune", "config", full, "--out", out, "--train", project.train)
    assert refused.exit_code == EXIT_INPUT_ERROR and "\n  peft_config.json\n" in refused.stderr
    assert (out / "peft_config.json").read_text() == '{"edited": "by hand"}'


def test_config_needs_a_method_when_there_are_several(project, block, tmp_path):
    spec = project.spec(block("lora", 'base "models/tiny-gpt2"'), block("full", 'base "models/tiny-gpt2"'))
    result = dsc("finetune", "config", spec, "--out", tmp_path / "o", "--train", project.train)
    assert result.exit_code == EXIT_SPEC_ERROR
    assert "several finetune blocks" in result.stderr and "--method lora or --method full" in result.stderr
    assert dsc("finetune", "config", spec, "--out", tmp_path / "o", "--train", project.train,
               "--method", "full").exit_code == EXIT_OK


@pytest.mark.parametrize("settings, code, words", [
    (('base "models/tiny-gpt2"', "target q_proj"), EXIT_SPEC_ERROR,
     ["s.dspec:19:10: error[DSC203]: gpt2 has no module 'q_proj' to adapt",
      "hint: its adaptable layers are: c_attn, c_fc, c_proj, lm_head, wpe, wte"]),
    (('base "models/tiny-gpt2"', "r 100"), EXIT_SPEC_ERROR,
     ["s.dspec:19:5: error[DSC209]: r 100 is larger than the layer transformer.h.0.attn.c_attn (Conv1D 64 → 192)",
      "use r ≤ 64"]),
    (('base "models/nope"',), EXIT_INPUT_ERROR,
     ["s.dspec:18:8: error[DSC307]: base model 'models/nope' not found",
      'for a hub model, pin a revision: base "models/nope@REVISION"']),
    (('base "org/model@0123abc"',), EXIT_INPUT_ERROR,
     ["base model 'org/model@0123abc' is not in the local Hugging Face cache",
      "huggingface-cli download org/model --revision 0123abc"]),
    (('base "models/tiny-gpt2"', "max_length 4096"), EXIT_SPEC_ERROR,
     ["max_length 4096 is longer than the 256 positions of this gpt2 model"]),
    (('base "models/tiny-gpt2"', "gpu_power_w 300"), EXIT_SPEC_ERROR,
     ["error[DSC212]: 'gpu_power_w' asks for an energy estimate, which also needs 'gpu_tflops' and 'utilization'",
      "hint: add: gpu_tflops 312, utilization 40%"]),
    (('base "/models/x"',), EXIT_SPEC_ERROR, ["base model path '/models/x' is not allowed: it is absolute"]),
])
def test_bad_input_is_a_diagnostic(project, block, settings, code, words):
    spec = project.spec(block("lora", *settings))
    result = dsc("finetune", "compare", spec, "--train", project.train)
    assert result.exit_code == code, result.output
    for w in words:
        assert w in result.stderr
    assert "Traceback" not in result.output


def test_missing_or_shapeless_train_split(project, block, tmp_path):
    spec = project.spec(block("full", 'base "models/tiny-gpt2"'))
    missing = dsc("finetune", "compare", spec, "--run", tmp_path / "never-run")
    assert missing.exit_code == EXIT_INPUT_ERROR
    assert "never-run/all.jsonl' does not exist" in missing.stderr  # no split block: the one split, all
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"label": 1}\n')
    shapeless = dsc("finetune", "compare", spec, "--train", odd)
    assert shapeless.exit_code == EXIT_INPUT_ERROR and "row 1 of" in shapeless.stderr
    assert "has no training text (columns: label)" in shapeless.stderr
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"instruction": "a", "output": "b"}\n{"instruction": \n')
    bad = dsc("finetune", "compare", spec, "--train", broken)
    assert bad.exit_code == EXIT_INPUT_ERROR and "line 2 of train split" in bad.stderr
    assert bad.stderr.startswith(f"{spec}: error[DSC307]")  # a data file: no spec line is at fault


def test_a_spec_without_finetune(project):
    spec = project.spec()
    result = dsc("finetune", "compare", spec, "--train", project.train)
    assert result.exit_code == EXIT_SPEC_ERROR and "the spec has no finetune block" in result.stderr


@pytest.mark.slow
def test_a_pinned_hub_model_is_read_from_the_local_cache_only(project, block, tmp_path):
    """A hub id at a revision loads from a Hugging Face cache laid out on disk here — no network.

    A subprocess, because the hub client reads HF_HUB_CACHE when it is first imported."""
    revision = "0123456789abcdef0123456789abcdef01234567"
    snapshot = tmp_path / "cache" / "models--org--tiny" / "snapshots" / revision
    shutil.copytree(project.root / "models" / "tiny-gpt2", snapshot)
    spec = project.spec(block("lora", f'base "org/tiny@{revision}"', "r 2"))
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "dsc", "finetune", "compare", str(spec), "--train",
                           str(project.train), "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == EXIT_OK, done.stderr
    data = json.loads(done.stdout)
    assert data["base"]["parameters"] == 149_248 and data["train"]["exact"]
