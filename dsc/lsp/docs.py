"""Hover documentation for the words of the language, read from docs/language.md.

The reference is written once, for people; the server shows the piece of it about a word rather
than keeping a second text that would drift. docs/language.md is cut into pieces — the section
headings, the lines of the spec examples (with their comments), the bullets, the table rows and
the paragraphs — and a word is looked up in this order, first in the section of the block the
cursor is in, then in the others:

1. a bullet whose first code span starts with the word (`- \\`keep\\`: \\`first\\` / …`);
2. a table row whose first cell names it (`| \\`rows(SPLIT)\\` | the rows in a split |`);
3. an example line that starts with it (`seed 1234   # every random choice derives from …`);
4. a bullet whose first code span has it as a later word (`ignoring` in `dedupe … ignoring`);
5. a paragraph or bullet that writes it as code (`` `using` is a local model path; … ``);
6. an example line that has it anywhere (`revision` in `hub "org/name" split train revision …`).

A block keyword at the top level is its section: the heading and the section's first example.
When docs/language.md is not there (dsc installed without its repository), nothing is found.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dsc.syntax.parser import BLOCK_KEYWORDS

LANGUAGE_MD = Path(__file__).resolve().parents[2] / "docs" / "language.md"
_FENCE = re.compile(r"^```(\w*)\s*$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STATEMENT = re.compile(r"^\s*[a-z_]+(\s|$)")
MAX_CHARS = 1200  # a paragraph longer than this is cut at a sentence


@dataclass(frozen=True)
class Piece:
    """One piece of the reference: `kind` is "heading", "example", "bullet", "row" or "para"."""

    kind: str
    section: str
    text: str
    header: str = ""  # a row's table header; a heading's first example


def pieces(markdown: str) -> list[Piece]:
    """docs/language.md cut into pieces, in order.

    >>> [(p.kind, p.section, p.text) for p in pieces("## gate — CI\\n\\n```\\ngate {\\n  dropped <= 5%  # cap\\n}\\n```\\n"
    ...                                              "\\n- `warn`: only\\n  a warning\\n")]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('heading', 'gate — CI', 'gate — CI'), ('example', 'gate — CI', 'gate {'),
     ('example', 'gate — CI', 'dropped <= 5%  # cap'), ('example', 'gate — CI', '}'),
     ('bullet', 'gate — CI', '`warn`: only a warning')]
    """
    out: list[Piece] = []
    section = "The .dspec language"
    lines = markdown.splitlines()
    heading_at: int | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
            out.append(Piece("heading", section, section))
            heading_at = len(out) - 1
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence:
            body = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            i += 1
            first = next((b for b in body if b.strip()), "")
            if fence.group(1) in ("", "dspec") and _STATEMENT.match(first):
                out += [Piece("example", section, b.strip()) for b in body if b.strip()]
                if heading_at is not None and not out[heading_at].header:
                    out[heading_at] = Piece("heading", section, section, "\n".join(body))
            continue
        if line.startswith("|"):
            header = line
            i += 1
            while i < len(lines) and lines[i].startswith("|"):
                if not re.match(r"^\|[\s:|-]+\|\s*$", lines[i]):
                    out.append(Piece("row", section, lines[i], header))
                i += 1
            continue
        if line.startswith("- "):
            text = [line[2:].strip()]
            i += 1
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                text.append(lines[i].strip())
                i += 1
            out.append(Piece("bullet", section, " ".join(text)))
            continue
        if line.strip() and not line.startswith("#"):
            text = [line.strip()]
            i += 1
            while (i < len(lines) and lines[i].strip() and not lines[i].startswith(("- ", "|", "```", "#"))):
                text.append(lines[i].strip())
                i += 1
            out.append(Piece("para", section, " ".join(text)))
            continue
        i += 1
    return out


@cache
def reference() -> tuple[Piece, ...]:
    """The pieces of docs/language.md (none when it is not there)."""
    try:
        return tuple(pieces(LANGUAGE_MD.read_text(encoding="utf-8")))
    except OSError:
        return ()


def _first_code(text: str) -> str | None:
    m = re.match(r"`([^`]+)`", text)
    return m.group(1) if m else None


def _starts_with(code: str | None, word: str) -> bool:
    return code is not None and re.match(rf"{re.escape(word)}(?![A-Za-z0-9_])", code) is not None


def _row_names(row: str) -> list[str]:
    cells = [c.strip() for c in row.strip().strip("|").split("|")]
    return re.findall(r"`([^`]+)`", cells[0]) if cells else []


def _rules(word: str):
    """The lookups of the module docstring, in order: each a test of a piece."""
    first = word.split()[0]
    return (
        lambda p: p.kind == "bullet" and _starts_with(_first_code(p.text), word),
        lambda p: p.kind == "row" and any(_starts_with(n, word) for n in _row_names(p.text)),
        lambda p: p.kind == "example" and _starts_with(p.text, word),
        lambda p: p.kind == "bullet" and first in _WORD.findall(_first_code(p.text) or "")[1:],
        lambda p: p.kind in ("para", "bullet") and re.search(rf"`{re.escape(word)}(?![A-Za-z0-9_])[^`]*`", p.text) is not None,
        lambda p: p.kind == "example" and first in _WORD.findall(p.text.split("#")[0]),
    )


def lookup(word: str, block: str | None = None, refs: tuple[Piece, ...] | None = None) -> Piece | None:
    """The piece of the reference about `word` (a keyword, or a multi-word one like `dedupe near`)
    where the cursor is in a `block` (its keyword; None at the top level).

    >>> lookup("keep").text.startswith("`keep`: `first` / `last`")
    True
    >>> lookup("resolve", "annotate").text
    'resolve majority prefer domain_expert tie drop    # majority | unanimous | expert; tie drop|flag|first'
    >>> lookup("no_such_word") is None
    True
    """
    refs = reference() if refs is None else refs
    if word in BLOCK_KEYWORDS and block is None:
        heading = next((p for p in refs if p.kind == "heading" and p.section.split()[0] == word), None)
        if heading:
            return heading
    own = [p for p in refs if block and p.section.split()[0] == block]
    for group in (own, refs):
        for rule in _rules(word):
            found = next((p for p in group if rule(p)), None)
            if found:
                return found
    if word in BLOCK_KEYWORDS:
        return next((p for p in refs if p.kind == "heading" and p.section.split()[0] == word), None)
    return None


def render(word: str, piece: Piece) -> str:
    """A piece as hover Markdown: the word, where in the reference it comes from, the text.

    >>> print(render("seed", Piece("example", "dataset — the header", "seed 1234  # the seed")))
    **seed** — *docs/language.md: dataset — the header*
    <BLANKLINE>
    ```dspec
    seed 1234  # the seed
    ```
    """
    head = f"**{word}** — *docs/language.md: {piece.section}*"
    if piece.kind == "heading":
        body = f"```dspec\n{piece.header}\n```" if piece.header else ""
    elif piece.kind == "example":
        body = f"```dspec\n{piece.text}\n```"
    elif piece.kind == "row":
        names = [c.strip() for c in piece.header.strip().strip("|").split("|")]
        cells = [c.strip() for c in piece.text.strip().strip("|").split("|")]
        body = "\n".join(f"- {n}: {c}" for n, c in zip(names, cells))
    else:
        body = _clip(piece.text)
    return f"{head}\n\n{body}".rstrip()


def _clip(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    cut = text.rfind(". ", 0, MAX_CHARS)
    return text[: cut + 1] if cut > 0 else text[: MAX_CHARS - 1] + "…"


def hover(word: str, block: str | None = None) -> str | None:
    """The hover Markdown for a word, or None when the reference says nothing about it."""
    piece = lookup(word, block)
    return render(word, piece) if piece else None
