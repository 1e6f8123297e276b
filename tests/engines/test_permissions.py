"""What a run may reach: endpoints the spec declares *and* the operator allows, files inside the
project unless the operator says otherwise, hub downloads only when allowed or offline."""
from __future__ import annotations

import json
import posixpath
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dsc.api import compile_text
from dsc.augment.endpoint import ChatClient
from dsc.commands import app
from dsc.engines.permissions import ENV_ENDPOINTS, Allowance, Permissions, enforce
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR
from dsc.ops.runtime import RunError
from dsc.syntax.source import SourceFile
from hypothesis_budget import examples
from run_outputs import kept_rows

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "augment"))  # aug_support's folder
from aug_support import ChatServer  # noqa: E402

runner = CliRunner()
KEY_ENV = "DSC_TEST_PERM_KEY"


@pytest.mark.parametrize("allowed, url, key_env, admitted", [
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1", None, True),
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1/", None, True),
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v10", None, False),  # a path boundary, not a prefix
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/", None, False),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8001/v1", None, False),
    ("http://127.0.0.1", "http://127.0.0.1:80/v1", None, True),  # default ports are spelt out
    ("https://API.example.com", "https://api.example.com:443/v1", None, True),
    ("https://api.example.com", "http://api.example.com/v1", None, False),  # the scheme counts
    ("https://api.example.com", "https://api.example.com.evil.net/v1", None, False),
    ("https://api.example.com", "https://api.example.com@evil.net/v1", None, False),  # userinfo trick
    ("https://api.example.com", "https://evil.net/api.example.com", None, False),
    ("https://api.example.com#K", "https://api.example.com/v1", "K", True),
    ("https://api.example.com#K", "https://api.example.com/v1", "HOME", False),  # the key is pinned
    ("https://api.example.com#K", "https://api.example.com/v1", None, False),
    ("https://api.example.com", "https://api.example.com/v1", "ANY", True),
    # both sides are normalised (RFC 3986 §6) before the comparison …
    ("http://h/v1/tenantA", "HTTP://H:80/v1/./tenantA/x/", None, True),
    ("http://h/v1/tenantA", "http://h/v1/%74enant%41/x", None, True),  # %74 is 't', %41 'A'
    ("http://h/v1/x/../tenantA", "http://h/v1/tenantA/x", None, True),  # the operator's dots are resolved
    ("http://h/v1/tenantA", "http://h/v1/tenantA/%3a", None, True),
    # … and an endpoint a server could resolve out of the prefix is refused outright
    ("http://h/v1/tenantA", "http://h/v1/tenantA/../../admin", None, False),
    ("http://h/v1/tenantA", "http://h/v1/tenantA/%2e%2e/%2E%2E/admin", None, False),
    ("http://h/v1/tenantA", "http://h/v1/tenantA/..%2f..%2fadmin", None, False),
    ("http://h/v1/tenantA", "http://h/v1/tenantA/%252e%252e/admin", None, False),  # decoded twice
    ("http://h/v1/tenantA", "http://h/v1/tenantA/..;/..;/admin", None, False),  # Tomcat's path parameters
    ("http://h/v1/tenantA", "http://h/v1/tenantA/..%5c..%5cadmin", None, False),
    ("http://h/v1/tenantA", "http://h/v1/tenantA\\..\\..\\admin", None, False),
    ("http://h/v1/tenantA", "http://h/v1/tenantA/%c0%ae%c0%ae/admin", None, False),  # overlong UTF-8
    ("http://h/v1/tenantA", "http://h/v1/tenantA/x?y=1", None, False),
    ("http://h/v1/tenantA", "http://h/v1/tenantA/x#y", None, False),
    ("http://h/v1/tenantA", "http://u:p@h/v1/tenantA", None, False),
])
def test_an_allowance_is_a_url_prefix_and_may_pin_the_key(allowed, url, key_env, admitted):
    assert Permissions((Allowance.parse(allowed),)).allows(url, key_env) is admitted


@pytest.mark.parametrize("text, why", [
    ("api.example.com", "is not an http"), ("ftp://h", "is not an http"), ("https://", "is not an http"),
    ("http://h:99999", "is not an http"), ("", "is not an http"), ("http://h/v1?x=1", "has a query"),
    ("http://u@h/v1", "has a user name"), ("http://h/v 1", "holds a space"), ("http://h/%zz", "starts no %XX"),
    ("http://ex\u00e4mple.com/v1", "neither a host name"),
])
def test_a_bad_allowance_is_an_error(text, why):
    with pytest.raises(RunError, match=why):
        Permissions.from_operator([text])


