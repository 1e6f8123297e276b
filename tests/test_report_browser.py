"""The HTML report of every shipped spec, rendered in a real browser (headless Chromium).

Why a browser: whether a label fits its box is decided by fonts and layout, which no HTML parser
knows. Each spec in specs/ runs on its shipped data; its report.html gets a small script that,
once Chromium has laid the page out, measures it and writes what it found into the page, which
`chromium --headless --dump-dom` prints:

- no element's content is wider than its box (`scrollWidth <= clientWidth`), the page included
  (no horizontal scrolling at 1000 px), with every `<details>` opened first;
- every SVG text lies inside its chart's viewBox, every bar label ends left of the bars, every
  value starts right of its bar;
- every bar has its value text, every chart its title, and the labels read back as the stats say
  (each rule of the funnel, each split).

Needs Debian's `chromium` (`apt-get install -y chromium`; `.ci/run` installs it). Without it the
test skips, and fails in CI (`CI` set). `DSC_CHROMIUM` names another binary. With
`DSC_REPORT_SCREENSHOTS=DIR`, full-page PNGs of each report go to DIR (report-<spec>.png).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dsc.api import compile_file
from dsc.engines.local import run_plan

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.dspec"))
HINT = "headless Chromium is needed: apt-get install -y chromium (or set DSC_CHROMIUM to a Chrome binary)"
WIDTH = 1000

# Runs in the page once it is laid out; writes its findings as JSON into <pre id="dsc-check">.
CHECK = r"""
<script>
(() => {
  document.querySelectorAll("details").forEach(d => d.open = true);
  const problems = [], charts = [];
  const where = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + ": " +
                      (el.textContent || "").trim().slice(0, 80);
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) problems.push("page scrolls sideways: " + root.scrollWidth);
  for (const el of document.body.querySelectorAll("*")) {
    if (el instanceof SVGElement || el.tagName === "SCRIPT") continue;
    if (getComputedStyle(el).display === "inline" || el.clientWidth === 0) continue;
    if (el.scrollWidth > el.clientWidth) problems.push(`overflows its box (${el.scrollWidth} > ${el.clientWidth}): ${where(el)}`);
  }
  for (const svg of document.querySelectorAll("svg.chart")) {
    const vb = svg.viewBox.baseVal, name = (svg.querySelector("title") || {}).textContent || "";
    const bars = [...svg.querySelectorAll("rect.bar")];
    const values = [...svg.querySelectorAll("text.value")];
    const labels = [...svg.querySelectorAll("text.label")].map(t => [...t.querySelectorAll("tspan")].map(s => s.textContent).join(" "));
    const barLeft = Math.min(...bars.map(r => r.x.baseVal.value));
    for (const t of svg.querySelectorAll("text")) {
      const b = t.getBBox();
      if (b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 || b.y + b.height > vb.y + vb.height + 0.5)
        problems.push(`${name}: text outside the chart: ${t.textContent} (${b.x},${b.y},${b.width},${b.height} in ${vb.width}x${vb.height})`);
      if (t.classList.contains("label") && bars.length && b.x + b.width > barLeft)
        problems.push(`${name}: label runs into the bars: ${t.textContent}`);
      if (!t.textContent.trim() && !t.classList.contains("label")) problems.push(`${name}: an empty text`);
    }
    if (bars.length !== values.length) problems.push(`${name}: ${bars.length} bars, ${values.length} values`);
    bars.forEach((r, i) => {
      const v = values[i];
      if (v && v.getBBox().x < r.x.baseVal.value + r.width.baseVal.value) problems.push(`${name}: value over its bar: ${v.textContent}`);
    });
    if (!name.trim() || !svg.querySelector("text.title")) problems.push("a chart without a title");
    charts.push({title: name, labels, values: values.map(v => v.textContent), bars: bars.length});
  }
  const out = document.createElement("pre");
  out.id = "dsc-check";
  out.textContent = JSON.stringify({problems, charts});
  document.body.appendChild(out);
})();
</script>
"""


def chromium() -> str:
    """The Chromium binary, or a skip (a failure in CI) that says how to get one."""
    found = os.environ.get("DSC_CHROMIUM") or next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if not found:
        if os.environ.get("CI"):
            pytest.fail(HINT)
        pytest.skip(HINT)
    return found


def browse(binary: str, page: Path, *args: str, height: int = 900) -> str:
    """Chromium's output for `page` (headless, no sandbox: tests may run as root in a container)."""
    done = subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--allow-file-access-from-files", "--no-first-run", f"--window-size={WIDTH},{height}",
                           "--virtual-time-budget=5000", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Check(HTMLParser):
    """The JSON the check script wrote into <pre id="dsc-check">."""

    def __init__(self):
        super().__init__()
        self.inside, self.found = False, []

    def handle_starttag(self, tag, attrs):
        self.inside = self.inside or (tag == "pre" and ("id", "dsc-check") in attrs)

    def handle_endtag(self, tag):
        self.inside = self.inside and tag != "pre"

    def handle_data(self, data):
        if self.inside:
            self.found.append(data)


