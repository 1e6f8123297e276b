"""Prompt templates for endpoint augmentation, rendered in jinja2's immutable sandbox.

A `template "file.j2"` (relative to the spec's folder) renders the one user message sent per
request; without one, `DEFAULT_TEMPLATE` is used. A template sees these variables only:

| name | value |
|---|---|
| `text` | the text to rewrite (for the back step of a back-translation: the pivot text) |
| `task` | `paraphrase` or `translate` |
| `method` | the rule's method: `paraphrase` or `backtranslate` |
| `step` | `paraphrase`, or `forward` / `back` for the two halves of a back-translation |
| `source_lang`, `target_lang` | language codes (`en`, `de`); `target_lang` is empty for a paraphrase |
| `source_name`, `target_name` | their English names (`English`, `German`) |
| `pivot` | the pivot language code of a back-translation, else empty |
| `column` | the augmented column's name |
| `row` | the source row's data columns (`row.category`) |

A name outside this list, or a syntax error, stops the run before any request (exit 2).
Anything that reaches for Python internals (`x.__class__`) or mutates data stops it too. A
template that fails on one row's data only (a filter given a null, say) rejects that row's
generation with the reason.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

VARIABLES = frozenset({"text", "task", "method", "step", "source_lang", "target_lang", "source_name", "target_name",
                       "pivot", "column", "row"})

DEFAULT_TEMPLATE = """\
{%- if task == "paraphrase" -%}
Paraphrase the text below. Keep its meaning, its language, and any names, numbers and code exactly \
as they are; change the wording. Reply with the paraphrase only.
{%- else -%}
Translate the text below from {{ source_name }} to {{ target_name }}. Keep names, numbers and code \
exactly as they are. Reply with the translation only.
{%- endif %}

{{ text }}"""


class TemplateProblem(Exception):
    """A template that cannot be used at all (syntax, unknown names, a sandbox violation); `missing`
    when its file cannot be read."""

    def __init__(self, message: str, missing: bool = False):
        super().__init__(message)
        self.missing = missing


class PromptTemplate:
    """A compiled prompt template and the hash of its text (part of every cache key and provenance).

    >>> t = PromptTemplate("Reword: {{ text }}", "inline")
    >>> t.render({"text": "hello"}), t.hash[:13]
    ('Reword: hello', 'sha256:318db8')
    >>> PromptTemplate("{{ secret }}", "t.j2")
    Traceback (most recent call last):
    ...
    dsc.augment.prompts.TemplateProblem: t.j2 uses secret, which a prompt template is not given (it may use column, method, pivot, row, source_lang, source_name, step, target_lang, target_name, task, text)
    """

    def __init__(self, source: str, name: str):
        from jinja2 import StrictUndefined, TemplateSyntaxError, meta

        from dsc.sandbox import DataSandbox

        self.name = name
        self.hash = "sha256:" + hashlib.sha256(source.encode("utf-8")).hexdigest()
        env = DataSandbox(undefined=StrictUndefined, autoescape=False)
        try:
            unknown = meta.find_undeclared_variables(env.parse(source)) - VARIABLES
            self.template = env.from_string(source)
        except TemplateSyntaxError as err:
            raise TemplateProblem(f"{name}:{err.lineno}: {err.message}") from None
        if unknown:
            raise TemplateProblem(f"{name} uses {', '.join(sorted(unknown))}, which a prompt template is not "
                                  f"given (it may use {', '.join(sorted(VARIABLES))})")

    def render(self, variables: dict[str, Any]) -> str:
        """The prompt; a sandbox violation raises TemplateProblem, any other failure its own exception."""
        from jinja2.exceptions import SecurityError

        try:
            return self.template.render(variables)
        except SecurityError as err:
            raise TemplateProblem(f"{self.name}: the sandbox refused an operation: {err}") from None


def load_template(path: str | None, base_dir: Path) -> PromptTemplate:
    """The template at `path` (relative to the spec's folder), or the default one."""
    if path is None:
        return PromptTemplate(DEFAULT_TEMPLATE, "the default prompt template")
    try:
        text = (base_dir / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise TemplateProblem(f"the prompt template '{path}' cannot be read ({type(err).__name__}: "
                              f"{getattr(err, 'strerror', None) or err})", missing=True) from None
    return PromptTemplate(text, path)


@functools.lru_cache(maxsize=256)
def language_name(code: str) -> str:
    """A language code's English name, for prompts; the code itself when babel does not know it.

    >>> language_name("de"), language_name("pt_BR"), language_name("xx")
    ('German', 'Portuguese (Brazil)', 'xx')
    """
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(code.replace("-", "_")).get_display_name("en") or code
    except (UnknownLocaleError, ValueError, TypeError):
        return code
