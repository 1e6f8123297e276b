"""Augmentation in a whole `dsc run`, against a loopback chat-completions endpoint: counts, provenance,
reruns, resuming, bad input and the API key."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pytest
from aug_support import ChatServer
from run_outputs import kept_rows
from typer.testing import CliRunner

import dsc.augment as augment_pkg
from dsc.api import compile_file
from dsc.augment import AugmentContext
from dsc.augment.endpoint import EndpointSettings
from dsc.commands import app
from dsc.engines.local import run_plan
from dsc.engines.permissions import ENV_ENDPOINTS, Permissions
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR

KEY = "sk-live-SECRET-4242"
ENV = "DSC_TEST_AUG_KEY"
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()
runner = CliRunner()


def rows(n: int = 60) -> list[dict]:
    return [{"id": f"t{i}", "prompt": " ".join(WORDS[(i + k) % len(WORDS)] for k in range(4 + i % 5)) + "?",
             "answer": f"answer {i}"} for i in range(n)]


def spec_text(url: str, template: str | None = None, key_env: str = ENV) -> str:
    tpl = f' template "{template}"' if template else ""
    return (
        "dataset aug version 1 {\n  seed 5\n  locale en_US\n}\n\n"
        'source rows {\n  files "rows.jsonl"\n  key id\n}\n\n'
        "schema {\n  id : string required\n  prompt : text required\n  answer : text\n}\n\n"
        "split by id {\n  train 0.8\n  validation 0.2\n}\n\n"
        "augment train {\n"
        f'  paraphrase prompt ratio 0.5 endpoint "{url}" model "fake" key_env {key_env}{tpl} concurrency 4\n'
        f'  backtranslate prompt via de, fr ratio 0.25 endpoint "{url}" model "fake" key_env {key_env}{tpl}\n'
        "}\n\n"
        'export jsonl "{split}.jsonl"\n'
    )


@pytest.fixture
def server():
    with ChatServer() as s:
        yield s


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    """Short timeouts and backoff for every run in these tests (the defaults wait seconds)."""
    monkeypatch.setattr(AugmentContext, "__init__", _with_fast_endpoint(AugmentContext.__init__))


def _with_fast_endpoint(init):
    def patched(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.endpoint = EndpointSettings(timeout=1.0, retries=2, backoff=0.01, max_backoff=0.02, connect_timeout=1.0)
    return patched


def project(tmp_path: Path, url: str, n: int = 60, template: str | None = None) -> Path:
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows(n)), encoding="utf-8")
    spec = tmp_path / "aug.dspec"
    spec.write_text(spec_text(url, template), encoding="utf-8")
    return spec


def declared(spec: Path) -> list[str]:
    """The operator's allowance for these tests: every endpoint the spec declares."""
    compiled = compile_file(spec)
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    return [rule.endpoint for rule in compiled.plan.augment if rule.endpoint]


def run(spec: Path, out: Path):
    return run_plan(compile_file(spec).plan, spec.parent, out, permissions=Permissions.from_operator(declared(spec)))


def outputs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".dsc-cache" not in p.parts}


