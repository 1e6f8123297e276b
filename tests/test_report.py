"""The report: rendered from saved stats only; Markdown golden; HTML self-contained with inline SVG charts.

To rewrite the golden Markdown after an intended change:

    DSC_UPDATE_GOLDEN=1 pytest tests/test_report.py

and review the diff of `tests/fixtures/report/report.md`.
"""
import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

from rich.console import Console

from dsc.api import compile_file
from dsc.engines.local import run_plan
from dsc.report import render_report, rerender, summary_table

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "report"
UPDATE = os.environ.get("DSC_UPDATE_GOLDEN") == "1"
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}
# SVG elements written self-closed or with children; both are fine.
SVG = {"svg", "rect", "text", "title", "g", "line", "path"}


def fixture_stats() -> dict:
    return json.loads((FIXTURES / "stats.json").read_text(encoding="utf-8"))


def test_markdown_report_matches_golden():
    markdown, _ = render_report(fixture_stats())
    expected = FIXTURES / "report.md"
    if UPDATE:
        expected.write_text(markdown, encoding="utf-8")
    assert markdown == expected.read_text(encoding="utf-8")


class Page(HTMLParser):
    """Checks nesting as it parses, and records tags, attributes and text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.attrs, self.text, self.errors = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert not page.errors and not page.stack, (page.errors, page.stack)
    return page


def test_html_report_parses_holds_its_charts_and_needs_nothing_outside():
    _, html = render_report(fixture_stats())
    page = parse(html)
    # the funnel; split sizes and labels per split; cluster sizes; near-duplicate similarity; one standardize
    # rule; agreement per item and coverage; token lengths of 2 splits; text lengths of 2 columns
    assert page.tags.count("svg") == 1 + 2 + 1 + 1 + 1 + 2 + 2 + 2
    # bars: 6 rules and their 8 reasons; 2 splits, 3 labels x 2 splits; 2 clusters; 7 similarity bins;
    # 3 outcomes; 5 agreement buckets, 4 coverage counts; 2 x 6 token bins; 2 x 10 length bins
    assert page.tags.count("rect") == 14 + 2 + 6 + 2 + 7 + 3 + 5 + 4 + 12 + 20
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(page.tags)
    external = [a for a in page.attrs if a[1] in ("src", "href") or (a[1] == "xmlns" and a[0] != "svg")]
    assert external == []
    assert "url(" not in html and "@import" not in html
    text = " ".join(page.text)
    for heading in ("Gates", "Funnel", "Splits", "Leakage", "Drop reasons", "Duplicate clusters",
                    "Near-duplicate similarity", "Standardisation failures", "Annotation agreement", "Label resolution", "Conflicts",
                    "Token lengths", "Text lengths", "Rejected examples"):
        assert heading in text
    assert "reset <password> please" in text  # data is escaped, so it reads back as text, not as a tag


def test_optional_sections_disappear_when_empty():
    stats = {k: v for k, v in fixture_stats().items()
             if k not in ("splits", "leakage", "annotations", "standardisation", "clusters", "conflicts", "augment",
                          "finetune", "tokens", "text_lengths", "near_similarity")}
    markdown, html = render_report(stats)
    for heading in ("Splits", "Leakage", "Annotation agreement", "Label resolution", "Standardisation failures",
                    "Duplicate clusters", "Conflicts", "Augmentation", "Fine-tuning methods", "Token lengths",
                    "Text lengths", "Near-duplicate similarity"):
        assert f"### {heading}" not in markdown and f">{heading}</h2>" not in html
    assert parse(html).tags.count("svg") == 1  # the funnel, with its reasons


def test_label_resolution_has_its_own_section_apart_from_conflicts():
    markdown, html = render_report(fixture_stats())
    assert ("| `category` | majority prefer domain\\_expert tie flag | 812 | 809 (797 majority, 12 domain\\_expert "
            "tie-break) | 0 | 0 | 3 | 0 | 0 |") in markdown
    assert "<td class=\"n\">809 (797 majority, 12 domain_expert tie-break)</td>" in html
    assert "9 conflict groups: 6 drop, 3 majority" in markdown  # the conflicts rules' own groups
    # stats saved before the resolution had every status leave those cells empty
    stats = fixture_stats()
    stats["annotations"]["category"]["resolution"] = {"policy": "unanimous", "prefer": None, "tie": "drop",
                                                      "resolved": 5, "first": 0, "drop": 2, "flag": 0}
    assert "| `category` | unanimous tie drop |  | 5 | 0 | 2 | 0 |  |  |" in render_report(stats)[0]


def test_a_real_run_saves_stats_renders_from_them_and_rerenders_identically(tmp_path):
    spec_dir, data = tmp_path / "specs", tmp_path / "examples" / "data"
    spec_dir.mkdir()
    data.mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "data" / "common_gen_Example_prompt.jsonl", data)
    (tmp_path / "dsc.toml").write_text("")
    shutil.copy(ROOT / "specs" / "common_gen.dspec", spec_dir)
    plan = compile_file(spec_dir / "common_gen.dspec").plan
    out = tmp_path / "out"
    result = run_plan(plan, spec_dir, out)
    written = {name: (out / name).read_bytes() for name in ("report.md", "report.html")}
    stats = json.loads((out / "stats.json").read_text())
    assert stats == json.loads(json.dumps(result.stats))
    assert render_report(stats) == tuple(b.decode() for b in written.values())
    (out / "report.md").unlink()
    rerender(out)
    assert {name: (out / name).read_bytes() for name in written} == written
    markdown = written["report.md"].decode()
    assert "### Splits" in markdown and "| train | 80.0% |" in markdown and "`conflicts[prompt->completion]`" in markdown
    parse(written["report.html"].decode())


def test_a_comparison_that_could_not_be_made_says_why():
    stats = {**fixture_stats(), "finetune": {"error": "base model 'models/x' not found; looked for the folder m"}}
    markdown, html = render_report(stats)
    assert "### Fine-tuning methods\n\nNot estimated: base model 'models/x' not found; looked for the folder m\n" \
        in markdown
    assert "<p>Not estimated: base model &#39;models/x&#39; not found" in html


def test_a_run_with_a_finetune_block_compares_the_methods_on_its_train_split(tmp_path):
    spec_dir, data = tmp_path / "specs", tmp_path / "examples"
    spec_dir.mkdir()
    shutil.copytree(ROOT / "examples" / "data", data / "data")
    shutil.copytree(ROOT / "examples" / "evals", data / "evals")  # the spec decontaminates against HumanEval
    shutil.copytree(ROOT / "examples" / "models", data / "models")
    (tmp_path / "dsc.toml").write_text("")
    shutil.copy(ROOT / "specs" / "code_alpaca.dspec", spec_dir)
    out = tmp_path / "out"
    result = run_plan(compile_file(spec_dir / "code_alpaca.dspec").plan, spec_dir, out)
    finetune = result.stats["finetune"]
    assert [m["method"] for m in finetune["methods"]] == ["full", "lora", "prompt_tuning"]
    assert finetune["train"]["path"] == "train.jsonl"  # the placed file, not the staging copy
    assert finetune["train"]["rows"] == result.manifest["splits"][0]["rows"]
    assert finetune["table"]["columns"] == ["full*", "LoRA", "prompt tuning*"]
    assert "| trainable parameters | 124,439,808 | 589,824 | 15,360 |" in (out / "report.md").read_text()


def test_summary_table_still_renders_from_the_manifest():
    manifest = {"dataset": {"name": "demo"}, "plan_fingerprint": "sha256:" + "0" * 64,
                "counts": {"input": 10, "kept": 7, "rejected": 3},
                "rules": [{"id": "drop[q]", "line": 4, "rows_in": 10, "rows_out": 7, "removed": 3, "flagged": 0}]}
    console = Console(record=True, width=100)
    console.print(summary_table(manifest))
    text = console.export_text()
    assert "demo — 10 rows in, 7 kept, 3 rejected" in text and "30.0%" in text
    assert "flagged" not in text  # no rule flags rows: no column of blanks


def test_summary_table_groups_digits_as_the_progress_lines_do_and_shows_flags_when_there_are_some():
    manifest = {"dataset": {"name": "big"}, "plan_fingerprint": "sha256:" + "0" * 64,
                "counts": {"input": 1_000_000, "kept": 950_000, "rejected": 50_000},
                "rules": [{"id": "dedupe_exact[text]", "line": 4, "rows_in": 1_000_000, "rows_out": 950_000,
                           "removed": 50_000, "flagged": 0},
                          {"id": "flag[text]", "line": 5, "rows_in": 950_000, "rows_out": 950_000, "removed": 0,
                           "flagged": 12_345}]}
    console = Console(record=True, width=100)
    console.print(summary_table(manifest))
    text = console.export_text()
    assert "big — 1,000,000 rows in, 950,000 kept, 50,000 rejected" in text
    row = next(line for line in text.splitlines() if "dedupe_exact" in line)
    assert [cell.strip() for cell in row.split("│")[3:6]] == ["1,000,000", "950,000", "50,000"], row
    assert "flagged" in text and "12,345" in text


def test_a_run_without_peft_writes_the_data_and_says_why_there_is_no_comparison(tmp_path, monkeypatch):
    import sys

    spec_dir, data = tmp_path / "specs", tmp_path / "examples"
    spec_dir.mkdir()
    shutil.copytree(ROOT / "examples" / "data", data / "data")
    shutil.copytree(ROOT / "examples" / "evals", data / "evals")
    (tmp_path / "dsc.toml").write_text("")
    shutil.copy(ROOT / "specs" / "code_alpaca.dspec", spec_dir)
    monkeypatch.setitem(sys.modules, "peft", None)  # what `import peft` then fails on
    result = run_plan(compile_file(spec_dir / "code_alpaca.dspec").plan, spec_dir, tmp_path / "out")
    assert result.stats["finetune"] == {"error": "finetune needs the package peft, which is not installed here; "
                                                 "pip install 'dsc[train]'"}
    assert (tmp_path / "out" / "train.jsonl").exists()


class Charts(HTMLParser):
    """Each SVG chart of a page: its width, and each text line with the x it starts at."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.charts, self.x, self.into = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.charts.append({"width": float(a["width"]), "title": "", "lines": [], "labels": []})
        elif tag in ("text", "tspan") and self.charts:
            self.x = float(a.get("x", self.x or 0))
            self.into = a.get("class", self.into if tag == "tspan" else None)
            if tag == "text" and self.into == "label":
                self.charts[-1]["labels"].append("")
        elif tag == "title" and self.charts:
            self.into = "chart-title"

    def handle_endtag(self, tag):
        if tag in ("text", "title"):
            self.into = None

    def handle_data(self, data):
        if self.into == "chart-title":
            self.charts[-1]["title"] += data
        elif self.into:
            self.charts[-1]["lines"].append((self.x, data))
            if self.into == "label":
                labels = self.charts[-1]["labels"]
                labels[-1] = f"{labels[-1]} {data}".strip()


