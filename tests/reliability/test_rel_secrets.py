"""Secrets: the API key named by `key_env` reaches the endpoint's Authorization header and nowhere
else — not an output file, the manifest, stats, the report, the cache, stdout or stderr — even when
the endpoint echoes it back, in any spelling (JSON with `\\/`, `\\uXXXX`, URL-encoded, HTML, repr,
base64), refuses it (401), redirects (307) or rejects requests (400), and with DSC_DEBUG=1. A key
read with a line break after it is stripped; one that an HTTP header cannot carry is refused,
naming the variable and never the value.

`dsc run` runs as a real subprocess (its true stdout and stderr) against the loopback server of
tests/augment/aug_support.py; the property tests drive `ChatClient` against the same server.
"""
from __future__ import annotations

import base64
import html
import json
import os
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "augment"))  # aug_support's folder
from aug_support import ChatServer  # noqa: E402

from dsc.augment.apikey import ApiKey, KeyProblem  # noqa: E402
from dsc.augment.endpoint import ChatClient, EndpointFatal, EndpointSettings  # noqa: E402
from hypothesis_budget import examples  # noqa: E402

ENV = "DSC_REL_SECRET_KEY"
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()


def _project(tmp: Path, url: str) -> Path:
    rows = [{"id": f"t{i}", "prompt": " ".join(WORDS[(i + k) % len(WORDS)] for k in range(5)) + "?",
             "answer": f"answer {i}"} for i in range(24)]
    (tmp / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = tmp / "aug.dspec"
    spec.write_text(
        "dataset aug version 1 {\n  seed 5\n  locale en_US\n}\n\n"
        'source rows {\n  files "rows.jsonl"\n  key id\n}\n\n'
        "schema {\n  id : string required\n  prompt : text required\n  answer : text\n}\n\n"
        "split by id {\n  train 0.8\n  validation 0.2\n}\n\n"
        "augment train {\n"
        f'  paraphrase prompt ratio 0.5 endpoint "{url}" model "fake" key_env {ENV} concurrency 2\n'
        "}\n\n"
        'export jsonl "{split}.jsonl"\n', encoding="utf-8")
    return spec


def _run(spec: Path, out: Path, key: str, url: str, debug: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, **{ENV: key})
    env.pop("DSC_DEBUG", None)
    if debug:
        env["DSC_DEBUG"] = "1"
    # --kept-jsonl: the kept rows as plain text too (kept.parquet is compressed), so `_leaks`, which
    # scans every file's bytes, sees every kept value.
    return subprocess.run([sys.executable, "-m", "dsc", "run", str(spec), "--out", str(out), "--kept-jsonl",
                           "--allow-endpoint", f"{url}#{ENV}"], env=env,
                          capture_output=True, timeout=120)


def spellings(key: str) -> list[str]:
    r"""The key as servers and libraries write it back — this test's own list, not dsc's pattern.
    The JSON spelling with `\/` (PHP's json_encode, Java's org.json) comes first."""
    raw, json_text = key.encode(), json.dumps(key)[1:-1]
    return [json_text.replace("/", "\\/"), key, json_text,
            "".join(f"\\u{ord(c):04x}" for c in key), "".join(f"\\u{ord(c):04X}" for c in key),
            json.dumps(json_text)[1:-1],  # JSON inside JSON
            urllib.parse.quote(key, safe=""), urllib.parse.quote(urllib.parse.quote(key, safe=""), safe=""),
            repr(key)[1:-1], repr(raw)[2:-1], html.escape(key), "".join(f"&#{ord(c)};" for c in key),
            base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
            base64.b64encode(b"Bearer " + raw).decode()]


def _found(key: str, text: str | bytes) -> list[str]:
    """The spellings of `key` that `text` holds."""
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return [s for s in spellings(key) if s in text]


def _leaks(key: str, out: Path, proc: subprocess.CompletedProcess) -> list[str]:
    texts = [(str(p), p.read_bytes()) for p in out.rglob("*") if p.is_file()]
    texts += [("stdout", proc.stdout), ("stderr", proc.stderr)]
    return [f"{name}: {_found(key, text)}" for name, text in texts if _found(key, text)]


def _echo(status: int, key: str, spelling: int) -> tuple[int, bytes, dict]:
    """A reply of `status` whose body echoes the Authorization header in one spelling."""
    return status, f'{{"error": "invalid header: Bearer {spellings(key)[spelling]}"}}'.encode(), {}


# The key holds the characters servers escape: '/', '"' and '\'. It is exported with a line break
# after it, as a key read from a file or a Kubernetes secret comes. The error bodies echo it back
# spelt as `spellings` spells it (the 401 with `\/`; the 400s in nine spellings, `\/` first).
@pytest.mark.parametrize("scenario", ["echo-key", "refused-401", "rejected-400-debug"])
def test_the_key_appears_in_no_output_log_or_message(scenario, tmp_path):
    key = f'sk-rel/{uuid.uuid4().hex}"\\+='
    with ChatServer() as server:
        spec = _project(tmp_path, server.url)
        if scenario == "echo-key":
            server.plan.extend(["echo-key"] * 6)
        elif scenario == "refused-401":
            server.plan.append(_echo(401, key, 0))
        else:
            server.plan.extend([_echo(400, key, 0), "echo-key", *(_echo(400, key, i) for i in range(1, 9))])
        proc = _run(spec, tmp_path / "out", key + "\n", server.url, debug=scenario.endswith("debug"))
        assert server.auth and set(server.auth) == {f"Bearer {key}"}  # the key did reach the endpoint, stripped
    if scenario == "refused-401":
        assert proc.returncode == 4 and b"refused the API key" in proc.stderr and b"[redacted]" in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        assert (tmp_path / "out" / "manifest.json").exists()
        names = {p.name for p in (tmp_path / "out").iterdir()}
        assert {"stats.json", "report.md", "report.html", "kept.jsonl", "augment_rejects.jsonl"} <= names
        redacted_in = "augment_rejects.jsonl" if scenario == "rejected-400-debug" else "kept.jsonl"
        assert b"[redacted]" in (tmp_path / "out" / redacted_in).read_bytes()
    assert not _leaks(key, tmp_path, proc), _leaks(key, tmp_path, proc)


@pytest.mark.parametrize("inside, words", [("\r\n", "a control character"), ("\u20ac", "a non-ASCII character")])
def test_a_key_a_header_cannot_carry_is_refused_naming_the_variable_only(inside, words, tmp_path):
    key = f"sk-rel-{uuid.uuid4().hex}"
    bad = key[:12] + inside + key[12:]
    with ChatServer() as server:
        proc = _run(_project(tmp_path, server.url), tmp_path / "out", bad + "\n", server.url)
        assert server.count == 0
    output = (proc.stdout + proc.stderr).decode()
    assert proc.returncode == 4 and "Traceback" not in output and "internal error" not in output
    assert f"the environment variable {ENV} (key_env) holds {words}" in output and "inside the key" in output
    assert not _leaks(key[:12], tmp_path, proc) and not _leaks(key[12:], tmp_path, proc)


# --- properties: ChatClient against the loopback server ------------------------------------------

VISIBLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
ESCAPED = st.sampled_from('/"\\%&<>\'+=u')
# Random visible keys, and keys dense in the characters that JSON, URLs, HTML and repr escape.
KEYS = st.one_of(st.text(VISIBLE, min_size=8, max_size=40),
                 st.lists(st.one_of(VISIBLE, ESCAPED), min_size=8, max_size=40).map("".join)).map("sk-".__add__)
AROUND = st.text(st.sampled_from(" \t\r\n"), max_size=3)
FAST = EndpointSettings(timeout=5, retries=0, connect_timeout=5)


@pytest.fixture(scope="module")
def echo_server():
    with ChatServer() as server:
        yield server


# 4× the profile's examples: every spelling of one key, in text written around it.
@settings(max_examples=examples(4), deadline=None)
@given(key=KEYS, around=st.lists(st.text(max_size=12), min_size=16, max_size=16))
def test_redaction_removes_every_spelling_of_any_key(key, around):
    text = around[0] + "".join(s + a for s, a in zip(spellings(key), around[1:]))
    assert not _found(key, ApiKey(key).redact(text))


# 2× the profile's examples, 4 requests each: one spelling of one key per example, in a reply, an error body
# that the 160-character excerpt may cut anywhere, a refusal and a redirect's Location.
@settings(max_examples=examples(2), deadline=None)
@given(key=KEYS, before=AROUND, after=AROUND, spelling=st.integers(0, len(spellings("k")) - 1),
       pad=st.integers(0, 200))
def test_no_spelling_of_any_key_comes_out_of_the_client(echo_server, key, before, after, spelling, pad):
    api_key = ApiKey.from_environ({"K": before + key + after}, "K")
    echo = spellings(key)[spelling]
    body = f"{'x' * pad} invalid header: Bearer {echo}".encode()
    echo_server.plan.clear()
    echo_server.plan.extend([
        (200, json.dumps({"choices": [{"message": {"content": f"you sent Bearer {echo}"}}]}).encode(), {}),
        (400, body, {}), (401, body, {}), (307, b"", {"Location": f"https://elsewhere.example/?k={echo}"})])
    client = ChatClient(echo_server.url, "m", api_key, FAST)
    texts = [client.complete("say hi\n\nhi", {}).text, client.complete("say hi\n\nhi", {}).reason]
    for _ in range(2):
        with pytest.raises(EndpointFatal) as fatal:
            client.complete("say hi\n\nhi", {})
        texts.append(str(fatal.value))
    assert echo_server.auth[-1] == f"Bearer {key}"  # the key went out, stripped of the whitespace around it
    assert "[redacted]" in texts[0] and "[redacted]" in texts[3], texts  # (the excerpts may cut it off)
    assert not [t for t in texts if _found(key, t)], texts


# Keys with something a header cannot carry inside: a control character, a space, a non-ASCII letter.
BAD = st.one_of(st.characters(max_codepoint=0x1F), st.just("\x7f"), st.just(" "),
                st.characters(min_codepoint=0x80, exclude_categories=["Cs"]))


# (Each part starts with a marker of its own, so that no part is a word of the message by chance.)
@settings(max_examples=examples(3), deadline=None)
@given(left=st.text(VISIBLE, min_size=6, max_size=20).map("sk-L".__add__), bad=BAD,
       right=st.text(VISIBLE, min_size=6, max_size=20).map("R~".__add__))
def test_a_key_with_an_unsendable_character_is_refused_without_showing_it(left, bad, right):
    with pytest.raises(KeyProblem) as problem:
        ApiKey.from_environ({"OPENAI_API_KEY": f" {left}{bad}{right}\n"}, "OPENAI_API_KEY")
    message = str(problem.value)
    assert message.startswith("the environment variable OPENAI_API_KEY (key_env) holds ")
    assert not _found(left, message) and not _found(right, message) and repr(ApiKey(left)) == "ApiKey([redacted])"


@pytest.mark.parametrize("key", ["sk-proj-" + "Ab3_x-Yz9" * 18, 'sk-\\\\/u%%&"\\x'])
def test_redaction_takes_linear_time_whatever_the_server_sends(key):
    api_key = ApiKey(key)
    for hostile in ("\\" * 500_000, "%25" * 200_000, "&#" * 250_000, key[:-1] * (500_000 // len(key))):
        started = time.perf_counter()
        api_key.redact(hostile)  # quadratic time would take hours
        assert time.perf_counter() - started < 3.0
