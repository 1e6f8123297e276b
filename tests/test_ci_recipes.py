"""The CI recipes the repository ships: `.pre-commit-hooks.yaml` and examples/ci/dsc-review.yml parse,
and every `dsc` command line in them is one the installed command line accepts (its subcommand
exists, and so does each option, with a value where it takes one)."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
import yaml

from dsc.commands import app

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / ".pre-commit-hooks.yaml"
WORKFLOW = ROOT / "examples" / "ci" / "dsc-review.yml"
CLI = typer.main.get_command(app)
_OPERATOR = re.compile(r"^[;&|<>()]+$")


def invocation(line: str) -> list[str] | None:
    """The arguments after `dsc` in one shell line (up to a redirection, pipe or `;`), or None when
    the line runs no dsc; a line that hands dsc its files through xargs gets a stand-in file."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    if "dsc" not in tokens:
        return None
    start = tokens.index("dsc")
    args = []
    for i, token in enumerate(tokens[start + 1:], start + 1):
        if _OPERATOR.match(token):
            break
        if token.isdigit() and i + 1 < len(tokens) and tokens[i + 1].startswith(">"):
            break  # 2> …
        args.append(token)
    if "xargs" in tokens[:start]:
        args.append("SPEC.dspec")
    return args


def accepts(args: list[str]) -> None:
    """Parse `dsc ARGS` as the command line would, without running it (click's own errors else)."""
    command, name = CLI, "dsc"
    while hasattr(command, "commands"):  # a group (typer brings a click of its own: no isinstance)
        assert args and args[0] in command.commands, f"{name} has no subcommand {args[:1]}"
        name += " " + args[0]
        command, args = command.commands[args[0]], args[1:]
    command.make_context(name, list(args))


def shell_lines(script: str) -> list[str]:
    """A script's lines, continuations joined, heredoc bodies left out."""
    lines, heredoc = [], None
    for line in script.replace("\\\n", " ").splitlines():
        if heredoc is not None:
            heredoc = None if line.strip() == heredoc else heredoc
            continue
        found = re.search(r"<<-?\s*'?\"?(\w+)", line)
        heredoc = found.group(1) if found else None
        lines.append(line)
    return lines


def test_the_pre_commit_hooks():
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["dsc-fmt", "dsc-check"]
    for hook in hooks:
        assert {"id", "name", "entry", "language", "files"} <= set(hook)
        assert hook["language"] == "python"  # pre-commit installs this repository's package, which provides `dsc`
        assert re.search(hook["files"], "specs/code_alpaca.dspec") and not re.search(hook["files"], "a.dspec.bak")
        args = invocation(hook["entry"])
        accepts([*args, "specs/code_alpaca.dspec", "specs/common_gen.dspec"])  # pre-commit appends the files
    assert [invocation(h["entry"]) for h in hooks] == [["fmt", "--check"], ["check"]]


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps() -> list[dict]:
    return [step for job in workflow()["jobs"].values() for step in job["steps"]]


def test_the_workflow_parses_as_a_pull_request_workflow():
    flow = workflow()
    on = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in on and "pull_request_target" not in on
    assert flow["permissions"] == {"contents": "read", "pull-requests": "write"}
    for step in steps():
        assert ("run" in step) != ("uses" in step), step
    checkout = next(s for s in steps() if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # --base needs the base branch's history


def test_no_expression_is_pasted_into_a_script():
    """`${{ … }}` in a `run:` script is script injection waiting to happen: values come in by env."""
    assert [s.get("name") for s in steps() if "${{" in s.get("run", "")] == []


def _dsc_lines() -> list[str]:
    return [line for step in steps() for line in shell_lines(step.get("run", "")) if invocation(line) is not None]


def test_the_workflow_runs_what_the_issue_asks():
    used = [" ".join(invocation(line)[:1]) for line in _dsc_lines()]
    assert {"version", "fmt", "check", "compile", "diff"} <= set(used)
    text = "\n".join(_dsc_lines())
    assert "dsc check --format github" in text and "dsc fmt --check" in text
    assert '--base "origin/$BASE_REF"' in text and "--data --format markdown" in text


@pytest.mark.parametrize("line", _dsc_lines(), ids=lambda line: " ".join(invocation(line)[:2]))
def test_every_dsc_line_in_the_workflow_is_a_valid_invocation(line: str):
    args = invocation(line)
    diff = CLI.commands["diff"]
    if args[0] == "diff" and "--base" not in {o for p in diff.params for o in p.opts}:
        pytest.xfail("dsc diff --base/--data/--format are being built (issue 19)")
    accepts(args)


def test_a_wrong_option_is_caught():
    with pytest.raises(Exception, match="No such option: --formt"):
        accepts(["check", "--formt", "github", "a.dspec"])
    with pytest.raises(Exception, match="requires an argument"):
        accepts(["check", "a.dspec", "--format"])
    with pytest.raises(Exception, match="Missing parameter: specs"):
        accepts(["fmt", "--check"])
    with pytest.raises(AssertionError):
        accepts(["chek", "a.dspec"])
    assert invocation('if dsc diff --base "origin/$B" "$spec" > "$out" 2> "$out.err"; then') == \
        ["diff", "--base", "origin/$B", "$spec"]
