"""Rebuild examples/models/tiny-gpt2: a 2-layer GPT-2 config and a 512-token byte-level BPE
tokenizer trained on the example instruction data, with a chat template. No weights: dsc's
estimates need only the config and the tokenizer, and tests that train make random weights in a
temporary folder.

The chat template writes each turn as a `### Role:` section and ends the assistant's turn with the
end-of-sequence token; `{% generation %}` marks the assistant's text (and that token), which is what
TRL's assistant-only loss reads.

    .venv/bin/python examples/models/build_tiny_gpt2.py
"""
import json
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPT2Config, PreTrainedTokenizerFast

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
EOS = "<|endoftext|>"
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "### Assistant:\n{% generation %}{{ message['content'] }}" + EOS + "{% endgeneration %}\n\n"
    "{% else %}### {{ message['role'] | capitalize }}:\n{{ message['content'] }}\n\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}### Assistant:\n{% endif %}"
)


def texts():
    for record in json.loads((DATA / "code_alpaca_2k.json").read_text(encoding="utf-8")):
        yield from (record["instruction"], record["input"], record["output"])
    for line in (DATA / "seed_tasks.jsonl").read_text(encoding="utf-8").splitlines():
        task = json.loads(line)
        yield task["instruction"]
        for instance in task["instances"]:
            yield from (instance["input"], instance["output"])


def main():
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=[EOS], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(texts(), trainer)
    out = HERE / "tiny-gpt2"
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=EOS, bos_token=EOS, unk_token=EOS,
                                        model_max_length=256)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(out)
    config = GPT2Config(n_layer=2, n_embd=64, n_head=4, n_positions=256, vocab_size=bpe.get_vocab_size(),
                        bos_token_id=0, eos_token_id=0)
    config.save_pretrained(out)


if __name__ == "__main__":
    main()