ALLOWED = "http://127.0.0.1:8000/v1/tenantA"
SEGMENTS = st.sampled_from([
    "v1", "tenantA", "admin", "", ".", "..", "...", "%2e", "%2E%2e", ".%2e", "..%2f", "%2f", "%2F..", "%5c", "..;",
    ";x", "..;x", "%252e%252e", "%25", "%", "%3b", "a%2Fb", "%7Etilde", "%41", "\u00e4", "%c0%ae", "x..", "..x",
    "\\..", "?", "#", "@", ":",
])


def _resolved_by_a_lenient_server(path: str) -> str:
    """Where a path may land on a server (or proxy) that decodes escapes again and again, takes a
    backslash for a slash, drops path parameters (`;…`), then resolves dot segments."""
    for _ in range(3):
        path = unquote(path)
    segments = [segment.split(";")[0] for segment in path.replace("\\", "/").split("/")]
    return posixpath.normpath("/".join(segments))


# 5× the profile's examples (no network: what urllib would send is read from its Request).
@settings(max_examples=examples(5), deadline=None)
@given(segments=st.lists(st.one_of(SEGMENTS, st.text(max_size=4)), max_size=6))
def test_what_is_sent_for_an_allowed_endpoint_stays_under_the_allowance(segments):
    url = ALLOWED + "/" + "/".join(segments)
    if not Permissions((Allowance.parse(ALLOWED),)).allows(url):
        return
    request = urllib.request.Request(ChatClient(url, "m", None).url)
    assert request.host == "127.0.0.1:8000"
    assert request.selector.startswith("/v1/tenantA/") and request.selector.endswith("/chat/completions")
    assert _resolved_by_a_lenient_server(request.selector).startswith("/v1/tenantA/")
    assert Permissions((Allowance.parse(ALLOWED),)).allows(request.full_url)  # what is sent passes the check too


def test_allowances_come_from_the_flag_and_the_environment():
    grants = Permissions.from_operator(["http://a"], environ={ENV_ENDPOINTS: "http://b,  http://c#K"})
    assert [a.url.host for a in grants.endpoints] == ["a", "b", "c"]
    assert Permissions.from_operator(environ={}).endpoints == ()  # nothing by default
    assert Permissions.from_operator(environ={"HF_HUB_OFFLINE": "1"}).hub_offline


# --- endpoints, end to end ----------------------------------------------------------------------

