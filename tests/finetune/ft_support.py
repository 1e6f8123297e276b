"""Shared pieces of the fine-tuning tests: tiny model folders, a tiny train split, a spec project.

A module of its own rather than a conftest.py: the test folders have no __init__.py, so a second
conftest.py would clash with tests/checks/conftest.py. Test modules import the fixtures by name.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY_GPT2 = ROOT / "examples" / "models" / "tiny-gpt2"  # config + tokenizer, no weights
TINY_LLAMA = ROOT / "tests" / "fixtures" / "finetune" / "tiny-llama"  # config only; GQA: 4 heads, 2 KV heads

ROWS = [
    {"instruction": "Add the two numbers.", "input": "2 and 3", "output": "5"},
    {"instruction": "Reverse the string.", "input": "abc", "output": "cba"},
    {"instruction": "Name a primary colour.", "input": "", "output": "Red."},
    {"instruction": "Write a Python function that squares x.", "input": "", "output": "def square(x):\n    return x * x"},
    {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"},
    {"instruction": "Is 7 prime?", "input": "", "output": "Yes, 7 is prime."},
    {"instruction": "Sort the list.", "input": "[3, 1, 2]", "output": "[1, 2, 3]"},
    {"instruction": "Give the capital of Italy.", "input": "", "output": "Rome."},
]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test may reach the network: the hub client is told it is offline."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def write_rows(path: Path, rows=ROWS) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


class Project:
    """A throwaway project: dsc.toml (the root), models/tiny-gpt2, train.jsonl, and specs written on demand."""

    def __init__(self, root: Path):
        self.root = root
        (root / "dsc.toml").write_text("")
        shutil.copytree(TINY_GPT2, root / "models" / "tiny-gpt2")
        shutil.copytree(TINY_LLAMA, root / "models" / "tiny-llama")
        shutil.copy(TINY_GPT2 / "tokenizer.json", root / "models" / "tiny-llama")
        shutil.copy(TINY_GPT2 / "tokenizer_config.json", root / "models" / "tiny-llama")
        self.train = write_rows(root / "train.jsonl")

    def spec(self, *finetune_blocks: str, name: str = "s.dspec") -> Path:
        """A spec with a source, schema and export, then the given finetune blocks verbatim."""
        text = (
            "dataset tiny version 1 {\n  seed 7\n}\n\n"
            'source rows {\n  files "train.jsonl"\n}\n\n'
            "schema {\n  instruction : text required\n  input : text\n  output : text required\n}\n\n"
            'export jsonl "{split}.jsonl" shape instruction\n\n' + "\n".join(finetune_blocks)
        )
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def project(tmp_path) -> Project:
    return Project(tmp_path)


def block(method: str, *settings: str) -> str:
    return f"finetune {method} {{\n" + "".join(f"  {s}\n" for s in settings) + "}\n"


@pytest.fixture(name="block")
def block_fixture():
    """`block(method, *settings)`: a finetune block's text."""
    return block


@pytest.fixture(scope="session")
def rows() -> list[dict]:
    """The tiny train split, as rows."""
    return [dict(r) for r in ROWS]
