"""The train split's rows, and the examples a model is trained on for each of them.

`trl_example` is copied verbatim into every generated `train.py` (see `embedded_source`), which
hands its examples to TRL's `SFTTrainer`; dsc counts the tokens of the same examples the way
`SFTTrainer` tokenizes them (`example_tokens`), so the estimates count the tokens training
sees. `trl_example` therefore imports nothing at module level, and the one name it reads, the
export shapes' `FIELDS` table, is its default argument, written out ahead of it in train.py.
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

from dsc.engines.shapes import FIELDS
from dsc.finetune.errors import FinetuneError


def trl_example(row, chat_template=None, fields=FIELDS):
    """The example TRL's `SFTTrainer` is given for one exported row, or None when the row has no
    shape dsc knows. The one formatting function of train.py and of dsc's token estimates.

    A row TRL reads as it is (prompt-completion, text, conversational prompt-completion with a chat
    template) is given as it is. Otherwise, with a chat template (the tokenizer's own), every row
    becomes a conversation, so the model trains in the format it is prompted in: TRL's
    conversational prompt-completion (`prompt` the turns before the last assistant turn,
    `completion` that turn) — or, for a `messages` row whose template marks the assistant's text
    with `{% generation %}`, the whole conversation, for TRL's assistant-only loss over every
    assistant turn. Without a chat template, rows are TRL's standard prompt-completion text: a
    conversation as `### Role:` sections, an instruction row in the Stanford Alpaca prompt format.
    A preference row is trained on its chosen answer. The columns each field may come from are
    `fields`: the export shapes' own (`dsc.engines.shapes.FIELDS`), so both read the same columns.

    >>> trl_example({"prompt": "2+2=", "completion": "4"})
    {'prompt': '2+2=', 'completion': '4'}
    >>> trl_example({"prompt": "2+2=", "completion": "4"}, "{{ messages }}")
    {'prompt': [{'role': 'user', 'content': '2+2='}], 'completion': [{'role': 'assistant', 'content': '4'}]}
    >>> print(trl_example({"messages": [{"role": "user", "content": "Hi"},
    ...                                 {"role": "assistant", "content": "Hello"}]})["prompt"])
    ### User:
    Hi
    <BLANKLINE>
    ### Assistant:
    <BLANKLINE>
    >>> trl_example({"instruction": "Add 2 and 2.", "input": "", "output": "4"})["prompt"].splitlines()[-3:]
    ['Add 2 and 2.', '', '### Response:']
    >>> trl_example({"label": 3}) is None
    True
    """
    import re

    if isinstance(chat_template, dict):  # a template shipped as named variants: the default one
        chat_template = chat_template.get("default")
    chat = isinstance(chat_template, str) and chat_template.strip() != ""
    marked = chat and re.search(r"\{%-?\s*generation\s*-?%\}", chat_template) is not None

    def turns(value):
        if not isinstance(value, list) or not value or not all(isinstance(m, dict) and m.get("role") for m in value):
            return None
        return [{"role": str(m["role"]), "content": "" if m.get("content") is None else str(m["content"])}
                for m in value]

    def conversation(messages):  # the turns up to the last assistant turn, as TRL reads them
        last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
        if last is None:
            return None
        if chat and marked:
            return {"messages": messages[:last + 1]}
        if last == 0:  # an answer with nothing before it: its text
            return {"text": messages[0]["content"]}
        if chat:
            return {"prompt": messages[:last], "completion": [messages[last]]}
        shown = "".join(f"### {m['role'].capitalize()}:\n{m['content']}\n\n" for m in messages[:last])
        return {"prompt": shown + "### Assistant:\n", "completion": messages[last]["content"]}

    if turns(row.get("messages")) is not None:
        return conversation(turns(row["messages"]))
    prompt = row.get("prompt")
    completion = row.get("completion") if "completion" in row else row.get("chosen")  # preference: chosen
    if turns(prompt) is not None and turns(completion) is not None:
        if chat:
            return {"prompt": turns(prompt), "completion": turns(completion)}
        return conversation(turns(prompt) + turns(completion))
    if isinstance(prompt, str) and isinstance(completion, str):
        if not chat:
            return {"prompt": prompt, "completion": completion}
        return {"prompt": [{"role": "user", "content": prompt}], "completion": [{"role": "assistant", "content": completion}]}
    if isinstance(row.get("text"), str):
        return {"text": row["text"]}
    found = {field: next((str(row[n]) for n in names if row.get(n) is not None), None)
             for field, names in fields.items()}
    if found["instruction"] is None or found["output"] is None:
        return None
    if not chat:
        # Stanford Alpaca's prompts (Taori et al. 2023), with and without an input.
        if found["input"]:
            head = ("Below is an instruction that describes a task, paired with an input that provides further "
                    "context. Write a response that appropriately completes the request.\n\n"
                    f"### Instruction:\n{found['instruction']}\n\n### Input:\n{found['input']}\n\n### Response:\n")
        else:
            head = ("Below is an instruction that describes a task. Write a response that appropriately "
                    f"completes the request.\n\n### Instruction:\n{found['instruction']}\n\n### Response:\n")
        return {"prompt": head, "completion": found["output"]}
    user = found["instruction"] + (f"\n\n{found['input']}" if found["input"] else "")
    system = [{"role": "system", "content": found["system"]}] if found["system"] else []
    return {"prompt": system + [{"role": "user", "content": user}],
            "completion": [{"role": "assistant", "content": found["output"]}]}


def example_tokens(tokenizer, example):
    """(tokens, untrained) of one `trl_example` as TRL's SFTTrainer tokenizes it, before it cuts
    rows at max_length: the token ids of the whole sequence, and how many of the first ones the
    default loss leaves out (the prompt; everything before the first assistant token).

    TRL's rules, followed here (and held against `SFTTrainer` itself by the tests): a standard
    example gets the tokenizer's end-of-sequence text appended to its completion (or text) unless
    it already ends with it, then `tokenizer(text=…)` encodes prompt + completion; a conversation
    is encoded by the chat template; the completion starts where the tokens of the prompt alone
    (with the generation prompt) and of the whole example part.
    """
    eos = tokenizer.eos_token or ""

    def chat(messages, **options):
        return tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True, **options)

    if "messages" in example:
        encoded = chat(example["messages"], return_assistant_tokens_mask=True)
        ids, mask = list(encoded["input_ids"]), list(encoded.get("assistant_masks") or [])
        return len(ids), mask.index(1) if 1 in mask else len(ids)
    if "text" in example:
        text = example["text"] if example["text"].endswith(eos) else example["text"] + eos
        return len(tokenizer(text=text)["input_ids"]), 0
    prompt, completion = example["prompt"], example["completion"]
    if isinstance(prompt, list):
        prompt_ids = list(chat(prompt, add_generation_prompt=True)["input_ids"])
        ids = list(chat(prompt + completion)["input_ids"])
    else:
        completion = completion if completion.endswith(eos) else completion + eos
        prompt_ids = list(tokenizer(text=prompt)["input_ids"])
        ids = list(tokenizer(text=prompt + completion)["input_ids"])
    common = 0
    for a, b in zip(prompt_ids, ids):
        if a != b:
            break
        common += 1
    return len(ids), common


def example_text(example):
    """The text of one `trl_example`, for the approximate count and the words per token.

    >>> example_text({"prompt": [{"role": "user", "content": "Hi"}], "completion": [{"role": "assistant", "content": "Yo"}]})
    'Hi\\nYo'
    """
    if "text" in example:
        return example["text"]
    if "messages" in example:
        return "\n".join(m["content"] for m in example["messages"])
    if isinstance(example["prompt"], list):
        return "\n".join(m["content"] for m in example["prompt"] + example["completion"])
    return example["prompt"] + example["completion"]


def embedded_source() -> str:
    """The source of `trl_example`, as pasted into train.py, after the `FIELDS` table it defaults to
    (written out: train.py runs without dsc)."""
    table = "".join(f"    {name!r}: {columns!r},\n" for name, columns in FIELDS.items())
    return f"FIELDS = {{\n{table}}}\n\n\n" + inspect.getsource(trl_example)


def read_rows(path: Path) -> list[dict]:
    """The rows of a train split written by an export: jsonl, a JSON array, parquet, or a
    `save_to_disk` folder. A missing or unreadable file is an input error (exit 4)."""
    if not path.exists():
        raise FinetuneError("DSC307", f"train split '{path}' does not exist", missing=True,
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
        raise FinetuneError("DSC307", f"train split '{path}' cannot be read: {str(err).splitlines()[0]}",
                            missing=True) from None
    if not all(isinstance(r, dict) for r in rows):
        raise FinetuneError("DSC307", f"train split '{path}' is not a list of JSON objects", missing=True)
    return rows


def examples_of(rows: list[dict], path: Path, chat_template=None) -> list[dict]:
    """Each row's TRL example (`trl_example`); a row with no known shape stops here, naming its columns."""
    examples = []
    for number, row in enumerate(rows, 1):
        example = trl_example(row, chat_template)
        if example is None:
            columns = ", ".join(sorted(row)) or "none"
            raise FinetuneError("DSC307", f"row {number} of '{path}' has no training text (columns: {columns})",
                                missing=True, hint="export with a shape (instruction, chat, prompt_completion, "
                                                   "chat_prompt_completion, preference) or a template that writes "
                                                   "a 'text' column")
        examples.append(example)
    if not examples:
        raise FinetuneError("DSC307", f"train split '{path}' has no rows", missing=True)
    return examples


def _json_lines(text: str, path: Path) -> list:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as err:
                raise FinetuneError("DSC307", f"line {number} of train split '{path}' is not JSON ({err})",
                                    missing=True) from None
    return rows


def _from_disk(path: Path) -> list[dict]:
    import datasets

    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        loaded = loaded["train"] if "train" in loaded else next(iter(loaded.values()))
    return loaded.to_list()