def charts_of(html: str) -> list[dict]:
    found = Charts()
    found.feed(html)
    return found.charts


def test_every_chart_is_as_wide_as_its_text_at_a_generous_width_per_character():
    from dsc.report_charts import width

    for chart in charts_of(render_report(fixture_stats())[1]):
        for x, line in chart["lines"]:
            assert x + width(line) <= chart["width"], (chart["title"], line)


def test_the_funnel_draws_what_each_rule_removed_with_every_reason_in_full():
    _, html = render_report(fixture_stats())
    funnel = next(c for c in charts_of(html) if c["title"] == "Rows removed by each rule, and why")
    texts = [line for _, line in funnel["lines"]]
    assert "75 (7.7%) of 975" in texts  # removed, as a share of the rows the rule read; not 900 remaining
    assert "dedupe_exact[prompt,response] (line 22)" in funnel["labels"]
    long = "column 'category': value is not one of {billing, bug, account, other, refund, shipping, warranty, cancellation}"
    assert long in funnel["labels"]  # wrapped over lines, never cut
    assert "column 'category': value is not one of {billing, bug, account, other}" in funnel["labels"]


def test_reviewers_read_reasons_and_clusters_by_their_text_not_by_row_ids():
    markdown, html = render_report(fixture_stats())
    clusters = markdown.split("### Duplicate clusters")[1].split("###")[0]
    assert "00000000000000a" not in clusters and "00000000000000b" not in clusters
    assert "| `dedupe_near[prompt]` | 3 | 3 | reset &lt;password&gt; please |" in clusters
    assert ("| `dedupe_exact[prompt,response]` | 22 | exact duplicate | 75 | Where is my \\| invoice? · See \\`Billing\\`"
            in markdown)
    section = html.split('id="clusters"')[1].split("<h2")[0]
    assert "00000000000000a" not in section


def test_the_report_is_the_same_bytes_for_the_same_stats_and_for_1_or_2_workers(tmp_path):
    assert render_report(fixture_stats()) == render_report(fixture_stats())
    spec = compile_file(ROOT / "specs" / "toolformer.dspec").plan
    one, two = tmp_path / "one", tmp_path / "two"
    run_plan(spec, ROOT / "specs", one, workers=1)
    run_plan(spec, ROOT / "specs", two, workers=2)
    for name in ("report.md", "report.html", "stats.json"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