def test_generated_rows_are_counted_apart_and_stay_in_their_split(tmp_path, server, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    result = run(project(tmp_path, server.url), tmp_path / "out")
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    counts = stats["counts"]
    assert counts["kept"] + counts["rejected"] == counts["input"] == 60
    assert counts["generated"] == result.augment.generated.num_rows > 0
    assert result.kept.num_rows == counts["kept"] + counts["generated"]
    para, back = stats["augment"]["rules"]
    assert (para["rule"], back["rule"]) == ("paraphrase[prompt]", "backtranslate[prompt]")
    assert back["requests"] == 2 * 2 * back["selected"]
    kept = kept_rows(tmp_path / "out")
    by_id = {r["_dsc_id"]: r for r in kept}
    generated = [r for r in kept if "+" in r["_dsc_id"]]
    assert len(generated) == counts["generated"]
    for row in generated:
        source = by_id[row["_dsc_id"].split("+")[0]]
        assert row["_dsc_split"] == source["_dsc_split"] == "train"
        assert row["answer"] == source["answer"] and row["prompt"] != source["prompt"]
    train = (tmp_path / "out" / "train.jsonl").read_text()
    assert all(json.dumps(r["prompt"]) in train for r in generated)
    assert server.auth and set(server.auth) == {f"Bearer {KEY}"}


def test_a_rerun_makes_no_call_and_writes_identical_bytes(tmp_path, server, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    spec = project(tmp_path, server.url)
    run(spec, tmp_path / "out")
    first, calls = outputs(tmp_path / "out"), server.count
    assert calls > 0
    monkeypatch.delenv(ENV)  # a finished run's rerun needs neither the key …
    server.stop()  # … nor the server
    result = run(spec, tmp_path / "out")
    assert server.count == calls
    assert all(s.calls == 0 and s.cache_hits == s.requests for s in result.augment.stats)
    assert outputs(tmp_path / "out") == first


def test_spec_bounds_rejudge_cached_generations_without_a_call(tmp_path, server, monkeypatch):
    """The guard bounds a spec sets decide which generations are kept, and the reason names the bound;
    they are not part of the cache key, so changing them judges the cached generations again."""
    from dsc.augment.guard import similarity

    monkeypatch.setenv(ENV, KEY)
    spec = project(tmp_path, server.url)
    first = run(spec, tmp_path / "out").augment
    calls = server.count
    assert calls > 0 and all(s.rejected == 0 for s in first.stats)  # the loopback rewrites pass the defaults
    # The loopback paraphrases score 0.7-0.9; back-translations are the source rotated, plus " indeed".
    text = spec.read_text(encoding="utf-8")
    text = text.replace("concurrency 4\n", "concurrency 4 max_similarity 0.8\n")
    text = text.replace('key_env DSC_TEST_AUG_KEY\n', 'key_env DSC_TEST_AUG_KEY max_length_ratio 1.2\n')
    spec.write_text(text, encoding="utf-8")
    plan = compile_file(spec).plan
    assert [r.bounds for r in plan.augment] == [{"max_similarity": Decimal("0.8")},
                                                {"max_length_ratio": Decimal("1.2")}]
    monkeypatch.delenv(ENV)  # no call, so no key needed
    again = run(spec, tmp_path / "out").augment
    assert server.count == calls
    assert all(s.calls == 0 and s.cache_hits == s.requests > 0 for s in again.stats)
    para, back = again.stats
    assert 0 < para.rejected < para.selected and para.reasons == {"too similar to the source": para.rejected}
    assert 0 < back.rejected < 2 * back.selected and back.reasons == {"too long": back.rejected}
    assert para.generated + back.generated + para.rejected + back.rejected == first.generated.num_rows
    source = {r["id"]: r["prompt"] for r in rows()}
    for row in again.rejected.to_pylist():
        generated = json.loads(row["_dsc_row"])["generated"]
        if row["_dsc_rule"] == "paraphrase[prompt]":
            assert similarity(source[row["_dsc_src"]], generated) > 0.8
            assert row["_dsc_reason"].endswith(", above max_similarity 0.8")
        else:
            assert row["_dsc_reason"].endswith("times the source's length, above max_length_ratio 1.2")
    for row in again.generated.to_pylist():
        if row["_dsc_aug_rule"] == "paraphrase[prompt]":
            assert similarity(source[row["_dsc_aug_source"]], row["prompt"]) <= 0.8


class Killed(BaseException):
    """Stands for the process being killed: not an Exception, so nothing on the way catches it."""


def test_a_run_killed_mid_way_resumes_where_it_stopped(tmp_path, server, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    spec = project(tmp_path, server.url)
    whole = run(spec, tmp_path / "whole")
    total = sum(s.calls for s in whole.augment.stats)
    reference = outputs(tmp_path / "whole")

    real = augment_pkg.GenerationCache.put
    stored = []

    def put_then_die(self, key, text):
        real(self, key, text)
        stored.append(key)
        if len(stored) == 7:
            raise Killed()

    monkeypatch.setattr(augment_pkg.GenerationCache, "put", put_then_die)
    with pytest.raises(Killed):
        run(spec, tmp_path / "resumed")
    monkeypatch.setattr(augment_pkg.GenerationCache, "put", real)
    cache = tmp_path / "resumed" / ".dsc-cache" / "augment" / "generations.jsonl"
    with open(cache, "ab") as fh:
        fh.write(b'{"k": "half a line written when the kill came')  # a write cut short
    resumed = run(spec, tmp_path / "resumed")
    assert sum(s.calls for s in resumed.augment.stats) == total - 7
    assert outputs(tmp_path / "resumed") == reference


def test_the_key_is_in_no_output_file_and_no_error(tmp_path, server, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    spec = project(tmp_path, server.url)
    server.plan.extend(["echo-key", 400, "echo-key"])
    run(spec, tmp_path / "out")
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    server.plan.append(401)
    result = cli(spec, tmp_path / "other", {ENV: KEY})
    assert result.exit_code == EXIT_INPUT_ERROR
    assert "refused the API key" in result.output and KEY not in result.output


def paraphrase_prompt(text: str) -> str:
    from dsc.augment.prompts import load_template

    return load_template(None, Path(".")).render({"task": "paraphrase", "text": text})


def paraphrase_rejects(outcome) -> dict[str, str]:
    return {r["_dsc_src"]: r["_dsc_reason"] for r in outcome.rejected.to_pylist() if r["_dsc_rule"] == "paraphrase[prompt]"}


def test_failed_requests_become_rejected_generations_never_lost_rows(tmp_path, server, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    spec = project(tmp_path, server.url)
    probe = run(spec, tmp_path / "probe").augment  # which rows the paraphrase rule picks, and their fate
    before = paraphrase_rejects(probe)
    picked = list(before) + probe.generated.filter(pc.equal(probe.generated.column("_dsc_aug_rule"),
                                                            "paraphrase[prompt]")).column("_dsc_aug_source").to_pylist()
    text = {r["id"]: r["prompt"] for r in rows()}
    a, b, c = sorted(picked)[:3]
    server.script(paraphrase_prompt(text[a]), 500, 500, 500)  # more than the retries
    server.script(paraphrase_prompt(text[b]), "malformed")
    server.script(paraphrase_prompt(text[c]), 429, "timeout")  # retried, then answered
    result = run(spec, tmp_path / "out").augment
    rejected = paraphrase_rejects(result)
    assert rejected[a] == "HTTP 500, after 3 tries"
    assert rejected[b].startswith("malformed response: not JSON")
    assert rejected.get(c) == before.get(c)  # retried until answered: as if nothing had failed
    for s in result.stats:
        assert s.generated + s.rejected == s.selected * (1 if s.method == "paraphrase" else 2)
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())["augment"]["rules"][0]
    assert {"reason": "HTTP 500, after 3 tries", "rows": 1} in stats["reasons"]


def cli(spec: Path, out: Path, env: dict):
    allowed = {ENV_ENDPOINTS: " ".join(declared(spec))}
    result = runner.invoke(app, ["run", str(spec), "--out", str(out)], env={**env, **allowed})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_an_endpoint_that_is_down_stops_the_run_before_any_generation(tmp_path):
    with ChatServer() as gone:
        url = gone.url
    spec = project(tmp_path, url)
    result = cli(spec, tmp_path / "out", {ENV: KEY})
    assert result.exit_code == EXIT_INPUT_ERROR
    assert f"the endpoint {url} is unreachable" in result.output and "nothing was generated" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out" / "manifest.json").exists()


def test_a_missing_key_stops_the_run_before_any_request(tmp_path, server):
    result = cli(project(tmp_path, server.url), tmp_path / "out", {ENV: ""})
    assert result.exit_code == EXIT_INPUT_ERROR
    assert f"the environment variable {ENV} (key_env) is not set" in result.output
    assert server.count == 0


@pytest.mark.parametrize("template, message", [
    ("{{ text ", "bad.j2:1: unexpected end of template"),
    ("{{ text }} {{ api_key }}", "bad.j2 uses api_key, which a prompt template is not given"),
    ("{{ text.__class__.__mro__ }}", "the sandbox refused an operation"),
    ("{{ row.missing_column }}", "fails on row"),
])
def test_template_errors_stop_the_run_before_any_request(tmp_path, server, template, message):
    (tmp_path / "bad.j2").write_text(template, encoding="utf-8")
    result = cli(project(tmp_path, server.url, template="bad.j2"), tmp_path / "out", {ENV: KEY})
    assert result.exit_code == EXIT_SPEC_ERROR, result.output
    assert message in result.output and "Traceback" not in result.output
    assert server.count == 0


def test_a_template_sees_the_row_and_its_hash_is_the_provenance(tmp_path, server, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    (tmp_path / "t.j2").write_text("{{ task }} {{ step }} to {{ target_name or 'same' }} for {{ row.id }}\n\n"
                                   "{{ text }}", encoding="utf-8")
    result = run(project(tmp_path, server.url, template="t.j2"), tmp_path / "out")
    prompts = [b["messages"][0]["content"] for b in server.bodies]
    assert any(p.startswith("paraphrase paraphrase to same for t") for p in prompts)
    assert any(p.startswith("translate forward to German for t") for p in prompts)
    assert any(p.startswith("translate back to English for t") for p in prompts)
    hashes = set(result.augment.generated.column("_dsc_aug_template").to_pylist())
    import hashlib
    assert hashes == {"sha256:" + hashlib.sha256((tmp_path / "t.j2").read_bytes()).hexdigest()}


def test_cli_run_succeeds_and_explain_states_the_volume(tmp_path, server):
    spec = project(tmp_path, server.url)
    result = cli(spec, tmp_path / "out", {ENV: KEY})
    assert result.exit_code == EXIT_OK, result.output
    explained = runner.invoke(app, ["explain", str(spec)]).output
    assert "for N input rows: ≈ 0.4 × N selected (train 80% × 50%), up to 0.4 × N generated rows" in explained
    assert "0.2 × N selected (train 80% × 25%), up to 0.4 × N generated rows from 0.8 × N calls" in explained
