"""The generation cache: every generation a run made, content-addressed, in the output directory.

A generation's key is the sha256 of the canonical JSON of everything that determines it: the
task (paraphrase or translate, and the language pair), the model (a local folder's content
fingerprint, or the endpoint URL and model name), the prompt template's hash, the generation
settings and the input text (for an endpoint: the rendered messages). Change any of them and
the key changes; change nothing and a rerun finds every generation here and makes no call.

The cache is one append-only JSON-lines file, `{"k": KEY, "t": TEXT}` per line. Each entry is
written with a single `write` to a file opened in append mode and flushed at once, so a run
killed mid-way keeps every generation it had finished and the next run resumes from there. A
line cut short by the kill does not parse and is skipped (its generation is simply made
again); the next append starts on a fresh line. Only successful generations are stored: a
failed request is retried by the next run.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

CACHE_FILE = "generations.jsonl"
_KEY_CHARS = 64


def cache_key(parts: dict[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of a generation's defining parts.

    >>> cache_key({"b": 1, "a": "x"}) == cache_key({"a": "x", "b": 1})
    True
    >>> len(cache_key({"a": "x"}))
    64
    """
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class GenerationCache:
    """The generations stored under `root`; `get` reads, `put` appends (and flushes) one entry.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> cache = GenerationCache(root)
    >>> cache.put("a" * 64, "hello")
    >>> cache.close()
    >>> GenerationCache(root).get("a" * 64)
    'hello'
    """

    def __init__(self, root: Path):
        self.path = root / CACHE_FILE
        self.entries: dict[str, str] = {}
        self._fd: int | None = None
        self._fresh_line = True
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        for line in data.split(b"\n"):
            entry = _entry(line)
            if entry is not None:
                self.entries[entry[0]] = entry[1]
        # A kill mid-write leaves a partial last line; the next entry must not be glued to it.
        self._fresh_line = data.endswith(b"\n") or not data

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: str) -> str | None:
        return self.entries.get(key)

    def put(self, key: str, text: str) -> None:
        """Store one generation: one `write` of one line, so a kill never leaves half an entry
        that parses."""
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        line = json.dumps({"k": key, "t": text}, ensure_ascii=False, separators=(",", ":")) + "\n"
        data = (b"" if self._fresh_line else b"\n") + line.encode("utf-8")
        while data:  # a regular file takes it in one write; the loop is for the rare short write
            data = data[os.write(self._fd, data):]
        self._fresh_line = True
        self.entries[key] = text

    def close(self) -> None:
        """Flush the file to disk (a power cut before this may lose the last entries, which the next
        run regenerates)."""
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None


def _entry(line: bytes) -> tuple[str, str] | None:
    """One stored entry, or None for a line that is damaged or not ours."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    key, text = data.get("k"), data.get("t")
    if isinstance(key, str) and len(key) == _KEY_CHARS and isinstance(text, str):
        return key, text
    return None
