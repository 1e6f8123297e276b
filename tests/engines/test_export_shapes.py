"""The TRL shapes of `export`: prompt_completion, chat_prompt_completion and preference write what
TRL documents (https://huggingface.co/docs/trl/dataset_formats), and a shape whose columns the data
lacks stops the run naming them. TRL's own trainers read them in tests/finetune/test_ft_trl.py."""
import json
from pathlib import Path

import pyarrow as pa
import pytest

from dsc.engines.export import render_exports
from dsc.ops.runtime import RunError
from dsc.plan import ExportPlan

TABLE = pa.table({
    "question": ["2+2?", "Capital of Italy?"],
    "context": ["", "Europe"],
    "answer": ["4", "Rome"],
    "system": ["Be brief.", None],
    "chosen": ["4", "Rome"],
    "rejected": ["5", "Milan"],
    "_dsc_id": ["a", "b"],
})


def shaped(shape: str, table: pa.Table = TABLE) -> list[dict]:
    [out] = render_exports([ExportPlan(format="jsonl", path="x.jsonl", shape=shape, line=3)], {"all": table}, Path("."))
    return [json.loads(line) for line in out.content().decode().splitlines()]


def test_prompt_completion_is_trls_standard_format():
    assert shaped("prompt_completion") == [
        {"prompt": "Be brief.\n\n2+2?", "completion": "4"},
        {"prompt": "Capital of Italy?\n\nEurope", "completion": "Rome"},
    ]


def test_chat_prompt_completion_is_trls_conversational_format():
    assert shaped("chat_prompt_completion") == [
        {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}],
         "completion": [{"role": "assistant", "content": "4"}]},
        {"prompt": [{"role": "user", "content": "Capital of Italy?\n\nEurope"}],
         "completion": [{"role": "assistant", "content": "Rome"}]},
    ]


def test_chat_keeps_the_system_turn():
    assert shaped("chat")[0] == {"messages": [{"role": "system", "content": "Be brief."},
                                              {"role": "user", "content": "2+2?"},
                                              {"role": "assistant", "content": "4"}]}


def test_preference_reads_the_declared_columns():
    assert shaped("preference") == [
        {"prompt": "Be brief.\n\n2+2?", "chosen": "4", "rejected": "5"},
        {"prompt": "Capital of Italy?\n\nEurope", "chosen": "Rome", "rejected": "Milan"},
    ]


def test_instruction_is_kept_as_alpaca():
    assert shaped("instruction")[1] == {"instruction": "Capital of Italy?", "input": "Europe", "output": "Rome"}


@pytest.mark.parametrize("shape, drop, words", [
    ("preference", ["rejected"], "shape preference needs a rejected column; the data has question, context, answer, "
                                 "system, chosen"),
    ("prompt_completion", ["answer"], "shape prompt_completion needs an output column, one of output, response, "
                                      "completion, answer"),
])
def test_a_missing_column_is_named_with_what_each_shape_reads(shape, drop, words):
    with pytest.raises(RunError) as err:
        shaped(shape, TABLE.drop_columns(drop))
    assert err.value.exit_code == 4 and words in str(err.value)
    assert "the shapes read: instruction: instruction, output, input?; chat: messages, or" in str(err.value)
