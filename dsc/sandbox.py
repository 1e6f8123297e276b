"""The one jinja2 environment user templates render in (export templates, prompt templates).

It is jinja2's immutable sandbox, where a template may print data only (printing a function,
class or other Python object, or turning one into text by `~`, a filter, `%`, `str.format` or
inside a list, is an error rather than a leaked repr; so is a missing name or key, which raises
the UndefinedError naming it instead of becoming "Undefined" or ""), and may not exhaust memory
or CPU: each bound below fails with a SecurityError instead.

- A template is at most MAX_TEMPLATE_CHARS characters, nests blocks (`{% if %}`, `{% for %}`, ...)
  at most MAX_BLOCK_NESTING deep, and one tag nests or chains at most MAX_TAG_NESTING operators,
  filters, attribute lookups, calls and brackets; checked on its tokens before jinja2 parses it
  (a TemplateSyntaxError), since jinja2's parser and compiler recurse once or more per level.

- `*` may build at most MAX_REPEAT items or characters; an integer `**` or `*` at most
  MAX_POWER_BITS bits.
- A width, precision or count (format specs of `%`, `|format` and `str.format`; `center`,
  `ljust`, `rjust`, `zfill`, `expandtabs`, `indent`, `batch` with a fill, `slice`, `round`,
  `tojson` indent; `lipsum` words) is at most MAX_WIDTH.
- One render runs at most MAX_ITERATIONS loop items, calls and items fed to list filters
  (`map`, `sum`, `sort`, ...), so nested loops and recursive macros end early; a macro
  recursing without end is refused too, not a RecursionError.
- One render builds at most MAX_TEXT characters or items in all (`*`, `+`, `~`, slices,
  filters, method calls, printed lists), and its output is at most MAX_TEXT characters.

What is left: an operation linear in its input (`x in text`, `text|wordcount`) on a big
value, repeated in a loop, is bounded only by MAX_ITERATIONS times that value's size.
"""
from __future__ import annotations

import builtins
import re
import textwrap
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from functools import wraps
from itertools import chain
from types import BuiltinFunctionType, BuiltinMethodType, MethodType
from typing import Any

from jinja2 import Undefined, nodes, pass_context, pass_environment, pass_eval_context
from jinja2.compiler import CodeGenerator, optimizeconst
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.filters import make_attrgetter
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.utils import generate_lorem_ipsum
from markupsafe import EscapeFormatter, Markup

MAX_REPEAT = 10_000_000  # characters or items one `*` may produce
MAX_POWER_BITS = 65_536  # bits an integer `**` or `*` may produce
MAX_WIDTH = 100_000  # a width, precision, padding or count argument; lipsum words
MAX_ITERATIONS = 1_000_000  # loop items, calls and list-filter items per render
MAX_TEXT = 100_000_000  # characters or items built per render; characters output
MAX_TEMPLATE_CHARS = 100_000  # a template's source
MAX_BLOCK_NESTING = 16  # blocks inside blocks (Python allows 20 nested loops in the code jinja2 writes)
MAX_TAG_NESTING = 32  # operators, filters, lookups, calls and brackets nested or chained in one tag
_DATA = (str, int, float, bool, Decimal, date, list, tuple, dict)
_CONTAINERS = (list, tuple, dict, set, frozenset)
_BUILT = (str, bytes, list, tuple, dict)
_LEAVES = (str, bytes, int, float, Decimal, date, type(None))  # bool is an int


class _Budget:
    """What one render has spent; it lives on the render's EvalContext (shared by derived contexts)."""

    __slots__ = ("items", "chars", "_sizes")

    def __init__(self):
        self.items = self.chars = 0
        self._sizes = {}  # id -> (container, text length): a container printed again costs nothing to measure

    def step(self, n: int = 1) -> None:
        self.items += n
        if self.items > MAX_ITERATIONS:
            raise SecurityError(f"the template iterates or calls more than {MAX_ITERATIONS:,} times in one render")

    def check(self, n: int) -> None:
        if self.chars + n > MAX_TEXT:
            raise SecurityError(f"the template builds more than {MAX_TEXT:,} characters or items in one render")

    def build(self, n: int) -> None:
        self.check(n)
        self.chars += n

    @property
    def left(self) -> int:
        return MAX_TEXT - self.chars

    def text_len(self, value) -> int:
        if not isinstance(value, _CONTAINERS):
            return _text_len(value)
        known = self._sizes.get(id(value))
        if known is None or known[0] is not value:
            known = self._sizes[id(value)] = (value, _text_len(value, self.left))
        return known[1]