def _write_project(folder: Path, url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dsc.toml").write_text("", encoding="utf-8")
    words = "alpha bravo charlie delta echo foxtrot golf hotel".split()
    rows = [{"id": f"r{i}", "prompt": " ".join(words[(i + k) % 8] for k in range(5))} for i in range(20)]
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = folder / "aug.dspec"
    spec.write_text("dataset aug version 1 {\n  seed 3\n  locale en_US\n}\n\n"
                    'source rows {\n  files "rows.jsonl"\n  key id\n}\n\n'
                    "split by id {\n  train 1\n}\n\n"
                    f'augment train {{\n  paraphrase prompt ratio 0.5 endpoint "{url}" model "m" '
                    f"key_env {KEY_ENV}\n}}\n",
                    encoding="utf-8")
    return spec


def _run(spec: Path, out: Path, *flags: str, env: dict | None = None):
    return runner.invoke(app, ["run", str(spec), "--out", str(out), *flags],
                         env={KEY_ENV: "sk-perm", ENV_ENDPOINTS: "", **(env or {})})


def test_an_endpoint_the_operator_has_not_allowed_is_never_contacted(tmp_path):
    with ChatServer() as server:
        spec = _write_project(tmp_path / "p", server.url)
        refused = _run(spec, tmp_path / "out")
        other = _run(spec, tmp_path / "out", "--allow-endpoint", "http://127.0.0.1:1/v1")
        assert server.count == 0 and server.auth == []
    assert refused.exit_code == other.exit_code == EXIT_SPEC_ERROR
    assert f"sends rows to {server.url}, which is not allowed; if you trust it, pass --allow-endpoint " \
           f"{server.url}" in refused.output
    assert "nothing was read or sent" in refused.output
    assert not (tmp_path / "out").exists()  # stopped before anything was read or written


@pytest.mark.parametrize("how", ["flag", "environment", "pinned key"])
def test_an_allowed_endpoint_is_used(tmp_path, how):
    with ChatServer() as server:
        spec = _write_project(tmp_path / "p", server.url)
        if how == "flag":
            result = _run(spec, tmp_path / "out", "--allow-endpoint", server.url.removesuffix("/v1"))
        elif how == "environment":
            result = _run(spec, tmp_path / "out", env={ENV_ENDPOINTS: f"http://example.org {server.url}"})
        else:
            result = _run(spec, tmp_path / "out", "--allow-endpoint", f"{server.url}#{KEY_ENV}")
        assert result.exit_code == EXIT_OK, result.output
        assert server.count > 0 and set(server.auth) == {"Bearer sk-perm"}


@pytest.mark.parametrize("path, why", [
    ("/tenantA/../../admin", "a segment that starts with '..'"),
    ("/tenantA/%2e%2e/%2e%2e/admin", "an encoded '.', '/'"),
    ("/tenantA/..%2f..%2fadmin", "an encoded '.', '/'"),
])
def test_an_endpoint_that_could_step_out_of_its_allowance_is_never_contacted(tmp_path, path, why):
    with ChatServer() as server:
        spec = _write_project(tmp_path / "p", server.url + path)
        result = _run(spec, tmp_path / "out", "--allow-endpoint", server.url + "/tenantA")
        assert server.count == 0 and server.auth == []
    assert result.exit_code == EXIT_SPEC_ERROR, result.output
    assert f"would send rows to {server.url + path}, which has {why}" in " ".join(result.output.split())
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_the_request_goes_to_the_normalised_url_that_was_checked(tmp_path):
    with ChatServer() as server:
        spelt = server.url.replace("/v1", "/./%76%31/")  # http://127.0.0.1:PORT/./%76%31/
        spec = _write_project(tmp_path / "p", spelt)
        result = _run(spec, tmp_path / "out", "--allow-endpoint", server.url)
        assert result.exit_code == EXIT_OK, result.output
        assert server.count > 0 and set(server.paths) == {"/v1/chat/completions"}


def test_a_pinned_key_stops_a_spec_that_sends_another_variable(tmp_path):
    with ChatServer() as server:
        spec = _write_project(tmp_path / "p", server.url)
        spec.write_text(spec.read_text().replace(f"key_env {KEY_ENV}", "key_env HOME"), encoding="utf-8")
        result = _run(spec, tmp_path / "out", "--allow-endpoint", f"{server.url}#{KEY_ENV}")
        assert server.count == 0
    assert result.exit_code == EXIT_SPEC_ERROR
    assert f"would send HOME (key_env) to {server.url}, which is allowed only with the key in {KEY_ENV}" \
           in result.output


class _Redirect(BaseHTTPRequestHandler):
    """Answers every POST with a 307 to `target` (a second server that must never be reached)."""

    target = ""

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(307)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_a_redirect_is_not_followed(tmp_path):
    with ChatServer() as elsewhere:
        handler = type("Handler", (_Redirect,), {"target": elsewhere.url + "/chat/completions"})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/v1"
            spec = _write_project(tmp_path / "p", url)
            result = _run(spec, tmp_path / "out", "--allow-endpoint", url)
        finally:
            server.shutdown()
            server.server_close()
        assert elsewhere.count == 0 and elsewhere.auth == []  # neither the rows nor the key went on
    assert result.exit_code == EXIT_INPUT_ERROR
    assert "the endpoint redirects (HTTP 307" in result.output and "dsc follows no redirect" in result.output
    assert "sk-perm" not in result.output


# --- files --------------------------------------------------------------------------------------

def _linked_project(tmp_path: Path) -> tuple[Path, Path]:
    """A project whose data glob matches a symlink to a file outside it."""
    project, outside = tmp_path / "p", tmp_path / "outside"
    (project / "data").mkdir(parents=True)
    outside.mkdir()
    (project / "dsc.toml").write_text("", encoding="utf-8")
    (project / "data" / "a.jsonl").write_text('{"text": "inside"}\n', encoding="utf-8")
    (outside / "secret.jsonl").write_text('{"text": "outside"}\n', encoding="utf-8")
    (project / "data" / "b.jsonl").symlink_to(outside / "secret.jsonl")
    spec = project / "s.dspec"
    spec.write_text('dataset s version 1 {\n  seed 1\n}\n\nsource d {\n  files "data/*.jsonl"\n}\n', encoding="utf-8")
    return spec, outside


def test_a_data_file_linked_out_of_the_project_stops_the_run(tmp_path):
    spec, outside = _linked_project(tmp_path)
    result = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == EXIT_SPEC_ERROR
    assert f"line 5: file pattern 'data/*.jsonl' matches data/b.jsonl, which resolves to {outside / 'secret.jsonl'}, " \
           f"outside the project {spec.parent}; move it into the project, or pass --allow-outside-project" \
           in result.output.replace("\n", "")
    assert not (tmp_path / "out").exists()


def test_the_operator_may_allow_files_outside_the_project(tmp_path):
    spec, _ = _linked_project(tmp_path)
    result = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "out"), "--allow-outside-project"])
    assert result.exit_code == EXIT_OK, result.output
    assert sorted(r["text"] for r in kept_rows(tmp_path / "out")) == ["inside", "outside"]


