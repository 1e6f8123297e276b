"""The report of a run treats what stats.json holds as hostile.

- `report.md` is pasted as a pull-request comment: whatever text the data puts in any field
  (row ids, column and split names, values, reasons, labels, file names, the dataset's name…)
  renders as that text. Parsed with markdown-it-py (CommonMark + GFM tables and strikethrough),
  the report of hostile data has the same block and inline structure as the report of benign
  data: no heading, image, link, HTML, emphasis, code, list or table cell of its own; and its
  text holds no @mention, issue reference, URL or `www.` autolink, and no unescaped `$` (math).
- `dsc report DIR` over a damaged `stats.json` (not UTF-8, not JSON, nested too deeply, keys
  missing, wrong types) exits 4 with a message naming the file and what is wrong: never a
  traceback. A hypothesis test damages the fixture's stats at random places and checks that
  each either renders or is refused with that message.

Examples per property: `DSC_FUZZ_EXAMPLES` (default 40; `make fuzz` runs more).
"""
from __future__ import annotations

import copy
import itertools
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from dsc.commands import app
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK
from dsc.report import StatsError, read_stats, render_report
from rel_support import fuzz_settings

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "report" / "stats.json"
FUZZ = fuzz_settings()

# Fields whose words pick what dsc writes around them (icons, units), not data shown as text.
CHOICES = {"severity", "unit", "op"}
# Objects whose keys are data: annotated fields, decisions, resolution methods, a row's columns.
DATA_KEYED = {"annotations", "decisions", "by", "row", "example"}
# Pieces of hostile text: Markdown, GFM, HTML and GitHub syntax, and line breaks of every kind.
HOSTILE = [
    "\n## ✅ all gates passed\n", "![x](https://evil.example/p.png)", "[click](https://evil.example)",
    "<img src=x onerror=alert(1)>", "<details open>", "</details>", "<!-- ", "-->", "&lt;b&gt;", "&#64;x",
    "@octocat", "cc @org/team", "user@example.com", "#1", "GH-12", "owner/repo#12", "https://evil.example",
    "HTTP://X.Y", "www.evil.example", "mailto:a@b.c", "<https://evil.example>", "| a | b |", "\r\n|---|\n",
    "`", "```", "~~~", "~x~", "*x*", "_x_", "**x**", "# ", "> ", "- ", "+ ", "1. ", "2) ", "1", "===", "---",
    "***", "    code", ":octocat:", "12:30:00", "\\", "\\|", "$x$", "$$", "[^1]", "[x]: https://evil.example",
    "\u2028", "\x0b", "\x85", "\u00a0", "\x00", "\t", "\r", "\n\n",
]
_data_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=6)), min_size=1, max_size=5) \
    .map("".join).filter(lambda s: s.split())  # empty values drop whole parts of the report
# Text that GitHub would turn into a link, a mention, an issue reference or an emoji once rendered.
LIVE = re.compile(r"@[\w-]|#\d|\bgh-\d|(?:https?|ftp)://|www\.|:[\w+-]+:", re.IGNORECASE)


def fixture_stats() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def inject(stats: dict, texts: list[str]) -> dict:
    """The stats with every string replaced by the next of `texts`, in turn: values, and the keys
    of objects keyed by data (annotated fields, decisions, resolution methods, a row's columns);
    not the few words that choose dsc's own output. Split names stay the keys of the split ×
    label table."""
    turn = itertools.count()

    def text() -> str:
        return texts[next(turn) % len(texts)]

    def walk(value, key=None, data=False):
        if isinstance(value, dict):
            keyed, inner = data or key in DATA_KEYED, data or key in ("row", "example")
            return {(text() if keyed else k): walk(v, k, inner) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key, data) for v in value]
        return text() if isinstance(value, str) and key not in CHOICES else value

    hostile = walk(stats)
    names = [p["name"] for p in hostile["splits"]["parts"]]
    for label in hostile["splits"]["strata"]["labels"]:
        label["splits"] = dict(zip(names, label["splits"].values()))
    return hostile


