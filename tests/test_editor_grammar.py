"""The editor grammar (editors/dspec.tmLanguage.json) highlights what the language defines.

A small TextMate tokenizer (the subset the grammar uses: `match` with `captures`, `begin`/`end`
with inner patterns, `include` of the repository; at each position the earliest match wins, ties
going to the first pattern and to `end`) runs every pattern with Python's `re`, so every pattern
must also be a Python regex. Over every spec in specs/ and every spec example of docs/language.md
that parses, each token the dsc parser reads is compared with the scope the grammar gives it:
a keyword must get a keyword scope (a type `storage.type`), a string, number, comparison or arrow
its own, a comment the comment scope, and no name may be taken for a block or rule keyword. The
clean-rule keywords are read from the operator registry, the types from the checks, and every
word of dsc/grammar/dspec.lark must be highlighted somewhere, so a new keyword the grammar lacks
fails here.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from lark import Lark, Token

from dsc.checks.common import COLUMN_TYPES
from dsc.lsp.features import grammar_words, mask
from dsc.ops import OPERATORS
from dsc.syntax.parser import BLOCK_KEYWORDS

ROOT = Path(__file__).resolve().parents[1]
GRAMMAR = ROOT / "editors" / "dspec.tmLanguage.json"
SPECS = sorted((ROOT / "specs").glob("*.dspec"))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


# ── a TextMate tokenizer for the subset the grammar uses ────────────────────────────────
class Tokenizer:
    def __init__(self, grammar: dict):
        self.grammar = grammar
        self.regexes: dict[str, re.Pattern] = {}

    def regex(self, pattern: str) -> re.Pattern:
        if pattern not in self.regexes:
            self.regexes[pattern] = re.compile(pattern)
        return self.regexes[pattern]

    def expand(self, patterns: list[dict]) -> list[dict]:
        out = []
        for p in patterns:
            if "include" in p:
                name = p["include"]
                target = self.grammar if name == "$self" else self.grammar["repository"][name.lstrip("#")]
                out += self.expand(target["patterns"]) if "match" not in target and "begin" not in target \
                    else [target]
            elif "match" in p or "begin" in p:
                out.append(p)
            else:
                out += self.expand(p["patterns"])
        return out

    def lines(self, text: str) -> list[list[tuple[str, ...]]]:
        """The scopes of every character of every line (`\\n`-separated)."""
        stack: list[dict] = []  # open begin/end rules
        out = []
        for line in text.split("\n"):
            scopes: list[tuple[str, ...]] = [()] * len(line)
            pos = 0
            while pos <= len(line):
                rule = stack[-1] if stack else None
                base = tuple(r["name"] for r in stack if "name" in r)
                candidates = self.expand(rule.get("patterns", []) if rule else self.grammar["patterns"])
                best = None
                if rule:
                    m = self.regex(rule["end"]).search(line, pos)
                    if m:
                        best = (m.start(), 0, "end", rule, m)
                for i, p in enumerate(candidates, start=1):
                    m = self.regex(p.get("match") or p["begin"]).search(line, pos)
                    if m and (best is None or m.start() < best[0]):
                        best = (m.start(), i, "begin" if "begin" in p else "match", p, m)
                if best is None:
                    break
                _, _, kind, p, m = best
                if kind == "end":
                    self._paint(scopes, m, base, None, p.get("endCaptures", {}))
                    stack.pop()
                elif kind == "begin":
                    inner = base + ((p["name"],) if "name" in p else ())
                    self._paint(scopes, m, base, p.get("name"), p.get("beginCaptures", {}))
                    stack.append(p)
                    for i in range(m.end(), len(line)):  # the rest of the line is inside until `end`
                        scopes[i] = inner
                else:
                    self._paint(scopes, m, base, p.get("name"), p.get("captures", {}))
                if m.end() == m.start() and kind != "end" and kind != "begin":
                    pos = m.end() + 1
                else:
                    pos = m.end() if m.end() > pos or kind in ("end", "begin") else pos + 1
                if kind == "end" and m.end() == m.start() and pos >= len(line):
                    break
            out.append(scopes)
        return out

    @staticmethod
    def _paint(scopes, m, base, name, captures) -> None:
        whole = base + ((name,) if name else ())
        for i in range(m.start(), m.end()):
            scopes[i] = whole
        for group, capture in captures.items():
            g = int(group)
            if m.group(g) is not None and "name" in capture:
                for i in range(m.start(g), m.end(g)):
                    scopes[i] = whole + (capture["name"],)


@cache
def grammar() -> dict:
    return json.loads(GRAMMAR.read_text(encoding="utf-8"))


@cache
def tokenizer() -> Tokenizer:
    return Tokenizer(grammar())


def scopes_of(line: str) -> list[tuple[str, ...]]:
    return tokenizer().lines(line)[0]


def _all_regexes(node) -> list[str]:
    if isinstance(node, dict):
        found = [node[k] for k in ("match", "begin", "end") if k in node]
        return found + [r for v in node.values() for r in _all_regexes(v)]
    if isinstance(node, list):
        return [r for v in node for r in _all_regexes(v)]
    return []


# ── the dsc parser's tokens ─────────────────────────────────────────────────────────────
@cache
def token_parser() -> Lark:
    text = (ROOT / "dsc" / "grammar" / "dspec.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", keep_all_tokens=True, propagate_positions=True, maybe_placeholders=True)


def tokens(text: str) -> list[Token]:
    tree = token_parser().parse(text if text.endswith("\n") else text + "\n")
    return sorted(tree.scan_values(lambda v: isinstance(v, Token)), key=lambda t: t.start_pos)


def _doc_examples() -> list[tuple[str, str]]:
    out = []
    for path in [ROOT / "docs" / "language.md"]:
        text = path.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            lang, body = m.groups()
            words = body.split(None, 1)
            if lang in ("", "dspec") and words and words[0] in BLOCK_KEYWORDS:
                try:
                    tokens(body)
                except Exception:  # noqa: BLE001 — an example that does not parse is test_docs_examples' to report
                    continue
                out.append((f"docs/language.md:{text.count(chr(10), 0, m.start()) + 2}", body))
    return out


CORPUS = [(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8")) for p in SPECS] + _doc_examples()


def _is_keyword(tok: Token) -> bool:
    return tok.type != "NAME" and re.fullmatch(r"[a-z_]+", str(tok)) is not None


def problems(text: str) -> list[str]:
    """Where the grammar's scopes disagree with the dsc parser's tokens (and comments)."""
    lines = text.split("\n")
    painted = tokenizer().lines(text)
    out = []

    def scope(tok: Token) -> set[tuple[str, ...]]:
        row = painted[tok.line - 1]
        return {row[c] for c in range(tok.column - 1, tok.end_column - 1)} if tok.end_line == tok.line else set()

    def where(tok: Token) -> str:
        return f"{tok.line}:{tok.column} {str(tok)!r} ({tok.type}) in {lines[tok.line - 1].strip()!r}"

    want = {"STRING": "string.quoted.double.dspec", "CMP": "keyword.operator.comparison.dspec",
            "ARROW": "keyword.operator.arrow.dspec"}
    for tok in tokens(text):
        found = scope(tok)
        innermost = {s[-1] if s else "" for s in found}
        if _is_keyword(tok):
            if not all(s.startswith(("keyword.", "storage.type.")) for s in innermost):
                out.append(f"keyword not highlighted: {where(tok)} -> {sorted(innermost)}")
        elif tok.type in want:
            if not all(want[tok.type] in s for s in found):
                out.append(f"{tok.type} not highlighted: {where(tok)} -> {sorted(innermost)}")
        elif tok.type in ("NUMBER", "PERCENT"):
            if not all(any(x.startswith("constant.numeric") for x in s) for s in found):
                out.append(f"number not highlighted: {where(tok)} -> {sorted(innermost)}")
        elif tok.type == "NAME":
            if any(s.startswith("keyword.control") for s in innermost):
                out.append(f"a name highlighted as a block or rule keyword: {where(tok)}")
    for n, line in enumerate(lines):
        start = _comment_start(line)
        if start is not None:
            if not all("comment.line.number-sign.dspec" in painted[n][c] for c in range(start, len(line))):
                out.append(f"comment not highlighted at {n + 1}:{start + 1}: {line!r}")
    return out


def _comment_start(line: str) -> int | None:
    """Where a line's comment starts (a `#` outside a string), or None."""
    code, inside = mask(line)
    if inside != "comment":
        return None
    head = len(code.rstrip())  # the comment is blanked: the `#` is the first `#` after the code
    return line.index("#", head)


