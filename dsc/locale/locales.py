"""The declared locales of a rule, as babel objects (parsed once per process)."""
from __future__ import annotations

from functools import cache
from typing import Iterable

from babel import Locale, UnknownLocaleError

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
