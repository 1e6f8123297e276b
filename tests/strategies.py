"""Hypothesis strategies for .dspec syntax: random valid ASTs, their texts, and broken texts.

API (import from tests, e.g. ``from strategies import specs``):

- ``specs(canonical=True, max_blocks=6)`` — random valid ``ast.Spec`` values covering every
  node type and option, shaped exactly as the parser builds them (``None`` where an optional
  part is absent, ``()`` for no gate arguments, …). With ``canonical=True`` (the default)
  options are in ``dsc.fmt`` order, so ``parse(format_spec(s)) == s``; with ``False`` they come
  in any order and ``parse(format_spec(s)) == dsc.fmt.canonical(s)``. Spans are ``NO_SPAN``.
- ``specs_with_texts(max_blocks=6)`` — ``(spec, text)`` pairs: ``text`` is the formatted spec
  loosened at legal places (random comments, full-line and trailing; blank lines; extra spaces
  and tabs; line continuations; random indentation; CRLF line ends; maybe no final newline),
  so ``parse(text) == spec`` while the text differs from the canonical one.
- ``spec_texts(max_blocks=6)`` — just the text of ``specs_with_texts``.
- ``mutated_texts(max_blocks=4)`` — a valid spec text with byte-level damage: deletions,
  insertions of random characters (``{ } " # \\ %``, NUL, newlines, unicode, …), duplicated
  lines, truncation. It may or may not still parse.
- ``names()``, ``strings()``, ``numbers()``, ``values()``, ``blocks()``, ``comment_texts()``
  — the parts, for tests that need one node kind.

Identifiers are drawn so that the contextual lexer never takes them for keywords (``c_`` plus
letters, or a small vocabulary without grammar keywords); numbers are Decimals written in the
NUMBER syntax (mostly non-negative), so they print back to an equal value; strings include quotes,
backslashes, newlines, tabs, ``#`` and non-ASCII text (no other control characters: the
language has no escape for them, and NUL cannot be in a spec file at all).
"""
from __future__ import annotations

import dataclasses
import re
import typing
from decimal import Decimal
from functools import lru_cache

from hypothesis import strategies as st

from dsc import ast
from dsc.fmt import canonical as canonical_order
from dsc.fmt import format_spec
from dsc.syntax.parser import grammar

KEYWORDS = frozenset(
    t.pattern.value for t in grammar().terminals if t.pattern.type == "str" and t.pattern.value.isidentifier()
)
_VOCABULARY = [
    w for w in ("prompt", "response", "ticket_id", "en_US", "de_DE", "nfkc", "strip", "longest", "majority",
                "train", "validation", "EUR", "kg", "DMY", "q_proj", "_private", "X", "text", "date", "desc")
    if w not in KEYWORDS
]
CMPS = (">=", "<=", "==", "!=", ">", "<")
COLUMN_TYPES = ("text", "string", "int", "float", "bool", "date", "money", "quantity")




# ── leaves ──────────────────────────────────────────────────────────────────────────────
@lru_cache(maxsize=None)
def identifiers() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(_VOCABULARY),
        st.builds(lambda s: "c_" + s, st.text(alphabet="abxyzQ09_", max_size=5)),
    )


@lru_cache(maxsize=None)
def names() -> st.SearchStrategy[ast.Name]:
    return st.builds(ast.Name, identifiers())


def _word(*choices: str) -> st.SearchStrategy[ast.Name]:
    return st.sampled_from(choices).map(ast.Name)


@lru_cache(maxsize=None)
def strings() -> st.SearchStrategy[ast.Str]:
    chars = st.one_of(st.characters(blacklist_categories=("Cs", "Cc")), st.sampled_from('"\\\n\t#{}'))
    return st.builds(ast.Str, st.text(alphabet=chars, max_size=10))


_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=4)
_NUMBER_TEXTS = st.builds(
    lambda sign, whole, fraction, exponent: sign + whole + fraction + exponent,
    st.sampled_from(["", "", "", "", "-"]),
    _DIGITS,
    st.one_of(st.just(""), _DIGITS.map(lambda d: "." + d)),
    st.one_of(st.just(""), st.just(""), st.just(""),
              st.tuples(st.sampled_from(["e", "E", "e-", "e+"]), _DIGITS.map(lambda d: d[:1])).map("".join)),
)


@lru_cache(maxsize=None)
def numbers() -> st.SearchStrategy[ast.Num]:
    """Numbers written as the NUMBER terminal allows (`0.10`, `12`, `-3e-2`), maybe with `%`, within
    the limits of `dsc.syntax.numbers` (at most 4 + 4 digits, an exponent of one digit)."""
    return st.builds(ast.Num, _NUMBER_TEXTS.map(Decimal), st.booleans())


