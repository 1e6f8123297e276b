"""What the language server answers, as plain functions of a document's text and a character offset.

Nothing here knows the protocol: offsets are character (code point) offsets into the text, and
`dsc.lsp.server` turns them into protocol positions (`dsc.lsp.positions`). Diagnostics and
formatting are `dsc check`'s and `dsc fmt`'s own (`dsc.api.compile_text`, `dsc.fmt.format_source`);
go to definition reads the AST (`dsc.ast.column_uses` and the schema's `ColumnDecl`s). Completion
and hover must work on text that does not parse yet, so they read the lines around the cursor.

The words completion offers come from where the language defines them: the clean rules' keywords
from the operator registry (`dsc.ops.OPERATORS`), the other statements and the options of each
statement from the grammar (`dsc/grammar/dspec.lark`), and the values an option takes from the
vocabularies the checks judge them by.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.resources import files
from pathlib import Path
from typing import Iterable

from dsc import ast
from dsc.api import Compiled, compile_text
from dsc.diagnostics import Diagnostic
from dsc.lsp import docs
from dsc.lsp.positions import span_offsets
from dsc.syntax.load import MAX_SPEC_BYTES, decode_source
from dsc.syntax.parser import BLOCK_KEYWORDS
from dsc.syntax.source import SourceFile

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD_CHARS = re.compile(r"[A-Za-z0-9_]")


# ── the grammar's words ─────────────────────────────────────────────────────────────────
@cache
def grammar_rules() -> dict[str, str]:
    """The rules of dspec.lark: name → body (alternatives joined, aliases `-> name` dropped).

    >>> grammar_rules()["locale_stmt"]
    ' "locale" NAME _NL'
    """
    text = files("dsc").joinpath("grammar/dspec.lark").read_text(encoding="utf-8")
    rules: dict[str, str] = {}
    current = None
    for raw in text.splitlines():
        line = re.sub(r"->\s*\w+", "", raw.split("//")[0])
        m = re.match(r"^[?!]?(_?[a-z][a-z0-9_]*)\s*:(.*)$", line)
        if m:
            current = m.group(1)
            rules[current] = m.group(2)
        elif current and line.strip().startswith("|"):
            rules[current] += " " + line.strip()
        elif not line.strip():
            current = None
    return rules


def _refs(body: str) -> list[str]:
    return [w for w in _WORD.findall(re.sub(r'"[^"]*"', " ", body)) if w in grammar_rules()]


def _literals(body: str) -> list[str]:
    return re.findall(r'"([a-z_]+)"', body)


def rule_words(rule: str, seen: set[str] | None = None) -> list[str]:
    """Every keyword a grammar rule (and the rules it uses) may hold, in order.

    >>> rule_words("hub_stmt")
    ['hub', 'split', 'revision', 'config']
    """
    seen = set() if seen is None else seen
    if rule in seen:
        return []
    seen.add(rule)
    body = grammar_rules()[rule]
    out = _literals(body)
    for ref in _refs(body):
        out += [w for w in rule_words(ref, seen) if w not in out]
    return out


def _statement_rules(rule: str) -> list[str]:
    """The statement rules a block's `_x_stmt` alternatives (or a block's own body) lead to."""
    out = []
    for ref in _refs(grammar_rules()[rule]):
        if ref.startswith("_") and ref.endswith("_stmt"):
            out += _statement_rules(ref)
        elif ref not in ("_close", "names", "values", "number", "strings"):
            out.append(ref)
    return out


@cache
def block_statements() -> dict[str, dict[str, str]]:
    """Block keyword → {statement keyword: its grammar rule}, for the statements that start with a
    keyword (a schema column, a gate metric or a split part starts with a name). The clean block's
    statements are the operators', keyed by their (one- or two-word) keyword.

    >>> sorted(block_statements()["source"])
    ['explode', 'files', 'format', 'hub', 'key', 'rename']
    >>> from dsc.ops import OPERATORS
    >>> set(block_statements()["clean"]) == {op.keyword for op in OPERATORS.values()} >= {"drop", "dedupe near"}
    True
    """
    from dsc.ops import OPERATORS

    out: dict[str, dict[str, str]] = {}
    for block in BLOCK_KEYWORDS:
        rule = f"{block}_stmt" if f"{block}_stmt" in grammar_rules() else f"{block}_block"
        out[block] = {}
        for stmt in _statement_rules(rule):
            words = _literals(grammar_rules()[stmt].split("|")[0])
            body = grammar_rules()[stmt].lstrip()
            if words and body.startswith(f'"{words[0]}"'):
                out[block][words[0]] = stmt
    out["clean"] = {op.keyword: op.grammar for op in OPERATORS.values()}
    return out


@cache
def grammar_words() -> frozenset[str]:
    """Every keyword of the grammar: the words its rules and terminals (`NOT: "not"`) spell out.

    >>> {"dataset", "dedupe", "near", "not", "where"} <= grammar_words()
    True
    """
    text = files("dsc").joinpath("grammar/dspec.lark").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() for w in _literals(line.split("//")[0]))


# The statements (and the `annotate` header) whose first word after the keyword is a column.
COLUMN_FIRST = ("normalize", "standardize", "replace", "strip", "key", "explode", "paraphrase", "backtranslate",
                "annotate")


# ── the values an option takes ──────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Item:
    """A completion: `kind` is "keyword", "value", "column", "locale", "currency" or "unit"."""

    label: str
    kind: str
    detail: str | None = None
    documentation: str | None = None


@cache
def locales() -> tuple[str, ...]:
    from babel.localedata import locale_identifiers

    return tuple(sorted(i for i in locale_identifiers() if i != "root"))


@cache
def currencies() -> tuple[str, ...]:
    from dsc.locale.money import currency_codes

    return tuple(sorted(currency_codes()))


@cache
def units() -> tuple[str, ...]:
    """The units a quantity rule may convert to: pint's unit names and symbols that have a
    dimension and are written as a name, and the SI prefixes on the common symbols."""
    from dsc.locale.units import parse_unit, registry

    reg = registry()
    names = [n for n in reg._units if _WORD.fullmatch(n)]  # pint lists its units only privately
    names += [p + s for p in ("k", "c", "m", "M", "G") for s in ("m", "g", "s", "L", "W", "Wh", "J", "Hz", "B")]
    out = []
    for name in dict.fromkeys(names):
        unit = parse_unit(name)
        if unit is not None and not unit.dimensionless:
            out.append(name)
    return tuple(sorted(out))


@cache
def vocabulary() -> dict[str, tuple[str, ...]]:
    """Option word → the words it takes, from the checks' own vocabularies."""
    from dsc.checks import annotation, finetune, options
    from dsc.checks.structure import SOURCE_FORMATS

    return {
        "on_error": options.ON_ERROR, "order": options.DATE_ORDERS, "keep": options.KEEP + ("by",),
        "ignoring": options.IGNORING, "else": options.OTHERWISE, "shape": options.SHAPES,
        "export": options.EXPORT_FORMATS, "as": options.STANDARD_KINDS, "tie": annotation.TIES,
        "below_threshold": annotation.BELOW_THRESHOLD, "finetune": finetune.METHODS,
        "precision": finetune.PRECISIONS, "optimizer": finetune.OPTIMIZERS, "loss": finetune.LOSSES,
        "source format": SOURCE_FORMATS, "annotate format": annotation.FORMATS,
        "clean resolve": options.RESOLVE, "annotate resolve": annotation.RESOLVE,
        "agreement": tuple(annotation.AGREEMENT_LEVELS), "where": options.MEASURE_FUNCS + options.TEST_FUNCS,
        "ngram unit": options.NGRAM_UNITS, "severity": tuple(rule_words("severity")), "keep by": options.DIRECTIONS,
    }


