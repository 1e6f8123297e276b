"""The README and docs/ as a reader follows them: every relative link resolves inside the
repository, and every page in docs/ is reachable from the README."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").rglob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def links(page: Path) -> list[Path]:
    """The repository files a page links to (web links and in-page anchors left out)."""
    found = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        found.append((page.parent / target.split("#")[0]).resolve())
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(page):
    broken = [str(t) for t in links(page) if not t.exists() or ROOT not in t.parents]
    assert broken == []


def test_every_docs_page_is_reachable_from_the_readme():
    seen, todo = set(), [ROOT / "README.md"]
    while todo:
        page = todo.pop()
        if page in seen or not page.exists():
            continue
        seen.add(page)
        todo += [t for t in links(page) if t.suffix == ".md"]
    docs = {p for p in (ROOT / "docs").iterdir() if p.suffix in (".md", ".json")}
    reachable = seen | {t for page in seen for t in links(page)}
    assert sorted(p.name for p in docs - reachable) == []
