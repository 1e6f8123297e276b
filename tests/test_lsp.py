"""`dsc lsp` as an editor speaks to it: a real client session over stdio, JSON-RPC with
Content-Length framing, every wait bounded so that a hang fails in seconds.

initialize → initialized → didOpen → publishDiagnostics (compared with `dsc check --format json`,
columns turned into UTF-16 units independently of the server) → formatting (applied, compared with
`dsc fmt`) → didChange → completion (clean-rule keywords compared with the operator registry) →
hover (text from docs/language.md) → definition (a column use to its schema line) → shutdown → exit.
Set DSC_LSP_TRANSCRIPT=FILE to keep the session's messages. Each session starts a server process
(2-3 s on an idle 2-core machine); tests/test_lsp_features.py covers the same answers in process.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsc.commands import app
from dsc.ops import OPERATORS
from dsc.syntax.parser import BLOCK_KEYWORDS
from dsc.vocabulary import NORMALIZE_STEPS

pytest.importorskip("pygls", reason="dsc lsp needs the lsp extra: pip install 'dsc[lsp]'")

TIMEOUT = 20.0  # seconds for any one answer; the first includes starting Python and importing dsc
# An emoji (two UTF-16 units) before the first error's column, and a layout `dsc fmt` changes.
SPEC = """dataset demo version 1 {
  seed 7
  locale en_US
}

source s {
  files "data.jsonl"
}

schema {
  prompt   : text required
  response : text
}