@lru_cache(maxsize=None)
def values() -> st.SearchStrategy[ast.Value]:
    return st.one_of(names(), strings(), numbers())


def _optional(strategy):
    return st.one_of(st.none(), strategy)


def _some(strategy, min_size=1, max_size=3):
    return st.lists(strategy, min_size=min_size, max_size=max_size).map(tuple)


@lru_cache(maxsize=None)
def comment_texts() -> st.SearchStrategy[str]:
    chars = st.one_of(st.characters(blacklist_categories=("Cs", "Cc")), st.sampled_from('"#{}\\'))
    return st.text(alphabet=chars, max_size=15).map(lambda s: "#" + s)


# ── statements ──────────────────────────────────────────────────────────────────────────
@lru_cache(maxsize=None)
def _dataset():
    stmt = st.one_of(st.builds(ast.Seed, numbers()), st.builds(ast.Locale, names()))
    return st.builds(ast.DatasetBlock, names(), numbers(), _some(stmt, 0, 3))


@lru_cache(maxsize=None)
def _hub_options():
    # Options come in any order and may repeat, as the parser keeps them (a repeat is a check error).
    return st.one_of(
        st.builds(ast.HubOption, st.sampled_from(["split", "config"]), names()),
        st.builds(ast.HubOption, st.just("revision"), strings()),
    )


@lru_cache(maxsize=None)
def _source():
    stmt = st.one_of(
        st.builds(ast.Files, _some(strings())),
        st.builds(ast.Hub, strings(), _some(_hub_options(), 0, 3)),
        st.builds(ast.Format, names()),
        st.builds(ast.Key, _some(names())),
        st.builds(ast.Rename, names(), names()),
        st.builds(ast.Explode, names()),
    )
    return st.builds(ast.SourceBlock, names(), _some(stmt, 0, 4))


@lru_cache(maxsize=None)
def _schema():
    modifiers = _some(_word("required", "unique"), 0, 2)
    column = st.one_of(
        st.builds(ast.ColumnDecl, names(), _word(*COLUMN_TYPES), st.none(), modifiers),
        st.builds(ast.ColumnDecl, names(), st.just(ast.Name("label")), _some(values()), modifiers),
    )
    return st.builds(ast.SchemaBlock, _some(column, 0, 5))


@lru_cache(maxsize=None)
def _predicates():
    return st.one_of(
        st.builds(ast.MeasurePred, names(), names(), _word(*CMPS), numbers()),
        st.builds(ast.TestPred, names(), names()),
        st.builds(ast.MatchesPred, names(), strings()),
        st.builds(ast.InPred, names(), _some(values()), st.booleans()),
    )


@lru_cache(maxsize=None)
def _std_options():
    return st.one_of(
        st.builds(ast.StdOption, st.just("from"), _some(names())),
        st.builds(ast.StdOption, st.sampled_from(["locale", "order", "on_error"]), _some(names(), 1, 1)),
        st.builds(ast.StdOption, st.just("base"), _some(strings(), 1, 1)),
        st.builds(ast.StdOption, st.just("rates"), _some(st.builds(ast.Rate, names(), numbers()))),
    )


@lru_cache(maxsize=None)
def _dedupe_options():
    def opt(key, *parts):
        return st.tuples(*parts).map(lambda values: ast.DedupeOption(key, values))

    return st.one_of(
        st.builds(ast.DedupeOption, st.just("ignoring"), _some(names())),
        opt("jaccard", _word(*CMPS), numbers()),
        opt("ngram", numbers(), _optional(names())),
        *(opt(key, numbers()) for key in ("permutations", "bands", "threshold")),
        opt("keep", names()),
        opt("keep_by", names(), _optional(names())),
        opt("pairs", strings()),
    )


@lru_cache(maxsize=None)
def clean_rules() -> dict[str, st.SearchStrategy]:
    """A strategy per operator of `dsc.ops.OPERATORS`, under its plan name, so the laws always see
    every operator: the older nodes, whose options need shaping, are written out here; any other
    operator's node is built from its declared fields (`from_fields`)."""
    from dsc.ops import OPERATORS
    from dsc.ops.decontaminate import DecontaminateRule

    def dedupe(mode):
        return st.builds(ast.Dedupe, _word(mode), _some(names()), _some(_dedupe_options(), 0, 4))

    written = {
        "normalize": st.builds(ast.Normalize, _some(names()), _some(names())),
        "drop": st.builds(ast.Drop, _predicates(), st.integers(0, 3)),
        "standardize": st.builds(ast.Standardize, names(), names(), st.one_of(st.none(), names(), strings()),
                                 _some(_std_options(), 0, 4)),
        **{f"dedupe_{mode}": dedupe(mode) for mode in ("exact", "near", "fuzzy")},
        "conflicts": st.builds(ast.Conflicts, _some(names()), names(), names(), _optional(names())),
        "decontaminate": st.builds(DecontaminateRule, _some(names()), _some(strings()),
                                   st.one_of(st.just(()), _some(names())), _optional(numbers())),
    }
    return {name: written.get(name) or from_fields(op.node) for name, op in OPERATORS.items()}