# ── the tests ───────────────────────────────────────────────────────────────────────────
def test_every_pattern_is_a_python_regex_too():
    patterns = _all_regexes(grammar())
    assert len(patterns) > 15
    for pattern in patterns:
        re.compile(pattern)


def test_the_vscode_extension_ships_the_same_grammar():
    copy = ROOT / "editors" / "vscode" / "syntaxes" / "dspec.tmLanguage.json"
    assert copy.read_bytes() == GRAMMAR.read_bytes(), "copy editors/dspec.tmLanguage.json into editors/vscode/syntaxes/"


def test_the_corpus_is_the_specs_and_the_docs_examples():
    assert len(SPECS) >= 5 and len(CORPUS) >= len(SPECS) + 8


@pytest.mark.parametrize("where, text", CORPUS, ids=[w for w, _ in CORPUS])
def test_every_token_of_a_spec_is_highlighted_as_what_it_is(where, text):
    assert problems(text) == []


@pytest.mark.parametrize("keyword", sorted(op.keyword for op in OPERATORS.values()))
def test_every_clean_rule_keyword_of_the_registry_is_a_rule_keyword(keyword):
    line = f"  {keyword} prompt"
    painted = scopes_of(line)
    for m in re.finditer(r"\S+", keyword):
        assert all("keyword.control.rule.dspec" in painted[2 + i] for i in range(m.start(), m.end())), keyword