def run_spec(spec: Path, out: Path) -> dict:
    """The spec run on its shipped data into `out`: its stats; a skip when it needs an extra that
    this machine lacks (then no report can be made offline)."""
    try:
        return run_plan(compile_file(spec).plan, spec.parent, out).stats
    except ImportError as err:
        pytest.skip(f"{spec.name} needs the package {err.name}, which is not installed here")


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_the_report_of_every_shipped_spec_lays_out_in_a_browser(spec, tmp_path):
    binary = chromium()
    folder = tmp_path / "out"
    stats = run_spec(spec, folder)
    page = tmp_path / "report.html"
    page.write_text((folder / "report.html").read_text(encoding="utf-8").replace("</body>", CHECK + "</body>"),
                    encoding="utf-8")
    parsed = Check()
    parsed.feed(browse(binary, page, "--dump-dom"))
    assert parsed.found, "the check script did not run"
    found = json.loads("".join(parsed.found))
    assert found["problems"] == []
    charts = {c["title"]: c for c in found["charts"]}
    funnel = charts["Rows removed by each rule, and why"]
    rules = [re.sub(r" \(line \d+\)$", "", label) for label in funnel["labels"]]
    for rule in stats["rules"]:
        assert rule["id"] in rules  # wrapped or not, every rule reads back whole
    for r in stats["reasons"]:
        assert " ".join(str(r["reason"]).split()) in funnel["labels"]
    assert all(re.fullmatch(r"\d+( \(\d+\.\d%\))?( of \d+)?", v) for v in funnel["values"]), funnel["values"]
    if stats.get("splits"):
        assert charts["Rows per split"]["labels"] == [p["name"] for p in stats["splits"]["parts"]]
    for t in stats.get("text_lengths", []):
        assert charts[f"Characters per row: {t['column']}"]["bars"] == len(t["histogram"])
    for n in stats.get("near_similarity", []):
        assert charts[f"{n['rule']}: similarity of each removed row to its survivor"]["labels"] == \
            [b["bin"] for b in n["bins"]]
    for a in stats.get("annotations", {}).values():
        assert charts[f"{a['field']}: agreement per item"]["labels"] == list(a["item_agreement"]["histogram"])
    if os.environ.get("DSC_REPORT_SCREENSHOTS"):
        shot = Path(os.environ["DSC_REPORT_SCREENSHOTS"]) / f"report-{spec.stem}.png"
        tall = tmp_path / "tall.html"  # the whole page in one shot: a window as tall as the page
        tall.write_text((folder / "report.html").read_text(encoding="utf-8"), encoding="utf-8")
        height = 400 + 24 * (folder / "report.html").read_text(encoding="utf-8").count("\n")
        browse(binary, tall, f"--screenshot={shot}", height=min(height, 16000))


def test_the_check_sees_a_clipped_label_and_an_overflowing_cell(tmp_path):
    """The checks above are only as good as the script: here it must flag what the old report did
    wrong (a bar value running out of its chart, a label under the bars, text wider than its cell)."""
    binary = chromium()
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><body><table style="width:120px;table-layout:fixed"><tr>'
        '<td style="white-space:nowrap">a reason far too long for its cell</td></tr></table>'
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="200" height="40" viewBox="0 0 200 40">'
        '<title>bad</title><text x="0" y="14" class="title">bad</text>'
        '<text x="0" y="30" class="label"><tspan x="0">a label wider than the space left of its bar</tspan></text>'
        '<rect x="60" y="20" width="120" height="12" class="bar"></rect>'
        '<text x="185" y="30" class="value">200 (100.0%)</text></svg>' + CHECK + "</body></html>",
        encoding="utf-8")
    parsed = Check()
    parsed.feed(browse(binary, page, "--dump-dom"))
    problems = json.loads("".join(parsed.found))["problems"]
    assert any(p.startswith("overflows its box") and "far too long" in p for p in problems), problems
    assert any("text outside the chart: 200 (100.0%)" in p for p in problems), problems
    assert any("label runs into the bars" in p for p in problems), problems