def from_fields(node: type) -> st.SearchStrategy:
    """Nodes of a class built from its fields' types and roles: a name (one of its `choices` when it
    declares some), a string, a number, or a tuple of names. Any other field type is an error here,
    so a new node's author writes its strategy above instead."""
    hints = typing.get_type_hints(node)
    parts = {}
    for f in dataclasses.fields(node):
        if f.name == "span":
            continue
        kind = hints[f.name]
        if f.metadata.get("choices"):
            parts[f.name] = _word(*f.metadata["choices"])
        elif kind in _LEAVES:
            parts[f.name] = _LEAVES[kind]()
        elif typing.get_origin(kind) is tuple and typing.get_args(kind)[0] in _LEAVES:
            parts[f.name] = _some(_LEAVES[typing.get_args(kind)[0]]())
        else:
            raise TypeError(f"{node.__name__}.{f.name}: no strategy for {kind}; write one in clean_rules()")
    return st.builds(node, **parts)


_LEAVES = {ast.Name: names, ast.Str: strings, ast.Num: numbers}


@lru_cache(maxsize=None)
def _clean():
    return st.builds(ast.CleanBlock, _some(st.one_of(*clean_rules().values()), 0, 5))


@lru_cache(maxsize=None)
def _ann_settings():
    cmp = _word(*CMPS)

    def setting(key, *parts, op=None):
        return st.builds(lambda values, op_name: ast.AnnSetting(key, values, op_name), st.tuples(*parts),
                         op if op is not None else st.none())

    return st.one_of(
        setting("from", strings(), _optional(names())),
        setting("annotators", numbers(), op=cmp),
        setting("experts", numbers(), _optional(names()), op=cmp),
        setting("agreement", names(), _optional(names()), numbers(), op=cmp),
        setting("item_agreement", numbers(), op=cmp),
        setting("resolve", names(), _optional(names()), _optional(names())),
        setting("below_threshold", names()),
        setting("tasks", strings()),
    )


@lru_cache(maxsize=None)
def _annotate():
    return st.builds(ast.AnnotateBlock, names(), _some(_ann_settings(), 0, 5))


@lru_cache(maxsize=None)
def _split():
    part = st.builds(ast.SplitPart, names(), numbers())
    option = st.one_of(st.builds(ast.SplitOption, st.just("stratify"), names()),
                       st.builds(ast.SplitOption, st.just("seed"), numbers()))
    return st.builds(ast.SplitBlock, names(), _some(option, 0, 3), _some(part, 0, 3))


@lru_cache(maxsize=None)
def _augment():
    option = st.one_of(
        st.builds(ast.AugOption, st.sampled_from(["ratio", "concurrency", "min_similarity", "max_similarity",
                                                  "min_length_ratio", "max_length_ratio"]), numbers()),
        st.builds(ast.AugOption, st.sampled_from(["using", "endpoint", "model", "template"]), strings()),
        st.builds(ast.AugOption, st.just("key_env"), names()),
    )
    options = _some(option, 0, 3)
    rule = st.one_of(
        st.builds(ast.Augmentation, st.just(ast.Name("paraphrase")), names(), st.just(()), options),
        st.builds(ast.Augmentation, st.just(ast.Name("backtranslate")), names(), _some(names()), options),
    )
    return st.builds(ast.AugmentBlock, _some(names()), _some(rule, 0, 3))


@lru_cache(maxsize=None)
def _export():
    option = st.one_of(st.builds(ast.ExportOption, st.just("shape"), names()),
                       st.builds(ast.ExportOption, st.just("template"), strings()))
    return st.builds(ast.Export, names(), strings(), _some(option, 0, 3))


@lru_cache(maxsize=None)
def _gate():
    severity = _optional(_word("warn", "error"))
    gate = st.one_of(
        st.builds(ast.MetricGate, names(), _some(names(), 0, 2), _word(*CMPS), numbers(), severity),
        st.builds(ast.LeakageGate, names(), names(), _word(*CMPS), numbers(), severity),
    )
    return st.builds(ast.GateBlock, _some(gate, 0, 4))