def _budget(eval_ctx) -> _Budget:
    try:
        return eval_ctx.dsc_budget
    except AttributeError:  # a context made outside `_Context`
        eval_ctx.dsc_budget = _Budget()
        return eval_ctx.dsc_budget


def _data_leaf(value) -> None:
    """Refuse to turn anything but data into text: the text of a function, class or other
    object (`<function … at 0x…>`) is a repr, not data; an Undefined (a missing name or key, also
    inside a list) raises the UndefinedError that names it."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if not isinstance(value, _LEAVES):
        raise SecurityError(f"a template may turn data only into text, not a {type(value).__name__}")


def _text_len(value, limit: int = MAX_TEXT, indent: int = 0) -> int:
    """About len(str(value)) (exact for text), counted only until it passes `limit`; `indent`
    adds what an indented dump adds per nested item. A list met twice is measured once. Raises
    SecurityError for an item that is not data (see `_data_leaf`)."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if not isinstance(value, _CONTAINERS):
        _data_leaf(value)
        return value.bit_length() // 4 + 1 if isinstance(value, int) else 1
    total, sizes, seen = 0, {}, []
    stack = [[value, _items_of(value), 4]]  # [container, its items, its size so far]
    while stack:
        frame = stack[-1]
        pad = indent * len(stack)
        for item in frame[1]:
            if isinstance(item, (str, bytes)):
                n = len(item) + 4 + pad  # quotes and a separator
            elif isinstance(item, _CONTAINERS):
                n = sizes.get(id(item))
                if n is None:
                    stack.append([item, _items_of(item), 4 + pad])
                    total += 4 + pad
                    break
            else:
                _data_leaf(item)
                n = (item.bit_length() // 4 if isinstance(item, int) else 0) + 3 + pad
            frame[2] += n
            total += n
            if total > limit:
                return total
        else:
            stack.pop()
            sizes[id(frame[0])] = frame[2]
            seen.append(frame[0])  # keeps ids from being reused while measuring
            if stack:
                stack[-1][2] += frame[2]
        if total > limit:
            return total
    return total


def _items_of(container):
    return chain.from_iterable(container.items()) if isinstance(container, dict) else iter(container)


def _built(result, *inputs) -> int:
    """The size of a result an operation built (nothing for one of its inputs handed back)."""
    if isinstance(result, _BUILT) and not any(result is i for i in inputs):
        return len(result)
    return 0


def _width(n, what: str = "a width") -> None:
    if isinstance(n, str):  # digits of a format spec
        if len(n) <= 6 and int(n) <= MAX_WIDTH:
            return
    elif not isinstance(n, int) or abs(n) <= MAX_WIDTH:
        return
    raise SecurityError(f"{what} over {MAX_WIDTH:,} is refused")


def _check_spec(spec: str) -> None:
    """A `str.format` spec: any number in it (width, precision) is at most MAX_WIDTH."""
    for digits in re.findall(r"\d+", spec):
        _width(digits, "a format width or precision")


_PRINTF = re.compile(r"[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?(.?)", re.S)


def _printf_size(fmt: str | bytes, values) -> int:
    """About the length of `fmt % values`; a width or precision over MAX_WIDTH raises."""
    if isinstance(fmt, bytes):
        fmt = fmt.decode("latin-1")
    positional = values if isinstance(values, tuple) else (values,)
    mapping = values if hasattr(values, "keys") and not isinstance(values, (tuple, str)) else None
    size, pos, i = len(fmt), 0, 0
    while (i := fmt.find("%", i)) >= 0:
        i, key = i + 1, None
        if fmt.startswith("(", i):  # %(key)s, the key may hold balanced parentheses
            depth, start = 0, i
            while i < len(fmt):
                depth += {"(": 1, ")": -1}.get(fmt[i], 0)
                i += 1
                if not depth:
                    break
            key = fmt[start + 1:i - 1]
        match = _PRINTF.match(fmt, i)
        i = match.end()
        width, precision, kind = match.groups()
        if kind == "%":
            continue
        for part in (width, precision):
            if part == "*":
                n = positional[pos] if pos < len(positional) else None
                pos += 1
                _width(n, "a printf width or precision")
                size += abs(n) if isinstance(n, int) else 0
            elif part:
                _width(part, "a printf width or precision")
                size += int(part)
        if key is None:
            value = positional[pos] if pos < len(positional) else None
            pos += 1
        else:
            try:
                value = mapping[key] if mapping is not None else None
            except Exception:  # noqa: BLE001 — `%` raises its own error for a missing key
                value = None
        if kind in "sra":
            size += _text_len(value)
    return size


class _Formatter(SandboxedFormatter):
    """`str.format` in the sandbox, with bounded widths and a bounded result."""

    def vformat(self, format_string, args, kwargs):
        self._size = 0
        return super().vformat(format_string, args, kwargs)

    def _add(self, n: int) -> None:
        self._size += n
        if self._size > MAX_TEXT:
            raise SecurityError(f"the formatted text is longer than {MAX_TEXT:,} characters")

    def convert_field(self, value, conversion):
        if conversion and isinstance(value, _CONTAINERS):
            self._add(_text_len(value, MAX_TEXT - self._size))
        elif conversion:
            _data_leaf(value)
        return super().convert_field(value, conversion)

    def format_field(self, value, format_spec):
        _check_spec(format_spec)
        if isinstance(value, _CONTAINERS):
            self._add(_text_len(value, MAX_TEXT - self._size))
        else:
            _data_leaf(value)
        result = super().format_field(value, format_spec)
        self._add(len(result))
        return result


class _EscapeFormatter(_Formatter, EscapeFormatter):
    pass


# --- filters -------------------------------------------------------------------------------
# Each builtin filter is wrapped: list filters count their input items, text filters refuse a
# list whose text is too long, the checks below run first, and what the filter built is counted.

_PY_ITERATING = {"batch", "dictsort", "groupby", "map", "max", "min", "reject", "rejectattr", "select",
                 "selectattr", "slice", "sort", "sum", "unique", "items", "xmlattr", "urlencode"}
_C_ITERATING = {"list", "join", "reverse"}  # over text these are C loops, not counted
_PICKING = {"attr", "d", "default", "first", "last", "max", "min", "random"}  # hand back what is there
_STRINGIFYING = {"capitalize", "center", "e", "escape", "forceescape", "format", "indent", "lower", "replace",
                 "safe", "string", "striptags", "title", "trim", "truncate", "upper", "urlize", "wordcount",
                 "wordwrap", "pprint", "tojson", "xmlattr", "urlencode"}


def _f_center(budget, context, value, width=80):
    _width(width)
    return value, (width,), {}


def _f_indent(budget, context, s, width=4, first=False, blank=False):
    if isinstance(width, str):
        _width(len(width), "an indent")
        pad = len(width)
    else:
        _width(width, "an indent")
        pad = width if isinstance(width, int) else 0
    text = str(s)
    budget.check(len(text) + (text.count("\n") + 1) * max(pad, 0))
    return s, (width, first, blank), {}


def _f_batch(budget, context, value, linecount, fill_with=None):
    if fill_with is not None:
        _width(linecount, "a batch size")
    return value, (linecount, fill_with), {}


def _f_slice(budget, context, value, slices, fill_with=None):
    _width(slices, "a slice count")
    return value, (slices, fill_with), {}


def _f_round(budget, context, value, precision=0, method="common"):
    _width(precision, "a precision")
    return value, (precision, method), {}


def _f_format(budget, context, value, *args, **kwargs):
    if not (args and kwargs):  # both at once: the filter raises its own error
        budget.check(_printf_size(str(value), kwargs or args))
    return value, args, kwargs


def _f_join(budget, context, value, d="", attribute=None):
    items = list(value)
    if attribute is not None:
        items = list(map(make_attrgetter(context.environment, attribute), items))
    size = len(str(d)) * max(len(items) - 1, 0)
    for item in items:
        size += _text_len(item, budget.left - size)
        budget.check(size)
    return items, (d,), {}


def _f_replace(budget, context, s, old, new, count=None):
    text, old_text, new_text = str(s), str(old), str(new)
    if len(new_text) > len(old_text):
        found = text.count(old_text) if old_text else len(text) + 1
        if count is not None and count >= 0:
            found = min(found, count)
        budget.check(len(text) + found * (len(new_text) - len(old_text)))
    return s, (old, new, count), {}


def _f_sum(budget, context, iterable, attribute=None, start=0):
    if isinstance(start, (str, bytes, list, tuple)):  # summing sequences copies the running total each time
        items = list(iterable)
        if attribute is not None:
            items, attribute = list(map(make_attrgetter(context.environment, attribute), items)), None
        total = copies = len(start)
        for item in items:
            total += len(item) if isinstance(item, _BUILT) else 0
            copies += total
            budget.check(total)
        budget.step(copies)
        iterable = items
    return iterable, (attribute, start), {}


def _f_tojson(budget, context, value, indent=None):
    pad = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    _width(pad, "an indent")
    budget.check(_text_len(value, budget.left, indent=max(pad, 0)))
    return value, (indent,), {}


def _f_pprint(budget, context, value):
    budget.check(_text_len(value, budget.left, indent=1))
    return value, (), {}


_FILTER_CHECKS = {"center": _f_center, "indent": _f_indent, "batch": _f_batch, "slice": _f_slice,
                  "round": _f_round, "format": _f_format, "join": _f_join, "replace": _f_replace,
                  "sum": _f_sum, "tojson": _f_tojson, "pprint": _f_pprint}


@pass_environment
def _wordwrap(environment, s, width=79, break_long_words=True, wrapstring=None, break_on_hyphens=True):
    """jinja2's `wordwrap`, refusing a result over MAX_TEXT before it is joined."""
    if wrapstring is None:
        wrapstring = environment.newline_sequence
    paragraphs = [textwrap.wrap(line, width=width, expand_tabs=False, replace_whitespace=False,
                                break_long_words=break_long_words, break_on_hyphens=break_on_hyphens)
                  for line in s.splitlines()]
    pieces = sum(max(len(p), 1) for p in paragraphs)
    if sum(map(len, chain.from_iterable(paragraphs))) + len(wrapstring) * pieces > MAX_TEXT:
        raise SecurityError(f"the wrapped text is longer than {MAX_TEXT:,} characters")
    return wrapstring.join([wrapstring.join(p) for p in paragraphs])


def _bounded_filter(name: str, filter_):
    pass_arg = getattr(getattr(filter_, "jinja_pass_arg", None), "name", None)
    check = _FILTER_CHECKS.get(name)

    @wraps(filter_)
    def bounded(context, value, *args, **kwargs):
        budget = _budget(context.eval_ctx)
        if name in _STRINGIFYING:
            budget.check(budget.text_len(value))  # also refuses an object's repr, and an Undefined's text
        if not isinstance(value, Undefined):
            if name in _PY_ITERATING or (name in _C_ITERATING and not isinstance(value, str)):
                try:
                    budget.step(len(value))
                except TypeError:  # a generator: its source was counted
                    pass
            if check is not None:
                value, args, kwargs = check(budget, context, value, *args, **kwargs)
        first = {"context": (context,), "eval_context": (context.eval_ctx,),
                 "environment": (context.environment,)}.get(pass_arg, ())
        result = filter_(*first, value, *args, **kwargs)
        if name not in _PICKING:
            budget.build(_built(result, value))
        return result

    return pass_context(bounded)  # also keeps jinja from running it at compile time on constants


def _lipsum(n=5, html=True, min=20, max=100):  # noqa: A002 — jinja's own parameter names
    """jinja2's `lipsum`, at most MAX_WIDTH words."""
    if all(isinstance(v, int) for v in (n, min, max)) and n * builtins.max(min, max, 0) > MAX_WIDTH:
        raise SecurityError(f"lipsum of more than {MAX_WIDTH:,} words is refused")
    return generate_lorem_ipsum(n, html, min, max)


# --- methods called from a template ---------------------------------------------------------

def _m_pad(budget, text, args, kwargs):
    _width(args[0] if args else None)


def _m_expandtabs(budget, text, args, kwargs):
    size = args[0] if args else kwargs.get("tabsize", 8)
    _width(size, "a tab size")
    if isinstance(size, int):
        budget.check(len(text) + text.count(b"\t" if isinstance(text, bytes) else "\t") * max(size, 0))


def _m_replace(budget, text, args, kwargs):
    if len(args) >= 2 and isinstance(args[0], (str, bytes)) and isinstance(args[1], (str, bytes)):
        old, new = args[0], args[1]
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        if len(new) > len(old):
            found = text.count(old) if old else len(text) + 1
            if isinstance(count, int) and count >= 0:
                found = min(found, count)
            budget.check(len(text) + found * (len(new) - len(old)))


def _m_translate(budget, text, args, kwargs):
    table = args[0] if args else None
    if isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
        budget.check(len(text) * longest)


_TEXT_METHODS = {"center": _m_pad, "ljust": _m_pad, "rjust": _m_pad, "zfill": _m_pad,
                 "expandtabs": _m_expandtabs, "replace": _m_replace, "translate": _m_translate}


def _counted(budget: _Budget, iterable):
    for item in iterable:
        budget.step()
        yield item


# --- compiled templates ----------------------------------------------------------------------

class _CodeGenerator(CodeGenerator):
    """jinja2's code generator, routing loops, `~` and slices through the sandbox's counters."""

    _loop_iter = None  # the iterable of the `for` being written, to be wrapped once

    def visit_For(self, node, frame):
        outer, self._loop_iter = self._loop_iter, node.iter
        try:
            super().visit_For(node, frame)
        finally:
            self._loop_iter = outer

    def visit(self, node, *args, **kwargs):
        if node is None or node is not self._loop_iter:
            return super().visit(node, *args, **kwargs)
        self._loop_iter = None
        self.write("environment._dsc_iterate(context, ")
        super().visit(node, *args, **kwargs)
        self.write(")")
        return None

    @optimizeconst
    def visit_Concat(self, node, frame):
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        else:
            join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        self.write(f"environment._dsc_concat(context, {join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    @optimizeconst
    def visit_Getitem(self, node, frame):
        if not isinstance(node.arg, nodes.Slice):
            return super().visit_Getitem(node, frame)
        self.write("environment._dsc_slice(context, ")
        self.visit(node.node, frame)
        self.write(", slice(")
        for part in (node.arg.start, node.arg.stop, node.arg.step):
            if part is None:
                self.write("None")
            else:
                self.visit(part, frame)
            self.write(", ")
        self.write("))")


# --- the template's shape, before jinja2 parses it ---------------------------------------------

_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
_SEPARATORS = frozenset({",", ":", "=", ";"})  # items of a list, call, dict or tuple are siblings, not nested
_WORD_OPERATORS = frozenset({"and", "or", "not", "in", "is", "if", "else"})
_BLOCKS = frozenset({"if", "for", "macro", "call", "filter", "with", "block", "autoescape", "set"})  # with an end tag


def _check_shape(tokens, source: str, name: str | None) -> None:
    """Refuse a template longer than MAX_TEMPLATE_CHARS, with blocks nested deeper than
    MAX_BLOCK_NESTING, or with a tag that nests or chains more than MAX_TAG_NESTING operators,
    filters, attribute lookups, calls and brackets (`tokens`: jinja2's lexer on `source`). Each of
    these may add a level to the parsed tree (`a + b + c` is `(a + b) + c`): the tree's depth, which
    jinja2's parser and compiler recurse through, is bounded by them.

    >>> from jinja2 import Environment
    >>> _check_shape(Environment().lex(s := "{{ f(1, [2]) + x.y|upper }}{% if a %}{% set b = 1 %}{% endif %}"), s, "t")
    >>> try:
    ...     _check_shape(Environment().lex(s := "{{ x" + "|upper" * 40 + " }}"), s, "t.j2")
    ... except TemplateSyntaxError as err:
    ...     print(err.message)
    this tag nests or chains more than 32 operators, filters, attribute lookups, calls and brackets (the limit); split it with {% set %}
    """
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateSyntaxError(f"the template is {len(source):,} characters long (the limit is "
                                  f"{MAX_TEMPLATE_CHARS:,})", 1, name)
    blocks, levels = 0, None  # levels: None outside a tag
    for lineno, kind, value in tokens:
        if kind in ("block_begin", "variable_begin"):
            # per open bracket: [operators chained in its current item, the deepest bracket in that item,
            # the deepest item before it]; the tag's name (a block tag's first word), whether it assigns
            levels, tag, assigns = [[0, 0, 0]], None if kind == "block_begin" else "", False
        elif levels is None:  # text, comments, raw blocks
            continue
        elif kind == "name" and tag is None:
            tag = value
        elif (kind == "name" and value in _WORD_OPERATORS) or (
                kind == "operator" and value not in _OPEN | _CLOSE | _SEPARATORS):
            levels[-1][0] += 1
        elif kind == "operator" and value in _OPEN:
            levels[-1][0] += 1
            levels.append([0, 0, 0])
        elif kind == "operator" and value in _CLOSE:  # jinja2's lexer refuses unbalanced brackets
            inner = _deepest(levels.pop())
            levels[-1][1] = max(levels[-1][1], inner)
        elif kind == "operator":  # a separator: the next item is a sibling
            assigns = assigns or (value == "=" and len(levels) == 1)
            levels[-1][:] = [0, 0, _deepest(levels[-1])]
        elif kind in ("block_end", "variable_end"):
            if _deepest(levels[0]) > MAX_TAG_NESTING:
                raise TemplateSyntaxError(f"this tag nests or chains more than {MAX_TAG_NESTING} operators, filters, "
                                          "attribute lookups, calls and brackets (the limit); split it with "
                                          "{% set %}", lineno, name)
            if tag and tag.startswith("end"):  # None for `{% %}`, which jinja2 refuses next
                blocks -= 1
            elif tag in _BLOCKS and not (tag == "set" and assigns):
                blocks += 1
                if blocks > MAX_BLOCK_NESTING:
                    raise TemplateSyntaxError(f"blocks are nested more than {MAX_BLOCK_NESTING} deep here (the "
                                              "limit)", lineno, name)
            levels = None


def _deepest(level: list[int]) -> int:
    return max(level[2], level[0] + level[1])


@contextmanager
def _too_deep(name: str | None, step: str):
    """The last resort when the caller's own stack leaves jinja2 too little room: a RecursionError
    in jinja2's parser or compiler becomes a TemplateSyntaxError."""
    try:
        yield
    except RecursionError:
        raise TemplateSyntaxError(f"the template is nested too deeply to {step} here", 1, name) from None


class _Context(Context):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.eval_ctx.dsc_budget = _Budget()  # a derived context (scoped block) takes its parent's eval_ctx


class DataSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with the bounds of the module docstring.

    >>> DataSandbox().from_string("{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ 'x'|center(5) }}|").render()
    '1024 ababab   x  |'
    >>> DataSandbox().from_string("{{ 'a' * 10 ** 10 }}").render()
    Traceback (most recent call last):
    jinja2.exceptions.SecurityError: the repeated text or list is too long
    >>> DataSandbox().from_string("{{ '%999999999d' % 1 }}").render()
    Traceback (most recent call last):
    jinja2.exceptions.SecurityError: a printf width or precision over 100,000 is refused
    """

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _CodeGenerator
    context_class = _Context

    def __init__(self, *, none_as: str | None = None, **options):
        # `none_as`: what a None prints as ("" for exports); None keeps jinja's own "None".
        # optimized=False: jinja2 would fold constant expressions at compile time, outside the checks
        # below (`"x".upper ~ ""` became a repr before any hook ran).
        super().__init__(finalize=pass_eval_context(lambda eval_ctx, value: self._finalize(eval_ctx, value, none_as)),
                         **{"optimized": False, **options})
        self.globals["lipsum"] = _lipsum
        self.filters["wordwrap"] = _wordwrap
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    # -- parsing and compiling

    def _parse(self, source, name, filename):
        """jinja2's parser, once the template's size and nesting are checked (`_check_shape`)."""
        _check_shape(self.lex(source, name, filename), source, name)
        with _too_deep(name, "parse"):
            return super()._parse(source, name, filename)

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        with _too_deep(name, "compile"):
            return super().compile(source, name, filename, raw, defer_init)

    # -- operators, calls, loops, `~`, slices, output

    def call_binop(self, context, operator, left, right):
        budget = _budget(context.eval_ctx)
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 \
                and right * abs(left).bit_length() > MAX_POWER_BITS:
            raise SecurityError("the power is too large")
        if operator == "*":
            if isinstance(left, int) and isinstance(right, int) \
                    and left.bit_length() + right.bit_length() > MAX_POWER_BITS:
                raise SecurityError("the product is too large")
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
                    if len(seq) * n > MAX_REPEAT:
                        raise SecurityError("the repeated text or list is too long")
                    budget.check(len(seq) * n)
        elif operator == "+" and isinstance(left, (str, bytes, list, tuple)) and isinstance(right, _BUILT):
            budget.check(len(left) + len(right))
        elif operator == "%" and isinstance(left, (str, bytes)):
            budget.check(_printf_size(left, right))
        result = super().call_binop(context, operator, left, right)
        budget.build(_built(result, left, right))
        return result

    def call(self, context, obj, /, *args, **kwargs):
        budget = _budget(context.eval_ctx)
        budget.step(1 + len(args) + len(kwargs))
        owner = getattr(obj, "__self__", None)
        if owner is not None or isinstance(obj, (LoopContext, type)):
            args = self._checked_args(context, budget, obj, owner, args, kwargs)
        try:
            result = super().call(context, obj, *args, **kwargs)
        except RecursionError:  # a macro calling itself without end
            raise SecurityError("the template recurses too deeply") from None
        if not isinstance(owner, _CONTAINERS) or obj.__name__ == "copy":  # dict.get & co hand back what is there
            budget.build(_built(result, owner, *args))
        return result

    def _checked_args(self, context, budget, obj, owner, args, kwargs):
        """The checks of a method or builtin call; returns its arguments (an iterable made a list)."""
        name = getattr(obj, "__name__", None)
        if isinstance(obj, LoopContext) and args:  # `loop(children)` in a recursive loop
            return (self._dsc_iterate(context, args[0]),) + args[1:]
        if isinstance(owner, (str, bytes)):
            if name in _TEXT_METHODS:
                _TEXT_METHODS[name](budget, owner, args, kwargs)
            elif name == "join" and args:
                items = list(args[0])
                budget.step(len(items))
                budget.check(sum(len(i) for i in items if isinstance(i, (str, bytes)))
                             + len(owner) * max(len(items) - 1, 0))
                return (items,) + args[1:]
            return args
        if isinstance(owner, int) and name == "to_bytes":
            budget.check(args[0] if args and isinstance(args[0], int) else kwargs.get("length", 1))
        if isinstance(obj, (BuiltinFunctionType, type)):  # C code walking a list argument
            budget.step(sum(len(a) for a in args if isinstance(a, _CONTAINERS + (range,))))
        return args

    def _dsc_iterate(self, context, iterable):
        if isinstance(iterable, Undefined):
            return iterable
        budget = _budget(context.eval_ctx)
        try:
            budget.step(len(iterable))
        except TypeError:  # no length: count each item as it comes
            return _counted(budget, iterable)
        return iterable

    def _dsc_concat(self, context, join, values):
        budget = _budget(context.eval_ctx)
        size = 0
        for value in values:
            size += budget.text_len(value)
            budget.check(size)
        result = join(values)
        budget.build(len(result))
        return result

    def _dsc_slice(self, context, obj, key):
        result = obj[key]
        _budget(context.eval_ctx).build(_built(result, obj))
        return result

    def concat(self, parts):
        """Joins a render's (or a block's, macro's) output, at most MAX_TEXT characters."""
        parts = list(parts)
        if sum(map(len, parts)) > MAX_TEXT:
            raise SecurityError(f"the rendered text is longer than {MAX_TEXT:,} characters")
        return "".join(parts)

    def wrap_str_format(self, value):
        """jinja2's own, with a formatter that bounds widths and the formatted text."""
        if not isinstance(value, (MethodType, BuiltinMethodType)) or value.__name__ not in ("format", "format_map") \
                or not isinstance(value.__self__, str):
            return None
        f_self, is_format_map = value.__self__, value.__name__ == "format_map"
        str_type = type(f_self)
        formatter = _EscapeFormatter(self, escape=f_self.escape) if isinstance(f_self, Markup) else _Formatter(self)

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs:
                    raise TypeError("format_map() takes no keyword arguments")
                if len(args) != 1:
                    raise TypeError(f"format_map() takes exactly one argument ({len(args)} given)")
                kwargs, args = args[0], ()
            return str_type(formatter.vformat(f_self, args, kwargs))

        return wraps(value)(wrapper)

    def _finalize(self, eval_ctx, value, none_as):
        value = self._data_only(value, none_as)
        if isinstance(value, _CONTAINERS):  # printing a list builds its text
            _budget(eval_ctx).build(_budget(eval_ctx).text_len(value))
        return value

    @staticmethod
    def _data_only(value, none_as):
        if value is None:
            return none_as if none_as is not None else value
        if isinstance(value, _DATA):
            return value
        _data_leaf(value)  # an Undefined raises the error naming it
        raise SecurityError(f"a template may print data only, not a {type(value).__name__}")
