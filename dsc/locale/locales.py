"""The declared locales of a rule, as babel objects (parsed once per process), and the hint for a
misspelt one.

Suggestions for a misspelt locale stay within its language when the language is right (`en_UX` →
`en_US`, the language's most likely territory winning ties), and a language written out in English
(`german`) is mapped to its code.
"""
from __future__ import annotations

from functools import cache
from typing import Iterable

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.localedata import locale_identifiers

from dsc.diagnostics import closest, suggestion
from dsc.locale.result import OptionError


def parse_locale(text: str) -> Locale | None:
    """The babel locale for `text`, or None when babel does not know it.

    >>> parse_locale("de_DE").language, parse_locale("en_UX")
    ('de', None)
    """
    try:
        return Locale.parse(text, sep="_")
    except (ValueError, TypeError, UnknownLocaleError):
        return None


@cache
def _identifiers() -> frozenset[str]:
    return frozenset(locale_identifiers())


@cache
def _language_names() -> dict[str, str]:
    """English language names (lower case) → language code: `german` → `de`."""
    return {name.lower(): code for code, name in Locale("en").languages.items() if "_" not in code}


def suggest_locale(text: str) -> str | None:
    """A 'did you mean' hint for an unknown locale, or None.

    >>> suggest_locale("en_UX"), suggest_locale("en-GB"), suggest_locale("german")
    ("did you mean 'en_US'?", "did you mean 'en_GB'? (locales are written with '_')", "did you mean 'de' (German)?")
    """
    if "-" in text and parse_locale(text.replace("-", "_")):
        return f"did you mean '{text.replace('-', '_')}'? (locales are written with '_')"
    code = _language_names().get(text.lower())
    if code:
        return f"did you mean '{code}' ({Locale(code).english_name})?"
    language = text.split("_")[0].lower()
    ids = _identifiers()
    if language in ids and "_" in text:
        same = [i for i in ids if i == language or i.startswith(language + "_")]
        likely = get_global("likely_subtags").get(language, "")
        parts = likely.split("_")
        preferred = [f"{parts[0]}_{parts[-1]}"] if len(parts) > 1 else []
        return suggestion(closest(text, same, preferred))
    return suggestion(closest(text, ids))


@cache
def _locale(name: str) -> Locale:
    found = parse_locale(name)
    if found is None:
        raise OptionError(f"unknown locale '{name}'")
    return found


def resolve(names: Iterable[str]) -> tuple[Locale, ...]:
    """The babel locales for `names`, in the order written, without repeats.

    >>> [str(loc) for loc in resolve(["de_DE", "en", "de_DE"])]
    ['de_DE', 'en']
    """
    out: list[Locale] = []
    for name in names:
        loc = _locale(name)
        if loc not in out:
            out.append(loc)
    return tuple(out)


def languages(names: Iterable[str]) -> tuple[str, ...]:
    """The distinct languages of `names`, in order: `[de_DE, de_AT, en_US]` → `(de, en)`.

    >>> languages(["de_DE", "de_AT", "en_US"])
    ('de', 'en')
    """
    return tuple(dict.fromkeys(loc.language for loc in resolve(names)))