@lru_cache(maxsize=None)
def _finetune():
    setting = st.builds(ast.Setting, names(), _some(values()))
    return st.builds(ast.FinetuneBlock, names(), _some(setting, 0, 4))


@lru_cache(maxsize=None)
def blocks() -> st.SearchStrategy[ast.Block]:
    """One block (or `export` statement) of any kind."""
    return st.one_of(_dataset(), _source(), _schema(), _clean(), _annotate(), _split(), _augment(), _export(),
                     _gate(), _finetune())


@lru_cache(maxsize=None)
def specs(canonical: bool = True, max_blocks: int = 6) -> st.SearchStrategy[ast.Spec]:
    spec = st.builds(ast.Spec, _some(blocks(), 0, max_blocks))
    return spec.map(canonical_order) if canonical else spec


# ── texts ───────────────────────────────────────────────────────────────────────────────
# Strategies are built once: hypothesis validates each new strategy object, which would cost
# more than the drawing if they were made afresh inside every example.
_STRING = re.compile(r'("(?:[^"\\]|\\.)*")')
_SPACES = st.sampled_from([" ", " ", " ", "  ", "\t", " \t ", " \\\n", " \\\n    "])
_AROUND_PUNCTUATION = st.sampled_from(["", "", "", " ", "\t"])
_INDENTS = st.sampled_from(["", "", " ", "    ", "\t"])
_BEFORE_COMMENT = st.sampled_from(["", " ", "  ", "\t"])
_LINE_ENDS = st.sampled_from(["", "", " ", "\t"])
_ONE_IN_FOUR = st.integers(0, 3).map(lambda n: n == 0)
_FILLER_LINE = st.one_of(
    st.sampled_from(["", "  ", "\t"]),
    st.tuples(st.sampled_from(["", "  ", "\t", "      "]), comment_texts()).map("".join),
)
_FILLER = st.one_of(st.just([]), st.just([]), st.lists(_FILLER_LINE, max_size=3))


def _loosen(draw, line: str) -> str:
    """One canonical line with extra whitespace, continuations and maybe a trailing comment."""
    parts = _STRING.split(line.strip(" "))  # odd parts are string literals, left alone
    for i in range(0, len(parts), 2):
        part = re.sub(r" +", lambda m: draw(_SPACES), parts[i])
        parts[i] = re.sub(r"[(),{}\[\]:%]",
                          lambda m: draw(_AROUND_PUNCTUATION) + m.group() + draw(_AROUND_PUNCTUATION), part)
    text = draw(_INDENTS) + "".join(parts)
    if draw(_ONE_IN_FOUR):
        text += draw(_BEFORE_COMMENT) + draw(comment_texts())
    return text + draw(_LINE_ENDS)


@st.composite
def _specs_with_texts(draw, max_blocks: int) -> tuple[ast.Spec, str]:
    spec = draw(specs(max_blocks=max_blocks))
    lines = []
    for line in format_spec(spec).split("\n")[:-1]:
        lines.extend(draw(_FILLER))
        lines.append(_loosen(draw, line))
    lines.extend(draw(_FILLER))
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "\n", ""]))
    if draw(_ONE_IN_FOUR):
        text = text.replace("\n", "\r\n")
    return spec, text


@lru_cache(maxsize=None)
def specs_with_texts(max_blocks: int = 6) -> st.SearchStrategy[tuple[ast.Spec, str]]:
    return _specs_with_texts(max_blocks)


@lru_cache(maxsize=None)
def spec_texts(max_blocks: int = 6) -> st.SearchStrategy[str]:
    return specs_with_texts(max_blocks).map(lambda pair: pair[1])


_NOISE = st.lists(
    st.one_of(
        st.sampled_from(list('{}"#\\%()[],:<>=-\x00\n\r\t ') + ["\n}", "{\n", "not ", "drop where ", "\ufeff"]),
        st.characters(blacklist_categories=("Cs",)),
    ),
    min_size=1,
    max_size=4,
).map("".join)
_MUTATIONS = st.lists(st.sampled_from(["delete", "insert", "insert", "duplicate", "truncate"]), min_size=1,
                      max_size=4)


@st.composite
def _mutated_texts(draw, max_blocks: int) -> str:
    text = draw(spec_texts(max_blocks))
    for kind in draw(_MUTATIONS):
        at = draw(st.integers(0, len(text)))
        if kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)):]
        elif kind == "insert":
            text = text[:at] + draw(_NOISE) + text[at:]
        elif kind == "duplicate":
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            text = "\n".join(lines[: i + 1] + lines[i:])
        else:
            text = text[:at]
    return text


@lru_cache(maxsize=None)
def mutated_texts(max_blocks: int = 4) -> st.SearchStrategy[str]:
    return _mutated_texts(max_blocks)
