"""AST of a .dspec file. Each node names the construct it stands for.

Spans are kept out of equality (``compare=False``), so two specs that differ only in layout
or comments compare equal. Numbers are ``Decimal`` (never floats) and remember whether they
were written as a percentage, so ``fmt`` can print them back as written.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Iterator

from dsc.syntax.source import NO_SPAN, Span

# Functions of `drop where` that measure text (so their column must be text).
from dsc.kernels.quality import MEASURES as _TEXT_MEASURES  # noqa: E402 (imports no pyarrow)
TEXT_FUNCS = ("tokens", "empty", "has_pii", *_TEXT_MEASURES)


def column(text: str | None = None, *, unique: bool = False):
    """A field that names schema column(s). `text` says, for people, which use needs the column
    to hold text (e.g. "normalize"); `unique`: a list in which a repeat is an error (DSC202).

    The checks read these roles through `Node.column_uses` and `Node.name_lists`, so a new node
    declares its columns here once and gets the unknown-column, text-type and repeat checks."""
    return field(metadata={"column": True, "text": text, "unique": unique})


def unique():
    """A list field (of names that are not columns) in which a repeat is an error (DSC202)."""
    return field(metadata={"unique": True})


def keyword(*choices: str):
    """A name field that takes one of a fixed set of keywords (`suffix`, `prefix`)."""
    return field(metadata={"choices": choices})


def pattern():
    """A string field holding an RE2 pattern: the regex checks (DSC216) read every such field."""
    return field(metadata={"pattern": True})


@dataclass(frozen=True)
class Node:
    """A node of the AST. Its fields are its children; their roles (a column, a pattern, a list
    without repeats) are declared with `column()`, `pattern()` and `unique()`, and read by one
    generic `walk()`."""

    span: Span = field(default=NO_SPAN, compare=False, repr=False, kw_only=True)

    def children(self) -> Iterator["Node"]:
        """The direct child nodes, in field (= source) order."""
        for f in fields(self):
            value = getattr(self, f.name)
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, Node):
                    yield item

    def walk(self) -> Iterator["Node"]:
        """This node and every node below it, depth first, in source order."""
        yield self
        for child in self.children():
            yield from child.walk()

    def _role(self, key: str) -> Iterator[tuple[object, dict]]:
        for f in fields(self):
            if f.metadata.get(key):
                yield getattr(self, f.name), f.metadata

    def column_uses(self) -> Iterator[tuple["Name", str | None]]:
        """The columns this node itself names, each with the use that needs text (or None)."""
        for value, meta in self._role("column"):
            for name in value if isinstance(value, tuple) else (value,):
                if isinstance(name, Name):
                    yield name, meta["text"]

    def name_lists(self) -> Iterator[tuple["Name", ...]]:
        """This node's lists in which a name may not repeat."""
        for value, _ in self._role("unique"):
            yield value

    def regexes(self) -> Iterator["Str"]:
        """This node's RE2 pattern strings."""
        for value, _ in self._role("pattern"):
            yield value


def column_uses(node: Node) -> Iterator[tuple["Name", str | None]]:
    """Every column named anywhere in `node`, in source order, with its text use (or None)."""
    for n in node.walk():
        yield from n.column_uses()


def name_lists(node: Node) -> Iterator[tuple["Name", ...]]:
    """Every list in `node` in which a repeat is an error."""
    for n in node.walk():
        yield from n.name_lists()


def regexes(node: Node) -> Iterator["Str"]:
    """Every RE2 pattern string in `node`."""
    for n in node.walk():
        yield from n.regexes()


def names(items) -> list[str]:
    """The text of a sequence of names."""
    return [n.value for n in items]


def plain(v: "Value"):
    """A value as the plan holds it: a percentage as its fraction, a number as its Decimal."""
    if isinstance(v, Num):
        return v.fraction if v.percent else v.value
    return v.value


@dataclass(frozen=True)
class Name(Node):
    """An identifier: a column, locale, unit, keyword-like option value."""

    value: str


@dataclass(frozen=True)
class Str(Node):
    """A double-quoted string literal (value without quotes, escapes resolved)."""

    value: str


@dataclass(frozen=True)
class Num(Node):
    """A number literal; `percent` when written like `20%` (value is then 20, not 0.2)."""

    value: Decimal
    percent: bool = False

    @property
    def fraction(self) -> Decimal:
        return self.value / 100 if self.percent else self.value


Value = Name | Str | Num


class FirstOption:
    """A read-only attribute of a node with `options`: the value of its first option named like
    the attribute, or None (a repeat is DSC214; the checks see every option).

    >>> Hub(Str("org/x"), (HubOption("split", Name("a")), HubOption("split", Name("b")))).split.value
    'a'
    """

    def __set_name__(self, owner, name: str) -> None:
        self.key = name

    def __get__(self, node, owner=None):
        if node is None:
            return self
        return next((o.value for o in node.options if o.key == self.key), None)


