"""What the three dedupe operators share: one statement (`dedupe MODE on cols options…`), the
keep rule and its description."""
from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Literal

from dsc import ast
from dsc.ops.base import Params
from dsc.syntax.write import listing, words
from dsc.vocabulary import KEEP_RULES


class DedupeRule:
    """The syntax the dedupe operators share; each says its `mode`."""

    mode: ClassVar[str]
    node = ast.Dedupe
    grammar = "dedupe_stmt"
    reads = ("columns", "keep_by")
    option_order = ("ignoring", "jaccard", "ngram", "permutations", "bands", "cluster", "pairs", "threshold", "keep",
                    "keep_by")

    @classmethod
    def selects(cls, node):
        return node.mode.value == cls.mode

    @classmethod
    def build(cls, b, tree, ch):
        mode = b.leaf(ch[0].children[0])
        options = tuple(
            ast.DedupeOption(o.data.removeprefix("opt_"), _flat(b, o.children), span=b.span(o)) for o in ch[2:]
        )
        return ast.Dedupe(mode, b.leaf(ch[1]), options, span=b.span(tree))

    @classmethod
    def fmt(cls, n):
        return words("dedupe", n.mode, "on", listing(n.columns), *map(_fmt_option, n.options))

    @classmethod
    def compile(cls, rule, env):
        params: dict = {"columns": ast.names(rule.columns)}
        for opt in rule.options:
            vals = opt.values
            if opt.key == "ignoring":
                params["ignoring"] = sorted({v.value for v in vals})
            elif opt.key == "jaccard":
                params["threshold"] = ast.plain(vals[-1])
            elif opt.key == "threshold":
                params["threshold"] = ast.plain(vals[0])
            elif opt.key == "ngram":
                params["ngram"] = int(vals[0].value)
                if len(vals) > 1 and vals[1] is not None:
                    params["unit"] = vals[1].value
            elif opt.key in ("permutations", "bands"):
                params[opt.key] = int(vals[0].value)
            elif opt.key == "pairs":
                params["pairs"] = vals[0].value
            elif opt.key == "keep":
                params["keep"] = vals[0].value
            elif opt.key == "keep_by":
                params["keep"] = "by"
                params["keep_by"] = vals[0].value
                params["descending"] = not (len(vals) > 1 and vals[1] is not None and vals[1].value == "asc")
        return params, ",".join(params["columns"])


def _flat(b, children) -> tuple:
    out = []
    for c in children:
        item = b.leaf(c)
        out.extend(item if isinstance(item, tuple) else (item,))
    return tuple(out)


def _fmt_option(n: ast.DedupeOption) -> str:
    if n.key == "ignoring":
        return "ignoring " + listing(n.values)
    return words("keep by" if n.key == "keep_by" else n.key, *n.values)


class DedupeParams(Params):
    columns: list[str]
    keep: Literal[KEEP_RULES] = "first"
    keep_by: str | None = None
    descending: bool = True


def keep_text(p) -> str:
    if p["keep"] == "by":
        return f"keep the row with the {'highest' if p.get('descending', True) else 'lowest'} {p['keep_by']}"
    if p["keep"] == "none":
        return "drop every member of a duplicate cluster"
    return "keep the row with the smallest row id (content hash or key)" if p["keep"] == "hash" else f"keep the {p['keep']}"


def threshold_strictness(old, new) -> int | None:
    """For similarity dedupes: a lower threshold merges more rows, so it drops more (+1).

    >>> threshold_strictness({"threshold": "0.8", "keep": "first"}, {"threshold": "0.7", "keep": "first"})
    1
    """
    rest = lambda p: {k: v for k, v in p.items() if k != "threshold"}  # noqa: E731
    if rest(old) != rest(new):
        return None
    a, b = Decimal(str(old["threshold"])), Decimal(str(new["threshold"]))
    return 0 if a == b else 1 if b < a else -1