def test_the_grammar_names_no_rule_the_registry_lacks():
    rule = grammar()["repository"]["rule"]["match"]
    listed = set(re.search(r"\(([a-z_|]+)\)", rule).group(1).split("|"))
    assert listed == {op.keyword.split()[0] for op in OPERATORS.values()}
    modes = re.search(r"\(dedupe\)\\s\+\(([a-z_|]+)\)", grammar()["repository"]["dedupe"]["match"]).group(1)
    assert set(modes.split("|")) == {k.split()[1] for k in (op.keyword for op in OPERATORS.values())
                                     if k.startswith("dedupe ")}


def test_block_keywords_and_column_types():
    for block in BLOCK_KEYWORDS:
        assert "keyword.control.block.dspec" in scopes_of(f"{block} x {{")[0], block
    for kind in COLUMN_TYPES:
        painted = scopes_of(f"  col : {kind}")
        assert "storage.type.dspec" in painted[len("  col : ")], kind
    assert "entity.name.section.dspec" in scopes_of("source tickets {")[len("source ")]


@pytest.mark.parametrize("word", sorted(grammar_words()))
def test_every_word_of_the_dsc_grammar_is_highlighted(word):
    """Wherever it is written: at the top level (a block), starting a statement, inside one, as a
    dedupe mode or as a column type."""
    contexts = ((f"{word} x {{", 0), (f"  {word} x", 2), (f"  x {word} y", 4), (f"  dedupe {word} on x", 9),
                (f"  x : {word}", 6))
    assert any(scopes_of(line)[at][-1:] and scopes_of(line)[at][-1].startswith(("keyword.", "storage.type."))
               for line, at in contexts), word


def test_strings_escapes_numbers_and_operators():
    line = r'  replace prompt " +([.,!?])\"" with "\\1"  # keep {split} 20% 0.5 -> >= ..'
    painted = scopes_of(line)
    at = lambda s, n=0: painted[line.index(s) + n]  # noqa: E731
    assert "constant.character.escape.dspec" in at(r"\"")
    assert "keyword.other.dspec" in at("with")
    assert "constant.character.escape.dspec" in at(r"\\1")
    assert all("comment.line.number-sign.dspec" in at("# keep", i) for i in range(len("# keep {split} 20%")))
    code = '  years 1950..2049  x 20 %  y -0.5e-3 {split} "{split}/x" a->b'
    painted = scopes_of(code)
    assert "constant.numeric.dspec" in painted[code.index("1950")]
    assert "keyword.operator.range.dspec" in painted[code.index("..")]
    assert "constant.numeric.percentage.dspec" in painted[code.index("%")]
    assert "constant.numeric.dspec" in painted[code.index("-0.5e-3") + 6]
    assert "constant.other.placeholder.dspec" in painted[code.index('"{split}') + 1]
    assert painted[code.index(" {split}") + 1] == ("punctuation.section.braces.dspec",)  # outside a string
    assert "keyword.operator.arrow.dspec" in painted[code.index("->")]
    assert "string.quoted.double.dspec" in scopes_of('  tasks "open')[-1]  # unclosed: to the end of the line
    assert tokenizer().lines('  tasks "open\n  seed 1')[1][2][-1] == "keyword.other.statement.dspec"


def test_the_tokenizer_sees_what_a_bad_grammar_gets_wrong():
    """The comparison is a real one: a grammar without the `drop` rule keyword fails it."""
    broken = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    broken["repository"]["rule"]["match"] = broken["repository"]["rule"]["match"].replace("drop|", "")
    text = (ROOT / "specs" / "common_gen.dspec").read_text(encoding="utf-8")
    if "drop where" not in text:
        text += "\nclean {\n  drop where empty(prompt)\n}\n"
    real = Tokenizer(broken).lines(text)
    assert real != tokenizer().lines(text)
    missed = [n for n, line in enumerate(text.split("\n")) if line.strip().startswith("drop ")]
    assert missed and all("keyword.control.rule.dspec" not in real[n][line.index("drop")]
                          for n, line in ((n, text.split("\n")[n]) for n in missed))


def test_the_vscode_extension_is_complete():
    folder = ROOT / "editors" / "vscode"
    package = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    (language,) = package["contributes"]["languages"]
    (highlighting,) = package["contributes"]["grammars"]
    assert language["extensions"] == [".dspec"] and highlighting["language"] == language["id"]
    assert highlighting["scopeName"] == grammar()["scopeName"]
    assert (folder / highlighting["path"]).resolve() == (folder / "syntaxes" / "dspec.tmLanguage.json").resolve()
    json.loads((folder / language["configuration"]).read_text(encoding="utf-8"))
    main = folder / package["main"]
    script = main.read_text(encoding="utf-8")
    assert "vscode-languageclient/node" in script and "vscode-languageclient" in package["dependencies"]
    assert package["contributes"]["configuration"]["properties"]["dsc.server.args"]["default"] == ["lsp"]
    declared = {c["command"] for c in package["contributes"].get("commands", [])}
    assert set(re.findall(r"registerCommand\('([^']+)'", script)) == declared
    node = shutil.which("node")
    if node:  # the script at least parses (no build step turns it into something else)
        assert subprocess.run([node, "--check", str(main)], capture_output=True).returncode == 0