# ── header ──────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Seed(Node):
    """`seed 1234` in the dataset header."""

    value: Num


@dataclass(frozen=True)
class Locale(Node):
    """`locale en_US` in the dataset header."""

    value: Name


@dataclass(frozen=True)
class DatasetBlock(Node):
    """`dataset NAME version N { … }`: the header."""

    name: Name
    version: Num
    body: tuple[Seed | Locale, ...]


# ── source ──────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Files(Node):
    """`files "a/*.jsonl", "b.json"`."""

    patterns: tuple[Str, ...]


@dataclass(frozen=True)
class HubOption(Node):
    """One option of `hub`: split / revision / config."""

    key: str
    value: Name | Str


@dataclass(frozen=True)
class Hub(Node):
    """`hub "org/name" split train revision "sha" config NAME`.

    The options are kept as written, repeats included, so that a check can report a repeat
    (DSC214); `split`, `revision` and `config` read the first of each.
    """

    id: Str
    options: tuple[HubOption, ...] = ()

    split = FirstOption()
    revision = FirstOption()
    config = FirstOption()


@dataclass(frozen=True)
class Format(Node):
    """`format jsonl`."""

    value: Name


@dataclass(frozen=True)
class Key(Node):
    """`key col, col`: the row key (row ids come from it)."""

    columns: tuple[Name, ...] = column(unique=True)


@dataclass(frozen=True)
class Rename(Node):
    """`rename old -> new`."""

    old: Name
    new: Name


@dataclass(frozen=True)
class Explode(Node):
    """`explode instances`: one row per element of a list column."""

    column: Name


@dataclass(frozen=True)
class SourceBlock(Node):
    """`source NAME { … }`."""

    name: Name
    body: tuple[Files | Hub | Format | Key | Rename | Explode, ...]


# ── schema ──────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class ColumnDecl(Node):
    """`name : type [required] [unique]`; `labels` is set for `label {a, b}`."""

    name: Name
    type: Name
    labels: tuple[Value, ...] | None = None
    modifiers: tuple[Name, ...] = ()


@dataclass(frozen=True)
class SchemaBlock(Node):
    """`schema { … }`."""

    columns: tuple[ColumnDecl, ...]


# ── clean ───────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Normalize(Node):
    """`normalize col, col: step, step`."""

    columns: tuple[Name, ...] = column("normalize", unique=True)
    steps: tuple[Name, ...]


@dataclass(frozen=True)
class MeasurePred(Node):
    """`words(col) < 3`, `chars(col) >= 10`, `tokens(col) > 512`."""

    func: Name
    column: Name
    op: Name
    value: Num

    def column_uses(self):
        yield self.column, f"{self.func.value}()" if self.func.value in TEXT_FUNCS else None


@dataclass(frozen=True)
class TestPred(Node):
    """`empty(col)`, `null(col)`."""

    func: Name
    column: Name

    column_uses = MeasurePred.column_uses


@dataclass(frozen=True)
class MatchesPred(Node):
    """`col matches "regex"`."""

    column: Name = column("matches")
    pattern: Str = pattern()


@dataclass(frozen=True)
class InPred(Node):
    """`col in {a, b}` / `col not in {…}`."""

    column: Name = column()
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True)
class LangPred(Node):
    """`lang(col) [not] in {en, und} [confidence >= 0.8]`: the column's detected language."""

    func: Name
    column: Name = column("lang()")
    values: tuple[Value, ...]
    negated: bool = False
    option: Name | None = None
    op: Name | None = None
    confidence: Num | None = None


Predicate = MeasurePred | TestPred | MatchesPred | InPred | LangPred


@dataclass(frozen=True)
class Drop(Node):
    """`drop where [not]… predicate`."""

    predicate: Predicate
    negations: int = 0


@dataclass(frozen=True)
class Rate(Node):
    """`USD 0.92` inside `rates {…}`: one unit of USD is worth 0.92 of the target."""

    currency: Name
    value: Num


@dataclass(frozen=True)
class StdOption(Node):
    """One option of `standardize`: from / locale / order / base / rates / years / on_error."""

    key: str
    values: tuple[Name | Str | Rate, ...]


@dataclass(frozen=True)
class Standardize(Node):
    """`standardize col as TYPE [target] options…`."""

    column: Name = column()
    kind: Name
    target: Name | Str | None
    options: tuple[StdOption, ...] = ()


@dataclass(frozen=True)
class DedupeOption(Node):
    """One option of `dedupe`: ignoring / jaccard / ngram / permutations / bands / keep / pairs / threshold."""

    key: str
    values: tuple[Value, ...]

    def column_uses(self):
        if self.key == "keep_by" and isinstance(self.values[0], Name):
            yield self.values[0], None


@dataclass(frozen=True)
class Dedupe(Node):
    """`dedupe exact|near|fuzzy on cols options…`."""

    mode: Name
    columns: tuple[Name, ...] = column(unique=True)
    options: tuple[DedupeOption, ...] = ()

    def column_uses(self):
        use = "dedupe near" if self.mode.value == "near" else None
        yield from ((name, use) for name in self.columns)


