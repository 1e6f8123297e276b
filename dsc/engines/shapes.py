"""The export shapes: what each writes, and the columns each reads.

One table for the three places that need it: the export itself (`dsc.engines.export`), the
check that a shape's columns are declared (`dsc.checks.exports`, at `dsc check` time, so this
module imports nothing heavy) and the documentation (docs/export-shapes.md).

Each field a shape reads comes from the first column present of its list in `FIELDS`. The
shapes, by the trainer that reads them as they are:

| shape | writes | TRL's name for it |
|---|---|---|
| `instruction` | `instruction`, `input`, `output` | none: Alpaca (Axolotl `type: alpaca`, LLaMA-Factory `alpaca`) |
| `chat` | `messages` | conversational language modeling |
| `prompt_completion` | `prompt`, `completion` (strings) | standard prompt-completion |
| `chat_prompt_completion` | `prompt` (messages), `completion` (the assistant message) | conversational prompt-completion |
| `preference` | `prompt`, `chosen`, `rejected` (strings) | standard preference |
"""
from __future__ import annotations

from dataclasses import dataclass

# Candidate columns for each field, in order of preference.
FIELDS: dict[str, tuple[str, ...]] = {
    "instruction": ("instruction", "prompt", "question", "query"),
    "input": ("input", "context"),
    "output": ("output", "response", "completion", "answer"),
    "system": ("system",),
    "chosen": ("chosen",),
    "rejected": ("rejected",),
}


@dataclass(frozen=True)
class Shape:
    """One export shape: the columns it writes, the fields it must find and those it may."""

    writes: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    as_is: str | None = None  # a column that, when the data has it, is written as it is (chat: messages)
    trl: str = ""  # TRL's name for the format, for messages and docs


SHAPES: dict[str, Shape] = {
    "instruction": Shape(("instruction", "input", "output"), ("instruction", "output"), ("input",),
                         trl="Alpaca (not a TRL format: train.py maps it)"),
    "chat": Shape(("messages",), ("instruction", "output"), ("input", "system"), as_is="messages",
                  trl="conversational language modeling"),
    "prompt_completion": Shape(("prompt", "completion"), ("instruction", "output"), ("input", "system"),
                               trl="standard prompt-completion"),
    "chat_prompt_completion": Shape(("prompt", "completion"), ("instruction", "output"), ("input", "system"),
                                    trl="conversational prompt-completion"),
    "preference": Shape(("prompt", "chosen", "rejected"), ("instruction", "chosen", "rejected"),
                        ("input", "system"), trl="standard preference"),
}


def column_for(field: str, columns) -> str | None:
    """The column a field is read from: the first of its candidates that `columns` holds.

    >>> column_for("output", ["prompt", "completion"]), column_for("input", ["prompt"])
    ('completion', None)
    """
    return next((name for name in FIELDS[field] if name in columns), None)


def missing_fields(shape: str, columns) -> list[str]:
    """The required fields of `shape` that no column of `columns` supplies (none when the data
    has the shape's own as-is column).

    >>> missing_fields("preference", ["prompt", "completion"])
    ['chosen', 'rejected']
    >>> missing_fields("chat", ["messages"])
    []
    """
    spec = SHAPES[shape]
    if spec.as_is is not None and spec.as_is in columns:
        return []
    return [field for field in spec.required if column_for(field, columns) is None]


def describe(field: str) -> str:
    """A field and where it comes from, for messages: `'output' (one of output, response, …)`.

    >>> describe("chosen"), describe("input")
    ("'chosen'", "'input' (one of input, context)")
    """
    names = FIELDS[field]
    return f"'{field}'" if names == (field,) else f"'{field}' (one of {', '.join(names)})"


def reads() -> str:
    """What each shape reads, for the hint of a missing column: `?` marks an optional field.

    >>> print(reads())
    the shapes read: instruction: instruction, output, input?; chat: messages, or instruction, output, input?, system?; prompt_completion: instruction, output, input?, system?; chat_prompt_completion: instruction, output, input?, system?; preference: instruction, chosen, rejected, input?, system? — instruction is the first column of instruction, prompt, question, query; input of input, context; output of output, response, completion, answer
    """
    parts = []
    for name, spec in SHAPES.items():
        fields = ", ".join([*spec.required, *(f + "?" for f in spec.optional)])
        parts.append(f"{name}: " + (f"{spec.as_is}, or {fields}" if spec.as_is else fields))
    sources = "; ".join(f"{field} of {', '.join(names)}" for field, names in FIELDS.items() if len(names) > 1)
    return "the shapes read: " + "; ".join(parts) + " — " + sources.replace(" of ", " is the first column of ", 1)