class _Html(HTMLParser):
    """The tags of an HTML block, and its text outside code (where GitHub links and mentions)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self.code = [], [], 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(attrs)))
        self.code += tag == "code"

    def handle_endtag(self, tag):
        self.tags.append(("/" + tag, ()))
        self.code -= tag == "code"

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag + "/", tuple(attrs)))

    def handle_comment(self, data):
        self.tags.append(("!--", ()))

    def handle_data(self, data):
        if not self.code:
            self.text.append(data)


def _html(content: str) -> _Html:
    parsed = _Html()
    parsed.feed(content)
    parsed.close()
    return parsed


def structure(markdown: str) -> tuple[list, list[str], str]:
    """The report as markdown-it-py reads it: every token but text, with the tags of its HTML;
    its text as it renders, run by run (a run ends at any other token, as a text node does);
    and its unescaped text (`text_join` off keeps escaped characters apart)."""
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"]).disable("text_join")
    kinds, runs, unescaped = [], [""], []
    for token in parser.parse(markdown):
        for t in [token, *(token.children or [])]:
            if t.type in ("text", "text_special"):
                runs[-1] += t.content
                unescaped += [t.content] if t.type == "text" else []
                continue
            runs.append("")
            if t.type in ("html_block", "html_inline"):
                parsed = _html(t.content)
                kinds.append((t.type, parsed.tags))
                runs += parsed.text
            elif t.type != "inline":
                kinds.append((t.type, t.tag, t.nesting))
    return kinds, runs, "".join(unescaped)


BENIGN = structure(render_report(fixture_stats())[0])[0]


@FUZZ
@given(st.lists(_data_text, min_size=1, max_size=7))
@example(["\n## ✅ all gates passed\n"])
@example(["![x](https://evil.example/p.png)", "[click](https://evil.example)", "<b>bold</b>", "@octocat"])
@example(["`x` | y", "1", "a\nb", "-", "#12"])
@example([":white_check_mark:", "_x_GH-12", "@a_b", "x_www.evil.example"])
def test_data_in_any_field_renders_as_inert_markdown(texts):
    markdown = render_report(inject(fixture_stats(), texts))[0]
    kinds, runs, unescaped = structure(markdown)
    assert kinds == BENIGN
    live = [m.group() for text in runs for m in LIVE.finditer(text)]
    assert live == [], live
    assert "$" not in unescaped  # GitHub's math (`$…$`, `$$`)


def test_the_injection_reaches_every_field_it_should():
    """The property above is only as good as `inject`: the marker text lands in every section."""
    markdown = render_report(inject(fixture_stats(), ["MARK"]))[0]
    for heading in markdown.split("\n### ")[1:]:
        assert "MARK" in heading, heading.splitlines()[0]
    assert markdown.startswith("## MARK vMARK")
    # row ids, split, column and label names, rules, reasons, annotators, notes: the fixture's words are gone
    for word in ("00000000000000a2", "validation", "billing", "ticket_id", "dedupe_exact", "exact duplicate",
                 "Expecting", "tickets", "ann1", "domain_expert", "krippendorff", "gpt2", "overfitting"):
        assert word not in markdown, word


def _bad_files() -> dict[str, tuple[bytes, str]]:
    stats = fixture_stats()
    no_counts = {k: v for k, v in stats.items() if k != "counts"}
    texty = copy.deepcopy(stats)
    texty["gates"][1]["measured"] = "733 rows"
    split_missing = copy.deepcopy(stats)
    del split_missing["splits"]["strata"]["labels"][0]["splits"]["validation"]
    extra_row = copy.deepcopy(stats)
    extra_row["annotations"]["category"]["label_pairs"]["matrix"].append([1, 2])
    return {
        "not UTF-8": (b'{"dataset": "\xff"}', "not UTF-8 text (byte 13)"),
        "not JSON": (b'{"dataset": ', "not JSON (Expecting value, line 1 column 13)"),
        "empty": (b"", "not JSON (Expecting value, line 1 column 1)"),
        "deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        "huge number": (b'{"x": ' + b"9" * 5000 + b"}", "not JSON ("),
        "a list": (b"[]", "not the stats of a dsc run: an object expected, found a list of 0 items"),
        "deep field": (b'{"dataset": ' + b"[" * 900 + b"]" * 900 + b"}",
                       "not the stats of a dsc run: dataset: an object expected, found a list of 1 item"),
        "missing key": (json.dumps(no_counts).encode(), "not the stats of a dsc run: counts: missing"),
        "wrong type": (json.dumps(texty).encode(),
                       'not the stats of a dsc run: gates[1].measured: a number expected, found "733 rows"'),
        "missing split": (json.dumps(split_missing).encode(),
                          'splits.strata.labels[0].splits: no count for the split "validation"'),
        "extra matrix row": (json.dumps(extra_row).encode(),
                             "annotations.category.label_pairs.matrix: 3 rows for 2 labels"),
        "lone surrogate": (b'{"dataset": {"name": "\\ud800"}}', "a string holds a lone surrogate"),
    }


@pytest.mark.parametrize("case", ["not UTF-8", "not JSON", "empty", "deep", "huge number", "a list",
                                  "deep field", "missing key", "wrong type", "missing split", "extra matrix row",
                                  "lone surrogate"])
def test_dsc_report_refuses_a_damaged_stats_file_with_exit_4(tmp_path, case):
    content, words = _bad_files()[case]
    (tmp_path / "stats.json").write_bytes(content)
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == EXIT_INPUT_ERROR, (result.output, result.exception)
    assert result.stderr.startswith(f"{tmp_path / 'stats.json'}: ") and words in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.output
    assert not (tmp_path / "report.md").exists()


def test_dsc_report_still_renders_a_good_stats_file(tmp_path):
    (tmp_path / "stats.json").write_bytes(FIXTURE.read_bytes())
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == EXIT_OK, result.output
    assert (tmp_path / "report.md").read_text(encoding="utf-8") == render_report(fixture_stats())[0]


def test_a_deeply_nested_row_still_renders(tmp_path):
    stats = fixture_stats()
    stats["examples"][0]["rows"][0]["row"] = json.loads("[" * 500 + "]" * 500)
    (tmp_path / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == EXIT_OK, result.output
    assert "[" * 500 in (tmp_path / "report.html").read_text(encoding="utf-8")


_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2 ** 63),
                          st.floats(), st.text(max_size=6))
_json_values = st.recursive(_json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)), max_leaves=6)


def _places(value, path=()):
    """Every (path, value) in a JSON document."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _places(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _places(v, (*path, i))


@st.composite
def damaged_stats(draw) -> dict:
    """The fixture's stats with one to four places removed, emptied or replaced by any JSON."""
    stats = fixture_stats()
    for _ in range(draw(st.integers(1, 4))):
        places = [p for p, _ in _places(stats) if p]
        path = draw(st.sampled_from(places))
        parent = stats
        for step in path[:-1]:
            parent = parent[step]
        how = draw(st.sampled_from(["remove", "replace", "empty"]))
        if how == "remove":
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(_json_values) if how == "replace" else type(parent[path[-1]])()
    return stats


@FUZZ
@given(damaged_stats())
def test_damaged_stats_render_or_are_refused_never_crash(tmp_path_factory, stats):
    path = tmp_path_factory.mktemp("stats") / "stats.json"
    path.write_text(json.dumps(stats), encoding="utf-8")
    try:
        checked = read_stats(path)
    except StatsError as err:
        assert str(err).startswith(f"{path}: not the stats of a dsc run: ")
        return
    markdown, html = render_report(checked)
    (markdown + html).encode("utf-8")
