"""The shape of a spec: which blocks it has, which it repeats, and what each source must say."""
from __future__ import annotations

from dsc import ast
from dsc.checks.common import at_line, error, first_seen, head, unknown_value, warning
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic
from dsc.syntax.source import NO_SPAN

# Blocks a spec may hold at most once; the keyword each starts with.
SINGLETONS = {
    ast.DatasetBlock: "dataset",
    ast.SchemaBlock: "schema",
    ast.CleanBlock: "clean",
    ast.SplitBlock: "split",
    ast.GateBlock: "gate",
}
SOURCE_FORMATS = ("jsonl", "json", "csv", "parquet")


def check_blocks(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Repeated singleton blocks (DSC202), and the blocks every spec needs (DSC212, DSC220).

    A spec without a `source` cannot run (an error); one without a `dataset` header has no
    name, version or seed (a warning); one without a `schema` cannot have its column names
    checked (a warning, DSC220, reported once at the top).
    """
    out: list[Diagnostic] = []
    for kind, word in SINGLETONS.items():
        blocks = spec.of(kind)
        for extra in blocks[1:]:
            out.append(error("DSC202", f"a second '{word}' block", head(extra, word),
                             f"the first is {at_line(blocks[0])}; merge them into one"))
    if not spec.of(ast.SourceBlock):
        out.append(error("DSC212", "the spec has no 'source' block", NO_SPAN,
                         "add a block 'source NAME { … }' that says where the rows come from, "
                         'e.g. files "data/*.jsonl"'))
    if not spec.of(ast.DatasetBlock):
        out.append(warning("DSC212", "the spec has no 'dataset' header", NO_SPAN,
                           "start the spec with 'dataset NAME version 1 { … }' holding its seed and default locale"))
    if not spec.of(ast.SchemaBlock):
        out.append(warning("DSC220", "the spec has no 'schema' block: column names are not checked", NO_SPAN,
                           "add a block 'schema { … }' that declares each column, e.g. prompt : text required"))
    return out


def check_header(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """`seed` and `locale` at most once each in the dataset header (DSC214)."""
    out: list[Diagnostic] = []
    for block in spec.of(ast.DatasetBlock):
        items = [(type(stmt).__name__.lower(), stmt) for stmt in block.body]
        for repeat, first in first_seen(items):
            word = type(repeat).__name__.lower()
            out.append(error("DSC214", f"'{word}' is given twice in the dataset header", head(repeat, word),
                             f"the first is {at_line(first, repeat)}; keep one"))
    return out


def check_sources(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Each source reads from exactly one place and names it once.

    A source has `files` or `hub`, not both and not neither (DSC212, DSC214); a hub dataset
    without a pinned `revision` gets a warning (the data could change under the same spec);
    `format` names a known reader and only applies to files; `files`, `hub`, `format`, `key`
    and `explode` are given at most once, and so is each option of `hub` (DSC214); two
    sources may not share a name (DSC202).
    """
    out: list[Diagnostic] = []
    sources = spec.of(ast.SourceBlock)
    for repeat, first in first_seen((s.name.value, s.name) for s in sources):
        out.append(error("DSC202", f"two sources are named '{repeat.value}'", repeat.span,
                         f"the first is {at_line(first, repeat)}; give each source its own name"))
    for source in sources:
        out += _source(source)
    return out


_WORD = {ast.Files: "files", ast.Hub: "hub", ast.Format: "format", ast.Key: "key", ast.Explode: "explode"}
# What to do about a repeat, after where the first one is; the default is to merge the two.
_REPEAT_HINTS = {"explode": "a source explodes one list column; keep one"}
_HUB_HINTS = {
    "split": "keep one, or declare a second source for the other split",
    "revision": "keep one: a hub dataset is read at one revision",
    "config": "keep one, or declare a second source for the other config",
}


def _source(source: ast.SourceBlock) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    single = [(_WORD[type(s)], s) for s in source.body if type(s) in _WORD]
    for repeat, first in first_seen(single):
        word = _WORD[type(repeat)]
        hint = _REPEAT_HINTS.get(word, "list everything in one statement")
        out.append(error("DSC214", f"'{word}' is given twice in source '{source.name.value}'", head(repeat, word),
                         f"the first is {at_line(first, repeat)}; {hint}"))
    files = [s for s in source.body if isinstance(s, ast.Files)]
    hubs = [s for s in source.body if isinstance(s, ast.Hub)]
    if not files and not hubs:
        out.append(error("DSC212", f"source '{source.name.value}' does not say where its rows come from",
                         source.name.span, 'add files "data/*.jsonl" or hub "org/name" revision "…"'))
    if files and hubs:
        out.append(error("DSC214", f"source '{source.name.value}' has both 'files' and 'hub'", head(hubs[0], "hub"),
                         "a source reads from one place; declare a second source for the other"))
    for hub in hubs:
        for repeat, first in first_seen((o.key, o) for o in hub.options):
            where = at_line(first, repeat)
            out.append(error("DSC214", f"'{repeat.key}' is given twice in hub '{hub.id.value}'",
                             head(repeat, repeat.key), f"the first is {where}; {_HUB_HINTS[repeat.key]}"))
        if hub.revision is None:
            out.append(warning("DSC212", f"hub dataset '{hub.id.value}' is not pinned to a revision", hub.id.span,
                               'add revision "<commit sha>" so the same spec always reads the same rows'))
    for fmt in (s for s in source.body if isinstance(s, ast.Format)):
        out += unknown_value(fmt.value, "source format", SOURCE_FORMATS)
        if hubs and not files:
            out.append(error("DSC217", "'format' applies to files, not to a hub dataset", head(fmt, "format"),
                             "remove it; the hub dataset's own format is used"))
    return out + _renames(source)


def _renames(source: ast.SourceBlock) -> list[Diagnostic]:
    """A column renamed twice, or two columns renamed to one name, loses data (DSC214, DSC202)."""
    out: list[Diagnostic] = []
    renames = [s for s in source.body if isinstance(s, ast.Rename)]
    for repeat, first in first_seen((r.old.value, r.old) for r in renames):
        out.append(error("DSC214", f"column '{repeat.value}' is renamed twice", repeat.span,
                         f"the first rename is {at_line(first, repeat)}"))
    for repeat, first in first_seen((r.new.value, r.new) for r in renames):
        out.append(error("DSC202", f"two columns are renamed to '{repeat.value}'", repeat.span,
                         f"the first is {at_line(first, repeat)}; one of them would be lost"))
    return out