def _normalize_steps() -> tuple[str, ...]:
    from dsc.vocabulary import NORMALIZE_STEPS

    return NORMALIZE_STEPS


# ── a document ──────────────────────────────────────────────────────────────────────────
@dataclass
class Document:
    """An open spec: its text and where it lives (`path` None for an unsaved buffer).

    A leading byte-order mark is not part of the spec (`dsc check` reads files as `utf-8-sig`):
    the spec's offsets are one less than the document's after it (`shift`).
    """

    text: str
    path: Path | None = None
    display: str = "<spec>"

    @cached_property
    def shift(self) -> int:
        return 1 if self.text.startswith("\ufeff") else 0

    @cached_property
    def source(self) -> SourceFile:
        return SourceFile(str(self.path) if self.path else self.display, self.text[self.shift:])

    @cached_property
    def compiled(self) -> Compiled:
        """`dsc check`'s result for this text (the spec's folder as the base of its paths)."""
        data = self.source.text.encode("utf-8", "surrogatepass")
        if len(data) > MAX_SPEC_BYTES or b"\x00" in data:  # what `dsc check` refuses to read (DSC100)
            return Compiled(None, diagnostics=decode_source(data, self.source.path)[1])
        return compile_text(self.source, base_dir=self.path.parent if self.path else None)

    @property
    def spec(self) -> ast.Spec | None:
        return self.compiled.spec


