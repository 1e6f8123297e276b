"""`dsc fmt`: print a spec in its one canonical layout, keeping every comment.

The canonical layout:

- blocks (and `export` lines) in source order, a block always set apart by one blank line;
  consecutive `export` lines stay together unless the author separated them;
- two-space indent inside blocks, one statement per line (line continuations are joined),
  single spaces between tokens, `, ` in lists, `: ` after `normalize` columns;
- schema columns aligned: names padded so that their ` : ` line up across the block;
- strings re-escaped (`\\"`, `\\\\`, `\\n`, `\\t`; every other character is written as is);
  numbers printed from their Decimal (`0.10` stays `0.10`, `20%` stays `20%`, `2e-4` becomes
  `0.0002`, an exponent is written with a lower-case `e`);
- options in one order per statement, whatever order they were written in (`OPTION_ORDER`;
  repeated options keep their relative order, so a checker still sees the same repetition);
  schema modifiers as `required unique`;
- blank lines: none after `{` or before `}`; elsewhere at most one, kept where the author had
  one or more (between statements, between comments, between a comment and its statement);
- the file ends with exactly one newline (an empty spec is the empty string).

Comments are placed by their line numbers against the statements' spans: one on the line of a
statement (or of a `{` or `}`) stays at the end of that line, two spaces before its `#`; one on
a line of its own stays before the statement, `}` or block that follows it, at that line's
indent; the ones after the last block stay at the end. The AST records no position for the `}`
of a block with no statements: `format_source` finds it in the text, while `format_spec`, given
only the AST and the comments, keeps an indented comment inside such a block and takes one in
column 1 to follow it.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field, fields, replace
from typing import Iterator, Sequence

from dsc import ast
from dsc.diagnostics import Diagnostic
from dsc.ops import OPERATORS, is_rule, operator_for
from dsc.syntax.comments import extract_comments
from dsc.syntax.load import parse
from dsc.syntax.source import SourceFile
from dsc.syntax.write import listing, value, words

INDENT = "  "
OPTION_ORDER: dict[type, tuple[str, ...]] = {
    **{op.node: op.option_order for op in OPERATORS.values() if op.option_order},
    # What to pick, how to generate, then how the guard judges.
    ast.Augmentation: ("ratio", "using", "endpoint", "model", "key_env", "template", "concurrency",
                       "min_similarity", "max_similarity", "min_length_ratio", "max_length_ratio"),
    ast.Hub: ("split", "revision", "config"),
    ast.SplitBlock: ("stratify", "seed"),
    ast.Export: ("shape", "template"),
}
MODIFIER_ORDER = ("required", "unique")


def format_spec(spec: ast.Spec, comments: Sequence[ast.Comment] = ()) -> str:
    """The canonical text of a spec, with `comments` (from the text `spec` was parsed from) put back.

    >>> from decimal import Decimal
    >>> gate = ast.GateBlock((ast.MetricGate(ast.Name("dropped"), (), ast.Name("<="), ast.Num(Decimal(20), True)),))
    >>> print(format_spec(ast.Spec((gate,))), end="")
    gate {
      dropped <= 20%
    }
    """
    return _format(spec, comments, {})


def format_source(source: SourceFile) -> tuple[str | None, list[Diagnostic]]:
    """Parse a source and return its canonical text, or None and the syntax errors.

    >>> text, diags = format_source(SourceFile("x.dspec", "gate{\\n dropped<=20 %   # cap\\n}"))
    >>> print(text, end="")
    gate {
      dropped <= 20%  # cap
    }
    """
    spec, diags = parse(source)
    if spec is None:
        return None, diags
    comments = extract_comments(source)
    return _format(spec, comments, _empty_block_closes(spec, source, comments)), diags


def canonical(spec: ast.Spec) -> ast.Spec:
    """The spec as `format_spec` prints it: options and schema modifiers in canonical order.

    `parse(format_spec(s)) == canonical(s)` for every spec `s`.

    >>> rule = ast.Dedupe(ast.Name("near"), (ast.Name("a"),), (ast.DedupeOption("keep", (ast.Name("first"),)),
    ...                   ast.DedupeOption("ignoring", (ast.Name("case"),))))
    >>> [o.key for o in canonical(ast.Spec((ast.CleanBlock((rule,)),))).blocks[0].rules[0].options]
    ['ignoring', 'keep']
    """
    blocks = []
    for block in spec.blocks:
        if isinstance(block, ast.SchemaBlock):
            columns = (replace(c, modifiers=_ranked(c.modifiers, MODIFIER_ORDER, lambda m: m.value))
                       for c in block.columns)
            block = replace(block, columns=tuple(columns))
        elif isinstance(block, (ast.CleanBlock, ast.AugmentBlock)):
            block = replace(block, rules=tuple(_canonical_options(r) for r in block.rules))
        elif isinstance(block, ast.SourceBlock):
            block = replace(block, body=tuple(_canonical_options(s) for s in block.body))
        elif isinstance(block, (ast.SplitBlock, ast.Export)):
            block = _canonical_options(block)
        blocks.append(block)
    return replace(spec, blocks=tuple(blocks))


def _canonical_options(rule):
    order = OPTION_ORDER.get(type(rule))
    return replace(rule, options=_ranked(rule.options, order, lambda o: o.key)) if order else rule


def _ranked(items: tuple, order: tuple[str, ...], key) -> tuple:
    rank = {name: i for i, name in enumerate(order)}
    return tuple(sorted(items, key=lambda item: rank.get(key(item), len(order))))  # stable: repeats keep order


# ── statements: one `_fmt_<Node>` per statement node, each printing one line ────────────
def _fmt(node: ast.Node) -> str:
    if is_rule(node):
        return operator_for(node).fmt(node)
    return _STATEMENTS[type(node)](node)


def _fmt_Seed(n: ast.Seed) -> str:
    return words("seed", n.value)


def _fmt_Locale(n: ast.Locale) -> str:
    return words("locale", n.value)


def _fmt_Files(n: ast.Files) -> str:
    return "files " + listing(n.patterns)


def _options(options: tuple) -> Iterator[str]:
    """`key value` for each one-value option, as the AST holds them (repeats included)."""
    return (words(o.key, o.value) for o in options)


def _fmt_Hub(n: ast.Hub) -> str:
    return words("hub", n.id, *_options(n.options))


def _fmt_Format(n: ast.Format) -> str:
    return words("format", n.value)


def _fmt_Key(n: ast.Key) -> str:
    return "key " + listing(n.columns)


def _fmt_Rename(n: ast.Rename) -> str:
    return words("rename", n.old, "->", n.new)


def _fmt_Explode(n: ast.Explode) -> str:
    return words("explode", n.column)


def _fmt_ColumnDecl(n: ast.ColumnDecl, width: int = 0) -> str:
    kind = f"label {{{listing(n.labels)}}}" if n.labels is not None else n.type.value
    return words(n.name.value.ljust(width), ":", kind, *n.modifiers)


# Where the values of each annotate setting go: "op" is its comparison, any other slot takes the
# next value, written after that word (if any). A missing optional value (None) drops its word.
_ANN_SLOTS = {
    "from": ("", "format"),
    "annotators": ("op", ""),
    "experts": ("op", "", "role"),
    "agreement": ("", "", "op", ""),
    "item_agreement": ("op", ""),
    "resolve": ("", "prefer", "tie"),
    "below_threshold": ("",),
    "tasks": ("",),
}


def _fmt_AnnSetting(n: ast.AnnSetting) -> str:
    values = iter(n.values)
    parts = [n.key]
    for slot in _ANN_SLOTS[n.key]:
        if slot == "op":
            parts.append(value(n.op))
        elif (item := next(values, None)) is not None:
            parts.append(words(slot, item))
    return " ".join(parts)


def _fmt_SplitPart(n: ast.SplitPart) -> str:
    return words(n.name, n.fraction)


def _fmt_Augmentation(n: ast.Augmentation) -> str:
    pivots = "via " + listing(n.pivots) if n.pivots else None
    return words(n.method, n.column, pivots, *_options(n.options))


def _fmt_Export(n: ast.Export) -> str:
    return words("export", n.format, n.path, *_options(n.options))


def _fmt_MetricGate(n: ast.MetricGate) -> str:
    metric = f"{n.metric.value}({listing(n.args)})" if n.args else n.metric.value
    return words(metric, n.op, n.value, n.severity)


def _fmt_LeakageGate(n: ast.LeakageGate) -> str:
    return words("leakage", f"{n.left.value}, {n.right.value}", "jaccard", n.op, n.threshold, n.severity)


def _fmt_Setting(n: ast.Setting) -> str:
    return words(n.name, listing(n.values))


# The statements that are not clean rules (those print through their operator's `fmt`).
_STATEMENTS = {
    ast.Seed: _fmt_Seed, ast.Locale: _fmt_Locale, ast.Files: _fmt_Files, ast.Hub: _fmt_Hub, ast.Format: _fmt_Format,
    ast.Key: _fmt_Key, ast.Rename: _fmt_Rename, ast.Explode: _fmt_Explode, ast.AnnSetting: _fmt_AnnSetting,
    ast.SplitPart: _fmt_SplitPart, ast.Augmentation: _fmt_Augmentation, ast.Export: _fmt_Export,
    ast.MetricGate: _fmt_MetricGate, ast.LeakageGate: _fmt_LeakageGate, ast.Setting: _fmt_Setting,
}


# ── blocks: a header line, a body of statements, a `}` ────────────────────────────────────
def _header(block) -> tuple[str, str]:
    """The header line of a block (without ` {`) and the name of its body field."""
    match block:
        case ast.DatasetBlock():
            return words("dataset", block.name, "version", block.version), "body"
        case ast.SourceBlock():
            return words("source", block.name), "body"
        case ast.SchemaBlock():
            return "schema", "columns"
        case ast.CleanBlock():
            return "clean", "rules"
        case ast.AnnotateBlock():
            return words("annotate", block.field), "body"
        case ast.SplitBlock():
            return words("split by", block.key, *_options(block.options)), "parts"
        case ast.AugmentBlock():
            return "augment " + listing(block.splits), "rules"
        case ast.GateBlock():
            return "gate", "gates"
        case ast.FinetuneBlock():
            return words("finetune", block.method), "settings"
    raise TypeError(f"not a block: {type(block).__name__}")


def _body_lines(block, body: tuple) -> list[str]:
    if isinstance(block, ast.SchemaBlock):
        width = max((len(c.name.value) for c in body), default=0)
        return [_fmt_ColumnDecl(c, width) for c in body]
    return [_fmt(stmt) for stmt in body]


# ── layout: where comments and blank lines go ────────────────────────────────────────────
def _format(spec: ast.Spec, comments: Sequence[ast.Comment], closes: dict[int, int]) -> str:
    entries = _entries(canonical(spec), closes)
    trailer = _attach(entries, comments)
    return _render(entries, trailer)


def _empty_block_closes(spec: ast.Spec, source: SourceFile, comments: Sequence[ast.Comment]) -> dict[int, int]:
    """The line of the `}` of each block without statements (by block index), read from the text."""
    comment_at = {c.span.line: c.span.column for c in comments}
    closes = {}
    for index, block in enumerate(spec.blocks):
        if isinstance(block, ast.Export) or getattr(block, _header(block)[1]):
            continue
        line = block.span.line
        while line <= len(source.line_starts):
            text = source.line_text(line)
            code = text[: comment_at[line] - 1] if line in comment_at else text
            if code.strip().startswith("}"):
                break
            line += 1
        closes[index] = line
    return closes


@dataclass
class _Entry:
    """One printed line of code, the source lines it came from, and the comments that go with it."""

    text: str
    depth: int
    kind: str  # "open", "stmt", "close" or "export"
    first: int  # source line of its first token (0: unknown)
    last: int  # source line of its last token
    fuzzy: bool = False  # a `}` whose source line the AST does not record
    leading: list[ast.Comment] = field(default_factory=list)
    trailing: list[ast.Comment] = field(default_factory=list)


def _leaf_lines(value) -> Iterator[int]:
    """Source lines of the tokens under a node (its leaves are tokens; their spans are exact)."""
    if isinstance(value, (ast.Name, ast.Str, ast.Num)):
        yield value.span.line
    elif isinstance(value, ast.Node):
        for f in fields(value):
            if f.compare:
                yield from _leaf_lines(getattr(value, f.name))
    elif isinstance(value, tuple):
        for item in value:
            yield from _leaf_lines(item)


def _last_line(node: ast.Node, skip: str = "") -> int:
    parts = (getattr(node, f.name) for f in fields(node) if f.compare and f.name != skip)
    return max([node.span.line, *_leaf_lines(tuple(parts))])


def _entries(spec: ast.Spec, closes: dict[int, int]) -> list[_Entry]:
    entries = []
    for index, block in enumerate(spec.blocks):
        if isinstance(block, ast.Export):
            entries.append(_Entry(_fmt_Export(block), 0, "export", block.span.line, _last_line(block)))
            continue
        header, body_field = _header(block)
        body = getattr(block, body_field)
        entries.append(_Entry(header + " {", 0, "open", block.span.line, _last_line(block, skip=body_field)))
        for stmt, text in zip(body, _body_lines(block, body)):
            entries.append(_Entry(text, 1, "stmt", stmt.span.line, _last_line(stmt)))
        # The last statement's span runs through its end-of-line token, which stops at the `}` line.
        close = body[-1].span.end_line if body else closes.get(index, 0)
        entries.append(_Entry("}", 0, "close", close or block.span.line, close, fuzzy=not close))
    return entries


def _attach(entries: list[_Entry], comments: Sequence[ast.Comment]) -> list[ast.Comment]:
    """Give each comment to the entry it belongs to; return those left for the end of the file."""
    by_last = {e.last: e for e in entries if e.last > 0 and not e.fuzzy}
    firsts = [e.first for e in entries]
    trailer = []
    for comment in sorted(comments, key=lambda c: (c.span.line, c.span.column)):
        line = comment.span.line
        if line in by_last:
            by_last[line].trailing.append(comment)
            continue
        after = bisect.bisect_right(firsts, line)
        if after > 0 and entries[after - 1].fuzzy and comment.span.column > 1:
            entries[after - 1].leading.append(comment)
        elif after < len(entries):
            entries[after].leading.append(comment)
        else:
            trailer.append(comment)
    return trailer


@dataclass
class _Line:
    text: str
    first: int
    last: int
    blank: str  # blank line before it: "always", "never", or "keep" (one if the source had any)


def _render(entries: list[_Entry], trailer: list[ast.Comment]) -> str:
    lines: list[_Line] = []
    top = None  # what the last top-level item was: "block" or "export"
    previous = None
    for entry in entries:
        if entry.kind in ("open", "export"):
            apart = top == "block" or (top is not None and entry.kind == "open")
            policy = "always" if apart else "keep"
        else:
            policy = "never" if previous.kind == "open" else "keep"
        # Comments before a `}` are the block's last words: indent them like its statements.
        pad = INDENT if entry.depth or entry.kind == "close" else ""
        for comment in entry.leading:
            lines.append(_Line(pad + comment.text, comment.span.line, comment.span.line, policy))
            policy = "keep"
        code = INDENT * entry.depth + "  ".join([entry.text, *(c.text for c in entry.trailing)])
        first, last = (0, 0) if entry.fuzzy else (entry.first, entry.last)
        lines.append(_Line(code, first, last, "never" if entry.kind == "close" else policy))
        if entry.kind in ("close", "export"):
            top = "block" if entry.kind == "close" else "export"
        previous = entry
    policy = "always" if top == "block" else "keep"
    for comment in trailer:
        lines.append(_Line(comment.text, comment.span.line, comment.span.line, policy))
        policy = "keep"
    return _join(lines)


def _join(lines: list[_Line]) -> str:
    out = []
    for before, line in zip([None, *lines], lines):
        if before is not None and (
            line.blank == "always"
            or (line.blank == "keep" and before.last > 0 and line.first - before.last > 1)
        ):
            out.append("")
        out.append(line.text)
    return "\n".join(out) + "\n" if out else ""
