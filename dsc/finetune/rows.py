"""The train split's rows, and the text a model is trained on for each of them.

`row_text` and `encode` are copied verbatim into every generated `train.py` (see
`embedded_source`), so the tokens dsc counts for its estimates are the tokens training sees.
They therefore import nothing and use no name from this module.
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

from dsc.finetune.errors import FinetuneError


def row_text(row):
    """The training text of one exported row, or None when it has no shape dsc knows.

    Tried in order: `messages` (the chat shape: each turn as `### Role:` and its content), `text`
    (a template's output, as it is), then an instruction and an output (the instruction shape,
    or raw columns under the names the export reads) in the Stanford Alpaca prompt format.

    >>> print(row_text({"instruction": "Add 2 and 2.", "input": "", "output": "4"}))
    Below is an instruction that describes a task. Write a response that appropriately completes the request.
    <BLANKLINE>
    ### Instruction:
    Add 2 and 2.
    <BLANKLINE>
    ### Response:
    4
    >>> row_text({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]})
    '### User:\\nHi\\n\\n### Assistant:\\nHello'
    >>> row_text({"label": 3}) is None
    True
    """
    # The columns each field may come from, in order (the export's instruction shape reads the same).
    fields = {
        "instruction": ("instruction", "prompt", "question", "query"),
        "input": ("input", "context"),
        "output": ("output", "response", "completion", "answer"),
    }
    messages = row.get("messages")
    if isinstance(messages, list) and messages:
        turns = [m for m in messages if isinstance(m, dict)]
        return "\n\n".join(f"### {str(m.get('role') or '').capitalize()}:\n{m.get('content') or ''}" for m in turns)
    if isinstance(row.get("text"), str):
        return row["text"]
    found = {}
    for field, names in fields.items():
        found[field] = next((str(row[n]) for n in names if row.get(n) is not None), None)
    if found["instruction"] is None or found["output"] is None:
        return None
    # Stanford Alpaca's prompts (Taori et al. 2023), with and without an input.
    if found["input"]:
        head = ("Below is an instruction that describes a task, paired with an input that provides further "
                "context. Write a response that appropriately completes the request.\n\n"
                f"### Instruction:\n{found['instruction']}\n\n### Input:\n{found['input']}\n\n### Response:\n")
    else:
        head = ("Below is an instruction that describes a task. Write a response that appropriately completes "
                f"the request.\n\n### Instruction:\n{found['instruction']}\n\n### Response:\n")
    return head + found["output"]


def encode(tokenizer, text, max_length):
    """Token ids of one training text: the tokenizer's own special tokens, then the end-of-sequence
    token (so the model learns to stop), cut to `max_length` — a row's length is therefore
    min(tokens + 1, max_length), the count the estimates use."""
    ids = list(tokenizer(text, add_special_tokens=True, truncation=True, max_length=max_length)["input_ids"])
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return ids[:max_length]


def embedded_source() -> str:
    """The source of `row_text` and `encode`, as pasted into train.py."""
    return inspect.getsource(row_text) + "\n\n" + inspect.getsource(encode)


def read_rows(path: Path) -> list[dict]:
    """The rows of a train split written by an export: jsonl, a JSON array, parquet, or a
    `save_to_disk` folder. A missing or unreadable file is an input error (exit 4)."""
    if not path.exists():
        raise FinetuneError("DSC212", f"train split '{path}' does not exist", missing=True,
                            hint="run the spec first (dsc run SPEC --out DIR), then pass --run DIR or --train FILE")
    try:
        if path.is_dir():
            return _from_disk(path)
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json" and text.lstrip().startswith("["):
            rows = json.loads(text)
        else:
            rows = _json_lines(text, path)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise FinetuneError("DSC212", f"train split '{path}' cannot be read: {str(err).splitlines()[0]}",
                            missing=True) from None
    if not all(isinstance(r, dict) for r in rows):
        raise FinetuneError("DSC212", f"train split '{path}' is not a list of JSON objects", missing=True)
    return rows


def texts_of(rows: list[dict], path: Path) -> list[str]:
    """Each row's training text; a row with no known shape stops here, naming its columns."""
    texts = []
    for number, row in enumerate(rows, 1):
        text = row_text(row)
        if text is None:
            columns = ", ".join(sorted(row)) or "none"
            raise FinetuneError("DSC212", f"row {number} of '{path}' has no training text (columns: {columns})",
                                missing=True, hint="export with shape chat or shape instruction, or a template "
                                                   "that writes a 'text' column")
        texts.append(text)
    if not texts:
        raise FinetuneError("DSC212", f"train split '{path}' has no rows", missing=True)
    return texts


def _json_lines(text: str, path: Path) -> list:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as err:
                raise FinetuneError("DSC212", f"line {number} of train split '{path}' is not JSON ({err})",
                                    missing=True) from None
    return rows


def _from_disk(path: Path) -> list[dict]:
    import datasets

    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        loaded = loaded["train"] if "train" in loaded else next(iter(loaded.values()))
    return loaded.to_list()