def diagnostics(doc: Document) -> list[tuple[Diagnostic, tuple[int, int] | None]]:
    """`dsc check`'s diagnostics, in its order, each with the document offsets it is about (None: the
    whole file).

    >>> doc = Document("schema {\\n  prompt : text\\n}\\nclean {\\n  drop where empty(promt)\\n}\\n")
    >>> [(d.code, d.message, d.hint, where) for d, where in diagnostics(doc) if d.code == "DSC201"]
    [('DSC201', "unknown column 'promt'", "did you mean 'prompt'?", (54, 59))]
    """
    from dsc.ci import ordered

    out = []
    for diag in ordered(doc.compiled.diagnostics):
        where = span_offsets(diag.span, doc.source) if doc.compiled.source is not None else None
        out.append((diag, None if where is None else (where[0] + doc.shift, where[1] + doc.shift)))
    return out


def formatted(doc: Document) -> str | None:
    """`dsc fmt`'s text for the document (None when it does not parse: nothing to format).

    >>> formatted(Document("gate{\\n dropped<=20 %\\n}"))
    'gate {\\n  dropped <= 20%\\n}\\n'
    """
    from dsc.fmt import format_source

    text, _ = format_source(doc.source)
    if text is None:
        return None
    return ("\ufeff" if doc.shift else "") + text


# ── the cursor's surroundings ───────────────────────────────────────────────────────────
def mask(line: str) -> tuple[str, str | None]:
    """A line with its strings' contents and its comment blanked (offsets kept), and what the end
    of the line is inside: "string", "comment" or None.

    >>> mask('files "a # b" # c')
    ('files "     "    ', 'comment')
    >>> mask('tasks "todo')
    ('tasks "    ', 'string')
    """
    out = []
    state = None
    i = 0
    while i < len(line):
        ch = line[i]
        if state == "string":
            if ch == "\\" and i + 1 < len(line):
                out.append("  ")
                i += 2
                continue
            if ch == '"':
                state = None
                out.append(ch)
            else:
                out.append(" ")
        elif state == "comment":
            out.append(" ")
        elif ch == '"':
            state = "string"
            out.append(ch)
        elif ch == "#":
            state = "comment"
            out.append(" ")
        else:
            out.append(ch)
        i += 1
    return "".join(out), state


@dataclass(frozen=True)
class Context:
    """Where the cursor is: the block it is in (its keyword, None at the top level, and the block
    header's words), the words of its line before the word it is on, and that word's start."""

    block: str | None
    header: tuple[str, ...]
    before: tuple[str, ...]
    masked: str  # the line up to the word the cursor is on, strings and comment blanked
    word_start: int  # document offset
    inside: str | None  # "string" or "comment" when the cursor is in one


def context(text: str, offset: int) -> Context:
    """The cursor's surroundings, read from the lines (the text need not parse).

    >>> c = context("clean {\\n  dedupe near on prompt ke", 34)
    >>> c.block, c.before, c.masked, c.word_start
    ('clean', ('dedupe', 'near', 'on', 'prompt'), '  dedupe near on prompt ', 32)
    """
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    block, header = None, ()
    for raw in text[:line_start].split("\n"):
        code, _ = mask(raw)
        opens, closes = code.count("{"), code.count("}")
        words = tuple(_WORD.findall(code))
        if words and words[0] in BLOCK_KEYWORDS and not raw[:1].isspace() and opens > closes:
            block, header = words[0], words
        elif block and closes > opens:
            block, header = None, ()
    code, inside = mask(text[line_start:offset])
    start = len(code)
    while start > 0 and _WORD_CHARS.match(code[start - 1]):
        start -= 1
    return Context(block, header, tuple(_WORD.findall(code[:start])), code[:start], line_start + start, inside)