@dataclass(frozen=True)
class Conflicts(Node):
    """`conflicts on cols -> target resolve POLICY [else POLICY]`."""

    columns: tuple[Name, ...] = column(unique=True)
    target: Name = column()
    resolve: Name
    otherwise: Name | None = None


CleanRule = Normalize | Drop | Standardize | Dedupe | Conflicts


@dataclass(frozen=True)
class CleanBlock(Node):
    """`clean { … }`: rules run top to bottom."""

    rules: tuple[CleanRule, ...]


# ── annotate ────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class AnnSetting(Node):
    """One line of an `annotate` block; `key` is its keyword, `op` its comparison if any."""

    key: str
    values: tuple[Value | None, ...]
    op: Name | None = None


@dataclass(frozen=True)
class AnnotateBlock(Node):
    """`annotate FIELD { … }`."""

    field: Name = column()
    body: tuple[AnnSetting, ...]


# ── split ───────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class SplitPart(Node):
    """`train 0.9` inside `split`."""

    name: Name
    fraction: Num


@dataclass(frozen=True)
class SplitOption(Node):
    """One option of a `split` header: stratify / seed."""

    key: str
    value: Name | Num

    def column_uses(self):
        if self.key == "stratify" and isinstance(self.value, Name):
            yield self.value, None


@dataclass(frozen=True)
class SplitBlock(Node):
    """`split by KEY [stratify COL] [seed N] { … }`.

    The header options are kept as written, repeats included (a repeat is DSC214);
    `stratify` and `seed` read the first of each.
    """

    key: Name = column()
    options: tuple[SplitOption, ...]
    parts: tuple[SplitPart, ...]

    stratify = FirstOption()
    seed = FirstOption()


# ── augment ─────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class AugOption(Node):
    """One option of an augmentation: ratio / using / endpoint / model / key_env / template / concurrency /
    min_similarity / max_similarity / min_length_ratio / max_length_ratio."""

    key: str
    value: Value


@dataclass(frozen=True)
class Augmentation(Node):
    """`paraphrase COL …` or `backtranslate COL via de, fr …`."""

    method: Name
    column: Name
    pivots: tuple[Name, ...] = field(default=(), metadata={"unique": True})
    options: tuple[AugOption, ...] = ()

    def column_uses(self):
        yield self.column, self.method.value


@dataclass(frozen=True)
class AugmentBlock(Node):
    """`augment SPLIT, … { … }`."""

    splits: tuple[Name, ...] = unique()
    rules: tuple[Augmentation, ...]


# ── export ──────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class ExportOption(Node):
    """One option of `export`: shape / template."""

    key: str
    value: Name | Str


@dataclass(frozen=True)
class Export(Node):
    """`export FORMAT "path/{split}.ext" [shape NAME] [template "file.j2"]`.

    The options are kept as written, repeats included (a repeat is DSC214); `shape` and
    `template` read the first of each.
    """

    format: Name
    path: Str
    options: tuple[ExportOption, ...] = ()

    shape = FirstOption()
    template = FirstOption()


# ── gate ────────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class MetricGate(Node):
    """`metric[(args)] CMP value [warn|error]`; the argument may be a string (`contaminated("x.jsonl")`)."""

    metric: Name
    args: tuple[Name | Str, ...]
    op: Name
    value: Num
    severity: Name | None = None


@dataclass(frozen=True)
class LeakageGate(Node):
    """`leakage A, B jaccard >= T [warn|error]`: no near-duplicate pair across two splits."""

    left: Name
    right: Name
    op: Name
    threshold: Num
    severity: Name | None = None


@dataclass(frozen=True)
class GateBlock(Node):
    """`gate { … }`."""

    gates: tuple[MetricGate | LeakageGate, ...]


# ── finetune ────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Setting(Node):
    """`name value[, value…]` inside `finetune`."""

    name: Name
    values: tuple[Value, ...]


@dataclass(frozen=True)
class FinetuneBlock(Node):
    """`finetune full|lora|prompt_tuning { … }`."""

    method: Name
    settings: tuple[Setting, ...]


Block = (
    DatasetBlock | SourceBlock | SchemaBlock | CleanBlock | AnnotateBlock | SplitBlock
    | AugmentBlock | Export | GateBlock | FinetuneBlock
)


@dataclass(frozen=True)
class Comment(Node):
    """A `#` comment; kept beside the AST (not in it) so `fmt` can put it back."""

    text: str


@dataclass(frozen=True)
class Spec(Node):
    """A whole .dspec file: its blocks in source order."""

    blocks: tuple[Block, ...]

    def of(self, kind: type) -> list:
        """The blocks of one kind, in order.

        >>> Spec(()).of(CleanBlock)
        []
        """
        return [b for b in self.blocks if isinstance(b, kind)]