clean {
  replace response "\U0001F600 (x)" with "\\\\2"
  drop   where words(promt) < 3
  dedupe exact on prompt
}
"""


class Client:
    """A minimal LSP client: framed JSON-RPC on the server's stdin/stdout, a reader thread, and
    answers to the few requests a server may send its client."""

    def __init__(self, command: list[str], cwd: Path):
        self.proc = subprocess.Popen(command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.inbox: queue.Queue = queue.Queue()
        self.transcript: list[tuple[str, dict]] = []
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self.inbox.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.inbox.put(json.loads(stream.read(length)))

    def _send(self, message: dict) -> None:
        message = {"jsonrpc": "2.0", **message}
        self.transcript.append(("->", message))
        body = json.dumps(message).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict | None = None) -> None:
        self._send({"method": method, **({"params": params} if params is not None else {})})

    def _next(self, deadline: float) -> dict:
        left = deadline - time.monotonic()
        try:
            message = self.inbox.get(timeout=max(left, 0.01))
        except queue.Empty:
            raise AssertionError(f"no answer from dsc lsp in {TIMEOUT} s\n{self.dump()}") from None
        if message is None:
            raise AssertionError(f"dsc lsp closed its output\n{self.stderr()}\n{self.dump()}")
        self.transcript.append(("<-", message))
        if "method" in message and "id" in message:  # a request of the server's: answer it
            self._send({"id": message["id"], "result": None})
        return message

    def request(self, method: str, params: dict | None) -> object:
        self.next_id += 1
        self._send({"id": self.next_id, "method": method, "params": params})
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._next(deadline)
            if message.get("id") == self.next_id and "method" not in message:
                assert "error" not in message, message
                return message["result"]

    def wait_for(self, method: str, test=lambda params: True) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._next(deadline)
            if message.get("method") == method and test(message.get("params")):
                return message["params"]

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return ""
        return self.proc.stderr.read().decode("utf-8", "replace")

    def dump(self) -> str:
        return "\n".join(f"{way} {json.dumps(m, ensure_ascii=False)}" for way, m in self.transcript)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=TIMEOUT)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            stream.close()


def _command() -> list[str]:
    script = Path(sys.executable).parent / "dsc"
    # `--stdio`, as VS Code's client (vscode-languageclient, TransportKind.stdio) passes it.
    return [str(script), "lsp", "--stdio"] if script.exists() else [sys.executable, "-m", "dsc", "lsp", "--stdio"]


def utf16(line: str, column: int) -> int:
    """The UTF-16 character of a 1-based code-point column of a line."""
    return len(line[: column - 1].encode("utf-16-le")) // 2


def _at(text: str, needle: str, into: int = 0) -> dict:
    """The protocol position `into` characters after the start of `needle` in `text`."""
    offset = text.index(needle) + into
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return {"line": line, "character": utf16(text[start:offset] + "x", offset - start + 1)}


def _apply(text: str, edits: list[dict]) -> str:
    lines = text.split("\n")

    def offset(pos: dict) -> int:
        before = sum(len(l) + 1 for l in lines[: pos["line"]])
        line = lines[pos["line"]] if pos["line"] < len(lines) else ""
        units = 0
        for i, ch in enumerate(line):
            if units >= pos["character"]:
                return before + i
            units += 2 if ord(ch) > 0xFFFF else 1
        return before + len(line)

    for edit in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
                       reverse=True):
        start, end = offset(edit["range"]["start"]), offset(edit["range"]["end"])
        text = text[:start] + edit["newText"] + text[end:]
    return text


@pytest.fixture
def session(tmp_path):
    client = Client(_command(), tmp_path)
    yield client
    path = os.environ.get("DSC_LSP_TRANSCRIPT")
    if path:
        Path(path).write_text(client.dump() + "\n", encoding="utf-8")
    client.close()


def test_an_editor_session(session, tmp_path):
    spec = tmp_path / "demo.dspec"
    spec.write_text(SPEC, encoding="utf-8")
    uri = spec.as_uri()
    client = session

    init = client.request("initialize", {"processId": os.getpid(), "rootUri": tmp_path.as_uri(),
                                         "capabilities": {}, "clientInfo": {"name": "tests/test_lsp.py"}})
    caps = init["capabilities"]
    assert init["serverInfo"]["name"] == "dsc"
    assert caps["positionEncoding"] == "utf-16" and caps["textDocumentSync"]["change"] == 1  # whole documents
    assert caps["documentFormattingProvider"] and caps["hoverProvider"] and caps["definitionProvider"]
    assert " " in caps["completionProvider"]["triggerCharacters"]
    client.notify("initialized", {})

    # didOpen → the diagnostics of `dsc check`, at the same places, in UTF-16 columns.
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "dspec", "version": 1,
                                                            "text": SPEC}})
    published = client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri)
    checked = CliRunner().invoke(app, ["check", "--format", "json", str(spec)])
    expected = json.loads(checked.stdout)
    lines = SPEC.split("\n")
    assert published["version"] == 1
    assert [d["code"] for d in published["diagnostics"]] == [e["code"] for e in expected] == ["DSC213", "DSC201"]
    for got, want in zip(published["diagnostics"], expected):
        assert got["source"] == "dsc" and got["severity"] == 1
        assert got["message"] == want["message"] + (f"\nhint: {want['hint']}" if want["hint"] else "")
        line = lines[want["line"] - 1]
        assert got["range"] == {
            "start": {"line": want["line"] - 1, "character": utf16(line, want["col"])},
            "end": {"line": want["end_line"] - 1, "character": utf16(lines[want["end_line"] - 1], want["end_col"])},
        }
    # The emoji takes two UTF-16 units: the first error starts one unit after its code-point column.
    assert published["diagnostics"][0]["range"]["start"]["character"] == expected[0]["col"]
    assert published["diagnostics"][1]["message"] == "unknown column 'promt'\nhint: did you mean 'prompt'?"

    # formatting = `dsc fmt`
    edits = client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                       "options": {"tabSize": 2, "insertSpaces": True}})
    formatted = _apply(SPEC, edits)
    assert CliRunner().invoke(app, ["fmt", str(spec)]).exit_code == 0
    assert formatted == spec.read_text(encoding="utf-8") != SPEC
    assert "  drop where words(promt) < 3\n" in formatted

    # didChange (whole text) → diagnostics again, for that version
    fixed = formatted.replace("promt", "prompt").replace("\\\\2", "\\\\1")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": fixed}]})
    again = client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri and p["version"] == 2)
    assert again["diagnostics"] == []

    def complete(text: str) -> list[str]:
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                                 "contentChanges": [{"text": text}]})
        last = text.split("\n")[-1]
        position = {"line": text.count("\n"), "character": utf16(last, len(last) + 1)}  # the end of the text
        result = client.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": position})
        items = result["items"] if isinstance(result, dict) else result
        return [item["label"] for item in items]

    head = fixed.split("clean {\n")[0]
    clean_keywords = {op.keyword for op in OPERATORS.values()}
    assert set(complete(head + "clean {\n  ")) == clean_keywords
    assert set(complete(head + "clean {\n  dedupe exact on ")) == {"prompt", "response"}
    assert set(complete(head + "clean {\n  normalize prompt: ")) == set(NORMALIZE_STEPS)
    assert {"de_DE", "en_US"} <= set(complete(head + "clean {\n  standardize prompt as date locale "))
    assert "EUR" in complete(head + "clean {\n  standardize prompt as money ")
    assert "kg" in complete(head + "clean {\n  standardize prompt as quantity ")
    assert set(complete(fixed + "\n")) == set(BLOCK_KEYWORDS)
    assert complete(head + 'clean {\n  replace prompt "a b') == []  # inside a string

    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 4},
                                             "contentChanges": [{"text": fixed}]})
    # hover: a two-word keyword, with its text from docs/language.md
    hovered = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                    "position": _at(fixed, "dedupe exact", 2)})
    docs = (Path(__file__).resolve().parents[1] / "docs" / "language.md").read_text(encoding="utf-8")
    assert hovered["contents"]["kind"] == "markdown"
    assert hovered["contents"]["value"].startswith("**dedupe exact**")
    assert "dedupe exact on prompt, response ignoring case, whitespace" in hovered["contents"]["value"]
    assert hovered["range"] == {"start": _at(fixed, "dedupe exact"), "end": _at(fixed, "dedupe exact", 12)}
    seed = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": _at(fixed, "seed 7", 1)})
    line = next(l.strip() for l in docs.splitlines() if l.strip().startswith("seed 1234"))
    assert line in seed["contents"]["value"]

    # definition: the column use in `dedupe exact on prompt` → `prompt` in the schema
    location = client.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                          "position": _at(fixed, "dedupe exact on prompt", 17)})
    assert location["uri"] == uri
    assert location["range"] == {"start": _at(fixed, "prompt   : text"), "end": _at(fixed, "prompt   : text", 6)}
    assert client.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                      "position": _at(fixed, "seed 7", 1)}) is None

    assert client.request("shutdown", None) is None
    client.notify("exit")
    assert client.proc.wait(timeout=TIMEOUT) == 0


@pytest.mark.slow  # a second server process (2-4 s); test_lsp_features checks the same mapping in process
def test_utf8_positions_when_the_client_asks_for_them(session, tmp_path):
    """A client that offers UTF-8 gets columns in bytes: the emoji before the error counts 4."""
    client = session
    init = client.request("initialize", {"processId": None, "rootUri": None,
                                         "capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}}})
    assert init["capabilities"]["positionEncoding"] == "utf-8"
    client.notify("initialized", {})
    spec = tmp_path / "demo.dspec"
    spec.write_text(SPEC, encoding="utf-8")
    client.notify("textDocument/didOpen", {"textDocument": {"uri": spec.as_uri(), "languageId": "dspec",
                                                            "version": 1, "text": SPEC}})
    published = client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == spec.as_uri())
    expected = json.loads(CliRunner().invoke(app, ["check", "--format", "json", str(spec)]).stdout)[0]
    line = SPEC.split("\n")[expected["line"] - 1]
    assert published["diagnostics"][0]["range"] == {
        "start": {"line": expected["line"] - 1, "character": len(line[: expected["col"] - 1].encode("utf-8"))},
        "end": {"line": expected["line"] - 1, "character": len(line[: expected["end_col"] - 1].encode("utf-8"))},
    }
    assert published["diagnostics"][0]["range"]["start"]["character"] == expected["col"] - 1 + 3
    assert client.request("shutdown", None) is None
    client.notify("exit")
    assert client.proc.wait(timeout=TIMEOUT) == 0


def test_without_the_extra_it_says_how_to_install_it(monkeypatch):
    import dsc.extras

    monkeypatch.setattr(dsc.extras, "installed", lambda module: module != "pygls")
    result = CliRunner().invoke(app, ["lsp"])
    assert result.exit_code == 4
    assert "dsc lsp needs pygls" in result.output and "pip install 'dsc[lsp]'" in result.output