def test_every_kind_of_file_read_is_checked(tmp_path):
    project, outside = tmp_path / "p", tmp_path / "outside"
    (project / "models").mkdir(parents=True)
    (outside / "opus-en-de").mkdir(parents=True)
    (project / "dsc.toml").write_text("", encoding="utf-8")
    (project / "rows.jsonl").write_text('{"name": "a", "c": "x"}\n', encoding="utf-8")
    for name in ("pairs.json", "ann.jsonl", "t.j2", "e.j2"):
        (outside / name).write_text("[]", encoding="utf-8")
    # written as plain files for the checks, then turned into links, as if swapped after review
    text = ('dataset s version 1 {\n  seed 1\n  locale en_US\n}\nsource d {\n  files "rows.jsonl"\n}\n'
            "schema {\n  name : string\n  c : label {x, y}\n}\n"
            'clean {\n  dedupe fuzzy on name pairs "pairs.json"\n}\n'
            'annotate c {\n  from "ann.jsonl"\n  annotators >= 1\n}\n'
            "split by name {\n  train 1\n}\n"
            'augment train {\n  paraphrase name ratio 0.5 endpoint "http://127.0.0.1:9/v1" model "m" template "t.j2"\n'
            '  backtranslate name via de ratio 0.5 using "models/opus-{src}-{tgt}"\n}\n'
            'export jsonl "{split}.jsonl" template "e.j2"\n')
    plan = compile_text(SourceFile(str(project / "s.dspec"), text)).plan
    assert plan is not None
    for name in ("pairs.json", "ann.jsonl", "t.j2", "e.j2"):
        (project / name).symlink_to(outside / name)
    (project / "models" / "opus-en-de").symlink_to(outside / "opus-en-de")
    with pytest.raises(RunError) as refused:
        enforce(plan, project, Permissions.from_operator(["http://127.0.0.1:9"], environ={}), environ={})
    lines = str(refused.value).splitlines()[1:]
    assert [line.split(", which resolves to ")[0].strip() for line in lines] == [
        "line 13: labelled-pairs file pairs.json", "line 15: annotation file ann.jsonl",
        "line 23: prompt template t.j2", "line 24: model folder models/opus-en-de", "line 26: export template e.j2"]
    assert refused.value.exit_code == EXIT_SPEC_ERROR
    enforce(plan, project, Permissions.from_operator(["http://127.0.0.1:9"], True, environ={}), environ={})


def test_a_hub_download_needs_the_hub_allowed_or_the_loader_offline(tmp_path):
    (tmp_path / "dsc.toml").write_text("", encoding="utf-8")
    text = 'dataset s version 1 {\n  seed 1\n}\nsource h {\n  hub "org/name" split train revision "abc123"\n}\n'
    plan = compile_text(SourceFile(str(tmp_path / "s.dspec"), text)).plan
    with pytest.raises(RunError, match="line 4: source h would download org/name from https://huggingface.co, "
                                       "which is not allowed; pass --allow-endpoint https://huggingface.co"):
        enforce(plan, tmp_path, Permissions(), environ={})
    with pytest.raises(RunError, match="from https://hub.internal"):
        enforce(plan, tmp_path, Permissions(), environ={"HF_ENDPOINT": "https://hub.internal"})
    enforce(plan, tmp_path, Permissions.from_operator(["https://huggingface.co"], environ={}), environ={})
    enforce(plan, tmp_path, Permissions.from_operator(environ={"HF_HUB_OFFLINE": "1"}), environ={})
    (tmp_path / "org" / "name").mkdir(parents=True)  # a local dataset folder is no download
    enforce(plan, tmp_path, Permissions(), environ={})


def test_an_export_is_never_written_through_a_link_out_of_the_output_folder(tmp_path):
    spec, _ = _linked_project(tmp_path)
    spec.write_text(spec.read_text() + 'export jsonl "sub/all.jsonl"\n', encoding="utf-8")
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "sub").symlink_to(elsewhere)
    result = runner.invoke(app, ["run", str(spec), "--out", str(out), "--allow-outside-project"])
    assert result.exit_code == EXIT_SPEC_ERROR
    assert "line 8: export path 'sub/all.jsonl' leads out of the output directory through a symbolic link" \
           in result.output.replace("\n", "")
    assert list(elsewhere.iterdir()) == [] and not (out / "manifest.json").exists()
