"""Booleans from yes/no words of the declared languages — a table written here, not guessed.

Every language reads `true`/`false` and `1`/`0` (what standardisation writes, and what
exports write); the words of each declared locale's language are added from `WORDS`.
Case and surrounding spaces do not matter. A word true in one declared language and false
in another is ambiguous; a language missing from the table reads only the shared words.
"""
from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any, Iterable

from dsc.locale.locales import languages
from dsc.locale.result import Result, ambiguous, ok, rejected
from dsc.locale.text import prepare

SHARED = (("true", "1"), ("false", "0"))
# (true words, false words) per language; single letters only where they are the usual
# abbreviation on forms (y/n, j/n, o/n).
WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (("yes", "y", "on"), ("no", "n", "off")),
    "de": (("ja", "j", "wahr"), ("nein", "n", "falsch")),
    "fr": (("oui", "o", "vrai"), ("non", "n", "faux")),
    "es": (("sí", "si", "verdadero"), ("no", "falso")),
    "it": (("sì", "si", "vero"), ("no", "falso")),
    "pt": (("sim", "verdadeiro"), ("não", "nao", "falso")),
    "nl": (("ja", "j", "waar"), ("nee", "n", "onwaar")),
    "sv": (("ja", "sant"), ("nej", "falskt")),
    "da": (("ja", "sand"), ("nej", "falsk")),
    "nb": (("ja", "sann"), ("nei", "usann")),
    "nn": (("ja", "sann"), ("nei", "usann")),
    "fi": (("kyllä", "tosi"), ("ei", "epätosi")),
    "pl": (("tak", "prawda"), ("nie", "fałsz")),
    "cs": (("ano", "pravda"), ("ne", "nepravda")),
    "ru": (("да", "истина"), ("нет", "ложь")),
    "uk": (("так", "істина"), ("ні", "хибність")),
    "tr": (("evet", "doğru"), ("hayır", "yanlış")),
    "el": (("ναι", "αληθές"), ("όχι", "ψευδές")),
    "ja": (("はい", "真"), ("いいえ", "偽")),
    "zh": (("是", "真"), ("否", "假")),
    "ko": (("예", "네", "참"), ("아니요", "거짓")),
}


def parse_bool(value: Any, locales: Iterable[str] = ()) -> Result:
    """Standardise one yes/no value; the value is a `bool`.

    >>> parse_bool("Ja", ["de_DE"]).value, parse_bool("non", ["fr"]).value, parse_bool("1").value
    (True, False, True)
    >>> print(parse_bool("ja").reason)
    not a yes/no word in the shared table (true, 1, false, 0); declare a locale for other words
    >>> parse_bool("maybe", ["en"]).reason
    'not a yes/no word in en'
    """
    if value is None:
        return ok(None)
    if isinstance(value, bool):
        return ok(value)
    if isinstance(value, int):
        return ok(bool(value)) if value in (0, 1) else rejected(f"the number {value} is not a yes/no value")
    text = prepare(value, "a yes/no value")
    if isinstance(text, Result):
        return text
    langs = languages(locales)
    word = _folded(text)
    meanings = {}
    for lang in ("shared", *langs):
        yes, no = _table(lang)
        if word in yes:
            meanings[lang] = True
        elif word in no:
            meanings[lang] = False
    if len(set(meanings.values())) > 1:
        yes = [lang for lang, v in meanings.items() if v]
        no = [lang for lang, v in meanings.items() if not v]
        return ambiguous(f"{text!r} means yes in {', '.join(yes)} and no in {', '.join(no)}")
    if meanings:
        return ok(next(iter(meanings.values())))
    if not langs:
        return rejected("not a yes/no word in the shared table (true, 1, false, 0); declare a locale for "
                        "other words")
    missing = [lang for lang in langs if lang not in WORDS]
    note = f" (no words are declared for {', '.join(missing)})" if missing else ""
    return rejected(f"not a yes/no word in {', '.join(langs)}{note}")


def _folded(word: str) -> str:
    # casefold before comparing, on both sides: Greek final sigma folds to σ
    return unicodedata.normalize("NFC", word.casefold())


@cache
def _table(lang: str) -> tuple[frozenset[str], frozenset[str]]:
    yes, no = SHARED if lang == "shared" else WORDS.get(lang, ((), ()))
    return frozenset(map(_folded, yes)), frozenset(map(_folded, no))