def word_at(text: str, offset: int) -> tuple[str, int, int] | None:
    """The name the offset is on or just after, with its offsets; None in a string or a comment.

    >>> word_at("  dedupe near on prompt", 10), word_at('files "a b"', 8)
    (('near', 9, 13), None)
    """
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line = text[line_start: len(text) if line_end < 0 else line_end]
    code, _ = mask(line)
    at = offset - line_start
    for m in _WORD.finditer(code):
        if m.start() <= at <= m.end():
            return m.group(), line_start + m.start(), line_start + m.end()
    return None


def schema_columns(text: str) -> dict[str, tuple[str, int, int]]:
    """The columns the text's schema block declares: name → (its declaration line, the name's
    offsets). Read from the lines, so it works while the spec does not parse.

    >>> schema_columns("schema {\\n  prompt : text required\\n}\\n")
    {'prompt': ('prompt : text required', 11, 17)}
    """
    out: dict[str, tuple[str, int, int]] = {}
    in_schema = False
    pos = 0
    for raw in text.split("\n"):
        code, _ = mask(raw)
        words = _WORD.findall(code)
        if words[:1] == ["schema"] and not raw[:1].isspace():
            in_schema = "{" in code
        elif in_schema and code.strip().startswith("}"):
            in_schema = False
        elif in_schema:
            m = re.match(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*:", code)
            if m and m.group(2) not in out:
                out[m.group(2)] = (raw.strip().split("#")[0].strip() if "#" in code else raw.strip(),
                                   pos + len(m.group(1)), pos + m.end(2))
        pos += len(raw) + 1
    return out


# ── completion ──────────────────────────────────────────────────────────────────────────
def _keywords(words: Iterable[str], detail: str, block: str | None = None) -> list[Item]:
    out = []
    for w in words:
        piece = docs.lookup(w, block)
        out.append(Item(w, "keyword", detail, docs.render(w, piece) if piece else None))
    return out


def _values(words: Iterable[str], detail: str) -> list[Item]:
    return [Item(w, "value", detail) for w in words]


def _columns(text: str) -> list[Item]:
    return [Item(name, "column", decl) for name, (decl, _, _) in schema_columns(text).items()]


def _locales() -> list[Item]:
    return [Item(name, "locale", "locale") for name in locales()]


def _statement_options(block: str | None, before: tuple[str, ...]) -> list[str]:
    """The option words of the statement (or block header) the cursor is in, from the grammar."""
    if not before:
        return []
    statements = block_statements().get(block or "", {})
    if block is None:
        rule = next((r for r in (f"{before[0]}_block", f"{before[0]}_stmt") if r in grammar_rules()), None)
    else:
        key = " ".join(before[:2]) if " ".join(before[:2]) in statements else before[0]
        rule = statements.get(key)
        if rule is None and block == "gate":
            rule = "leakage_gate" if before[0] == "leakage" else "metric_gate"
    if rule is None:
        return []
    words = rule_words(rule)
    if before[0] == "dedupe" and len(before) > 1:  # the options the mode reads (the others are DSC217)
        from dsc.checks.options import DEDUPE_OPTIONS

        allowed = {w for option in DEDUPE_OPTIONS.get(before[1], ()) for w in option.split("_")}
        words = [w for w in words if (w in allowed and w != "by") or w == "on"]  # `by` follows `keep`
    return [w for w in dict.fromkeys(words) if w not in before]  # an option is given once (DSC214)


def completions(doc: Document, offset: int) -> list[Item]:
    """What may be written at the offset: keywords, option words, values, columns.

    >>> text = "schema {\\n  prompt : text\\n}\\nclean {\\n  dedupe exact on "
    >>> sorted(i.label for i in completions(Document(text), len(text)))
    ['prompt']
    >>> from dsc.ops import OPERATORS
    >>> {i.label for i in completions(Document("clean {\\n  "), 10)} == {op.keyword for op in OPERATORS.values()}
    True
    """
    text = doc.text
    ctx = context(text, offset)
    if ctx.inside:
        return []
    block, before = ctx.block, ctx.before
    if block is None and not before:
        return _keywords(BLOCK_KEYWORDS, "block")
    if not before:
        if block == "gate":
            from dsc.checks.gates import METRICS

            return _keywords([*METRICS, "leakage"], "gate")
        if block == "finetune":
            from dsc.checks.finetune import SETTINGS

            method = ctx.header[1] if len(ctx.header) > 1 else ""
            table = SETTINGS.get(method) or {k: v for t in SETTINGS.values() for k, v in t.items()}
            return _keywords(table, f"{method or 'finetune'} setting", block)
        if block in ("schema", "split"):
            return []
        return _keywords(block_statements()[block], f"{block} statement", block)
    return _after(doc, ctx) or []


def _after(doc: Document, ctx: Context) -> list[Item] | None:
    """Completions inside a statement: what its previous word takes, else its options and columns."""
    block, before, code = ctx.block, ctx.before, ctx.masked
    prev, first = before[-1], before[0]
    vocab = vocabulary()
    if code.rstrip().endswith(","):  # in a list: what the word that opened it takes
        heads = [w for w in before if w in grammar_words()]
        prev = heads[-1] if heads else prev
    if (prev == "on" or (prev == first and first in COLUMN_FIRST)
            or (first == "conflicts" and code.rstrip().endswith("->"))):
        return _columns(doc.text)
    opened = code.rfind("["), code.rfind("]"), code.rfind("{"), code.rfind("}")
    if opened[0] > opened[1]:  # `from [de_DE, …`
        return _locales()
    if opened[2] > opened[3] and "rates" in before:  # `rates {USD 0.92, …`
        return [Item(c, "currency", "currency") for c in currencies()]
    if block is None and first == "finetune" and len(before) == 1:
        return _values(vocab["finetune"], "method")
    if block is None and first == "export" and len(before) == 1:
        return _values(vocab["export"], "export format")
    if block is None and prev in ("by", "stratify") and first == "split":
        return _columns(doc.text)
    if prev in ("locale", "via") or (block == "augment" and "via" in before and code.rstrip().endswith(",")):
        return _locales()
    if prev in ("money",) and "as" in before:
        return [Item(c, "currency", "currency") for c in currencies()]
    if prev in ("quantity",) and "as" in before:
        return [Item(u, "unit", "unit") for u in units()]
    if block == "clean" and first == "normalize" and ":" in code:
        return _values(_normalize_steps(), "normalize step")
    if prev == "dedupe":
        return _values(("exact", "near", "fuzzy"), "dedupe mode")
    if prev in ("where", "not") and first == "drop":
        return _values(vocab["where"], "test") + _keywords(["not"], "keyword", block) + _columns(doc.text)
    if prev in ("format", "resolve") and block in ("source", "annotate", "clean"):
        return _values(vocab.get(f"{block} {prev}", ()), prev)
    if re.search(r"\bngram\s+[0-9]+\s*$", code):
        return _values(vocab["ngram unit"], "n-gram unit")
    if len(before) >= 3 and before[-3:-1] == ("keep", "by"):
        return _values(vocab["keep by"], "order")
    if prev == "keep" or (prev in vocab and prev not in ("export", "finetune", "as", "where")):
        return _values(vocab.get(prev, ()), prev)
    if prev == "as" and first == "standardize":
        return _values(vocab["as"], "kind")
    if block == "finetune" and first in ("precision", "optimizer", "loss"):
        return _values(vocab[first], first)
    if block == "gate" and re.search(r"(<=|>=|==|!=|<|>)\s*[-0-9.]+%?\s*$", code[: len(code)]):
        return _values(vocab["severity"], "severity")
    if block == "gate" and first == "leakage":
        return _keywords(["jaccard"], "keyword", block)
    if block == "annotate" and prev == "agreement":
        return _values(vocab["agreement"], "agreement metric")
    if block in ("schema", "split", "gate", "finetune", "dataset"):
        return []
    columns = _columns(doc.text) if block == "clean" else []
    return _keywords(_statement_options(block, before), "option", block) + columns


# ── hover and definition ────────────────────────────────────────────────────────────────
def _column_use(doc: Document, offset: int) -> tuple[ast.Name, ast.ColumnDecl | None] | None:
    """The column use at a document offset (from the AST), and its declaration in the schema."""
    spec = doc.spec
    if spec is None:
        return None
    at = offset - doc.shift
    for name, _ in ast.column_uses(spec):
        if name.span.line and name.span.start <= at <= name.span.end:
            decls = [c for s in spec.of(ast.SchemaBlock) for c in s.columns if c.name.value == name.value]
            return name, (decls[0] if decls else None)
    return None


def definition(doc: Document, offset: int) -> tuple[int, int] | None:
    """The document offsets of the schema name a column use at `offset` declares, or None.

    >>> doc = Document("schema {\\n  prompt : text\\n}\\nclean {\\n  drop where empty(prompt)\\n}\\n")
    >>> definition(doc, doc.text.rindex("prompt") + 2)
    (11, 17)
    """
    found = _column_use(doc, offset)
    if found is None or found[1] is None:
        return None
    span = found[1].name.span
    return span.start + doc.shift, span.end + doc.shift


@cache
def hover_words() -> frozenset[str]:
    """The words hover explains: the grammar's keywords, the option values, the gate metrics, the
    fine-tuning settings and the column types."""
    from dsc.checks.annotation import AGREEMENT_LEVELS
    from dsc.checks.common import COLUMN_TYPES
    from dsc.checks.finetune import SETTINGS
    from dsc.checks.gates import METRICS

    words = set(grammar_words()) | {w for levels in AGREEMENT_LEVELS.values() for w in levels}
    words |= {w for values in vocabulary().values() for w in values}
    words |= set(METRICS) | {k for t in SETTINGS.values() for k in t} | set(_normalize_steps())
    words |= set(COLUMN_TYPES)
    return frozenset(words)


def hover(doc: Document, offset: int) -> tuple[str, tuple[int, int]] | None:
    """Markdown about the word at `offset` and its offsets: a column's schema line, or a keyword's
    documentation from docs/language.md.

    >>> text, where = hover(Document("clean {\\n  dedupe near on prompt\\n}\\n"), 13)
    >>> text.splitlines()[0], where
    ('**dedupe near** — *docs/language.md: clean — rules, run top to bottom*', (10, 21))
    """
    found = word_at(doc.text, offset)
    if found is None:
        return None
    word, start, end = found
    use = _column_use(doc, offset)
    columns = schema_columns(doc.text)
    if use is not None or (doc.spec is None and word in columns and word not in hover_words()):
        decl = columns.get(word)
        if decl is None:
            return f"column `{word}` — not declared in the schema", (start, end)
        return f"column **{word}**\n\n```dspec\n{decl[0]}\n```", (start, end)
    if word not in hover_words():
        return None
    ctx = context(doc.text, start)
    word, start, end = _multiword(doc.text, word, start, end)
    block = ctx.block
    if block is None and ctx.before and ctx.before[0] in BLOCK_KEYWORDS:  # a block's header line: that block
        block = ctx.before[0]
    text = docs.hover(word, block if ctx.before or word not in BLOCK_KEYWORDS else None)
    return (text, (start, end)) if text else None


def _multiword(text: str, word: str, start: int, end: int) -> tuple[str, int, int]:
    """`dedupe` with the word after it (or `near` with `dedupe` before it) when the pair is an
    operator's keyword."""
    keywords = [k for k in block_statements()["clean"] if " " in k]
    after = re.match(r"[ \t]+([A-Za-z_][A-Za-z0-9_]*)", text[end:])
    if after and f"{word} {after.group(1)}" in keywords:
        return f"{word} {after.group(1)}", start, end + after.end()
    before = re.search(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]+$", text[:start])
    if before and f"{before.group(1)} {word}" in keywords:
        return f"{before.group(1)} {word}", before.start(1), end
    return word, start, end

