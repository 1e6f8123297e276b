"""Shared pieces of the augmentation tests (and of bench/bench_augment.py): tiny seq2seq models and
a loopback chat-completions server.

A module of its own rather than a conftest.py: the test folders have no __init__.py, so a second
conftest.py would clash with tests/checks/conftest.py. Test modules import what they need by name.

Models: T5 and MarianMT configs a few KB wide with random (seeded) weights and a word-level
tokenizer built with the `tokenizers` library, saved to a folder and loaded back through the real
code path. They generate nonsense, deterministically; tests that need generations to pass the
guard use `LENIENT` bounds.

Server: `ChatServer` speaks `POST /v1/chat/completions` on 127.0.0.1. By default it rewrites the
text after the prompt's last blank line (the default template's layout): a paraphrase rotates
the words and adds "indeed"; a translation tags the text with its target language, and the way
back removes the tag, rotates the words and adds "indeed" — so answers pass the default guard.
`plan` scripts what the next requests get: an HTTP status, "timeout", "malformed", "no-choices",
"surrogate", "length", "echo-key", or a reply to send as it is, `(status, body bytes, {header: value})`;
`script(text, *steps)` does the same for the requests whose prompt holds `text` only (concurrent
requests arrive in any order). `paths` records the path of every request as the server received it.
"""
from __future__ import annotations

import collections
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dsc.augment.guard import Bounds

LENIENT = Bounds(min_similarity=0.0, max_similarity=1.0, min_length_ratio=0.0, max_length_ratio=1e9)
LANGUAGES = ("en", "de", "fr")
WORDS = ("the a cat dog sat on mat what is how do i you we make bread water red blue green quick brown fox "
         "jumps over lazy day night sun moon tree house car road city river book song").split()
SPECIAL = ["<pad>", "</s>", "<unk>"]


def tokenizer(languages=LANGUAGES, max_length: int = 48):
    """A word-level fast tokenizer (lower-cased, whitespace-split) with `>>lang<<` tokens."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(SPECIAL + [f">>{lang}<<" for lang in languages] + list(WORDS)
                                        + list("abcdefghijklmnopqrstuvwxyz?.,!'"))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    tok.post_processor = TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=max_length)


def build_t5(folder: Path, seed: int = 0, max_new_tokens: int = 12) -> Path:
    """A 1-layer, 16-wide T5 with random weights (a 'paraphraser'), saved with its tokenizer."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    tok = tokenizer()
    torch.manual_seed(seed)
    config = T5Config(vocab_size=len(tok), d_model=16, d_kv=4, d_ff=32, num_layers=1, num_decoder_layers=1,
                      num_heads=2, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    model = T5ForConditionalGeneration(config)
    model.generation_config.max_new_tokens = max_new_tokens
    _save(model, tok, folder)
    return folder


def build_marian(folder: Path, seed: int = 0, languages=LANGUAGES, max_new_tokens: int = 12) -> Path:
    """A 1-layer, 16-wide MarianMT with random weights, saved with a tokenizer that has `>>lang<<`
    tokens for `languages` (empty: a single-pair model)."""
    import torch
    from transformers import MarianConfig, MarianMTModel

    tok = tokenizer(languages)
    torch.manual_seed(seed)
    config = MarianConfig(vocab_size=len(tok), d_model=16, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                          max_position_embeddings=48, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
                          forced_eos_token_id=1)
    model = MarianMTModel(config)
    model.generation_config.max_new_tokens = max_new_tokens
    _save(model, tok, folder)
    return folder


def _save(model, tok, folder: Path) -> None:
    import transformers

    transformers.utils.logging.disable_progress_bar()
    model.save_pretrained(folder)
    tok.save_pretrained(folder)


# ── loopback chat-completions server ──────────────────────────────────────────────────────
_TARGET = re.compile(r"from (\w[\w ()]*?) to (\w[\w ()]*?)\.")
_TAG = re.compile(r"^<(\w+)> ")


def rewrite(prompt: str) -> str:
    """What the fake model answers: see the module docstring."""
    instruction, _, text = prompt.rpartition("\n\n")
    words = text.split()
    rotated = " ".join(words[len(words) // 2:] + words[:len(words) // 2] + ["indeed"])
    match = _TARGET.search(instruction)
    if match is None:
        return rotated
    target = match.group(2)
    if target != "English":
        return f"<{target}> {text}"
    untagged = _TAG.sub("", text).split()
    return " ".join(untagged[len(untagged) // 2:] + untagged[:len(untagged) // 2] + ["indeed"])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default listen backlog (5) drops connections under 8 concurrent clients, and a dropped
    # SYN costs the client a one-second retransmit: the benchmark would measure that.
    request_queue_size = 128


class ChatServer:
    """A threaded loopback chat-completions server; use as a context manager."""

    def __init__(self, latency: float = 0.0, hang: float = 2.0):
        self.latency = latency
        self.hang = hang  # how long a "timeout" answer sleeps
        self.plan: collections.deque = collections.deque()
        self.scripts: dict[str, collections.deque] = {}
        self.bodies: list[dict] = []
        self.auth: list[str | None] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def count(self) -> int:
        return len(self.bodies)

    def __enter__(self) -> "ChatServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, text: str, *steps) -> None:
        """The next requests whose prompt contains `text` get `steps`, in order."""
        self.scripts.setdefault(text, collections.deque()).extend(steps)

    def _next(self, prompt: str):
        with self._lock:
            for text, steps in self.scripts.items():
                if text in prompt and steps:
                    return steps.popleft()
            return self.plan.popleft() if self.plan else None

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with server._lock:
                    server.bodies.append(body)
                    server.auth.append(self.headers.get("Authorization"))
                    server.paths.append(self.path)
                if self.path != "/v1/chat/completions":
                    return self._send(404, b'{"error": "no such route"}')
                if server.latency:
                    time.sleep(server.latency)
                prompt = body["messages"][-1]["content"]
                step = server._next(prompt)
                if isinstance(step, tuple):
                    return self._send(*step)
                if isinstance(step, int):
                    return self._send(step, json.dumps({"error": {"message": f"status {step}"}}).encode(),
                                      {"Retry-After": "0"} if step == 429 else {})
                if step == "timeout":
                    time.sleep(server.hang)
                if step == "malformed":
                    return self._send(200, b"<html>oops</html>")
                if step == "no-choices":
                    return self._send(200, b'{"choices": []}')
                if step == "surrogate":
                    return self._send(200, b'{"choices": [{"message": {"content": "bad \\ud800"}}]}')
                content = rewrite(prompt)
                if step == "echo-key":
                    content += f" (you sent {self.headers.get('Authorization')})"
                finish = "length" if step == "length" else "stop"
                reply = {"id": "x", "object": "chat.completion", "model": body.get("model"),
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                      "finish_reason": finish}]}
                self._send(200, json.dumps(reply).encode())

            def _send(self, status: int, data: bytes, headers: dict | None = None):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler
