"""Build the AST from a Lark parse tree — a separate pass, so every node keeps its span."""
from __future__ import annotations

from decimal import Decimal

from lark import Token, Tree

from dsc import ast
from dsc.diagnostics import Diagnostic, clipped
from dsc.ops import OPERATORS
from dsc.syntax.numbers import LIMITS, number_problem
from dsc.syntax.source import SourceFile, Span

# The grammar rule of each clean-rule statement → the operator's `build`.
_RULES = {op.grammar: op.build for op in OPERATORS.values()}
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def unescape(literal: str) -> str:
    r"""The value of a string literal, quotes removed and escapes resolved.

    >>> unescape(r'"a\"b\\n"')
    'a"b\\n'
    """
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            # Unknown escapes stay as written, so a regex like "\\d+" keeps its backslash.
            out.append(_ESCAPES.get(body[i + 1], "\\" + body[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class Builder:
    """Dispatches on rule names (`build_<rule>`) and turns tokens into located leaves; number
    literals beyond the limits of `dsc.syntax.numbers` are collected in `refused` (DSC209)."""

    def __init__(self, source: SourceFile):
        self.source = source
        self.refused: list[Diagnostic] = []

    # ── leaves ──────────────────────────────────────────────────────────────────────────
    def span(self, item: Tree | Token) -> Span:
        if isinstance(item, Token):
            return self.source.span(item.start_pos, item.end_pos)
        meta = item.meta
        if getattr(meta, "empty", True):
            return self.source.span(0, 0)
        return self.source.span(meta.start_pos, meta.end_pos)

    def leaf(self, item):
        if item is None:
            return None
        if isinstance(item, Tree):
            return self.build(item)
        if item.type == "STRING":
            return ast.Str(unescape(str(item)), span=self.span(item))
        return ast.Name(str(item), span=self.span(item))

    def leaves(self, items) -> tuple:
        return tuple(self.leaf(i) for i in items)

    def build(self, tree: Tree):
        own = getattr(self, f"build_{tree.data}", None)
        if own is not None:
            return own(tree, tree.children)
        return _RULES[tree.data](self, tree, tree.children)  # a clean rule: its operator builds it

    def build_number(self, tree, ch):
        text, span = str(ch[0]), self.span(tree)
        problem = number_problem(text)
        if problem is None:
            return ast.Num(Decimal(text), percent=ch[1] is not None, span=span)
        self.refused.append(Diagnostic("DSC209", f"the number {clipped(text)} {problem}", span, LIMITS))
        return ast.Num(Decimal(0), span=span)  # a stand-in: a spec with a refused number is not returned

    def build_names(self, tree, ch):
        return self.leaves(ch)

    build_strings = build_values = build_names

    # ── file and header ─────────────────────────────────────────────────────────────────
    def build_start(self, tree, ch):
        return ast.Spec(self.leaves(ch), span=self.span(tree))

    def build_dataset_block(self, tree, ch):
        return ast.DatasetBlock(self.leaf(ch[0]), self.leaf(ch[1]), self.leaves(ch[2:]), span=self.span(tree))

    def build_seed_stmt(self, tree, ch):
        return ast.Seed(self.leaf(ch[0]), span=self.span(tree))

    def build_locale_stmt(self, tree, ch):
        return ast.Locale(self.leaf(ch[0]), span=self.span(tree))

    # ── source ──────────────────────────────────────────────────────────────────────────
    def build_source_block(self, tree, ch):
        return ast.SourceBlock(self.leaf(ch[0]), self.leaves(ch[1:]), span=self.span(tree))

    def build_files_stmt(self, tree, ch):
        return ast.Files(self.leaf(ch[0]), span=self.span(tree))

    def build_hub_stmt(self, tree, ch):
        return ast.Hub(self.leaf(ch[0]), self._options(ast.HubOption, "hub_", ch[1:]), span=self.span(tree))

    def _options(self, kind: type, prefix: str, opts) -> tuple:
        """One-value options as written, in order and with repeats (a check reports those)."""
        return tuple(kind(o.data.removeprefix(prefix), self.leaf(o.children[0]), span=self.span(o)) for o in opts)

    def build_format_stmt(self, tree, ch):
        return ast.Format(self.leaf(ch[0]), span=self.span(tree))

    def build_key_stmt(self, tree, ch):
        return ast.Key(self.leaf(ch[0]), span=self.span(tree))

    def build_rename_stmt(self, tree, ch):
        return ast.Rename(self.leaf(ch[0]), self.leaf(ch[2]), span=self.span(tree))

    def build_explode_stmt(self, tree, ch):
        return ast.Explode(self.leaf(ch[0]), span=self.span(tree))

    # ── schema ──────────────────────────────────────────────────────────────────────────
    def build_schema_block(self, tree, ch):
        return ast.SchemaBlock(self.leaves(ch), span=self.span(tree))

    def build_column_decl(self, tree, ch):
        name, typ, mods = ch[0], ch[1], ch[2:]
        modifiers = tuple(self.leaf(m.children[0]) for m in mods)
        if typ.data == "label_type":
            kind = ast.Name("label", span=self.span(typ))
            return ast.ColumnDecl(self.leaf(name), kind, self.leaf(typ.children[0]), modifiers, span=self.span(tree))
        return ast.ColumnDecl(self.leaf(name), self.leaf(typ.children[0]), None, modifiers, span=self.span(tree))

    # ── clean ───────────────────────────────────────────────────────────────────────────
    def build_clean_block(self, tree, ch):
        return ast.CleanBlock(self.leaves(ch), span=self.span(tree))

    # ── annotate ────────────────────────────────────────────────────────────────────────
    def build_annotate_block(self, tree, ch):
        body = []
        for stmt in ch[1:]:
            key = stmt.data.removeprefix("ann_")
            cmp = next((c for c in stmt.children if isinstance(c, Token) and c.type == "CMP"), None)
            values = tuple(self.leaf(c) for c in stmt.children if cmp is None or c is not cmp)
            body.append(ast.AnnSetting(key, values, self.leaf(cmp), span=self.span(stmt)))
        return ast.AnnotateBlock(self.leaf(ch[0]), tuple(body), span=self.span(tree))

    # ── split / augment / export ────────────────────────────────────────────────────────
    def build_split_block(self, tree, ch):
        options = self._options(ast.SplitOption, "split_", [c for c in ch[1:] if c.data != "split_stmt"])
        parts = tuple(
            ast.SplitPart(self.leaf(c.children[0]), self.leaf(c.children[1]), span=self.span(c))
            for c in ch[1:] if c.data == "split_stmt"
        )
        return ast.SplitBlock(self.leaf(ch[0]), options, parts, span=self.span(tree))

    def build_augment_block(self, tree, ch):
        return ast.AugmentBlock(self.leaf(ch[0]), self.leaves(ch[1:]), span=self.span(tree))

    def _aug_options(self, opts) -> tuple:
        return tuple(
            ast.AugOption(o.data.removeprefix("aug_"), self.leaf(o.children[0]), span=self.span(o)) for o in opts
        )

    def build_paraphrase_stmt(self, tree, ch):
        method = ast.Name("paraphrase", span=self.span(tree))
        return ast.Augmentation(method, self.leaf(ch[0]), (), self._aug_options(ch[1:]), span=self.span(tree))

    def build_backtranslate_stmt(self, tree, ch):
        method = ast.Name("backtranslate", span=self.span(tree))
        return ast.Augmentation(method, self.leaf(ch[0]), self.leaf(ch[1]), self._aug_options(ch[2:]),
                                span=self.span(tree))

    def build_export_stmt(self, tree, ch):
        return ast.Export(self.leaf(ch[0]), self.leaf(ch[1]), self._options(ast.ExportOption, "export_", ch[2:]),
                          span=self.span(tree))

    # ── gate / finetune ─────────────────────────────────────────────────────────────────
    def build_gate_block(self, tree, ch):
        return ast.GateBlock(self.leaves(ch), span=self.span(tree))

    def _severity(self, item):
        return self.leaf(item.children[0]) if item is not None else None

    def build_metric_gate(self, tree, ch):
        args = self.leaf(ch[1]) if ch[1] is not None else ()
        args = (args,) if isinstance(args, ast.Str) else args  # `contaminated("evals/*.jsonl")`
        return ast.MetricGate(self.leaf(ch[0]), args, self.leaf(ch[2]), self.leaf(ch[3]), self._severity(ch[4]),
                              span=self.span(tree))

    def build_leakage_gate(self, tree, ch):
        return ast.LeakageGate(self.leaf(ch[0]), self.leaf(ch[1]), self.leaf(ch[2]), self.leaf(ch[3]),
                               self._severity(ch[4]), span=self.span(tree))

    def build_finetune_block(self, tree, ch):
        return ast.FinetuneBlock(self.leaf(ch[0]), self.leaves(ch[1:]), span=self.span(tree))

    def build_setting(self, tree, ch):
        return ast.Setting(self.leaf(ch[0]), self.leaves(ch[1:]), span=self.span(tree))


def build(tree: Tree, source: SourceFile) -> tuple[ast.Spec | None, list[Diagnostic]]:
    """Turn a parse tree into the AST; None and a DSC209 per number literal beyond the limits.

    >>> from dsc.syntax.parser import parse_tree
    >>> src = SourceFile("x.dspec", "gate {\\n  dropped <= 5%\\n}\\n")
    >>> build(parse_tree(src)[0], src)[0].blocks[0].gates[0].value
    Num(value=Decimal('5'), percent=True)
    >>> src = SourceFile("x.dspec", "gate {\\n  kept >= 1e-999999999\\n}\\n")
    >>> [(d.code, d.span.line, d.span.column, d.message) for d in build(parse_tree(src)[0], src)[1]]
    [('DSC209', 2, 11, 'the number 1e-999999999 has more than 28 digits after the point')]
    """
    builder = Builder(source)
    spec = builder.build(tree)
    return (None, builder.refused) if builder.refused else (spec, [])
