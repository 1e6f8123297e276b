"""Text checks every standardiser runs first: empty, too long, invisible marks, mixed scripts."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from dsc.locale.result import Result, rejected

# Longer than any date, amount or measurement people write; a longer cell is prose (and
# would make the date parser scan kilobytes).
MAX_CHARS = 120
# Scripts that are written together in one word (Japanese mixes kanji and kana).
_TOGETHER = frozenset({"CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA", "IDEOGRAPHIC"})
_WORD = re.compile(r"[^\W\d_]+|\d+")
# Symbols that sit inside Latin unit names (µm, kΩ, Å) and belong to no script of their own;
# modifier letters (the Ukrainian apostrophe ʼ) are skipped too.
_NEUTRAL = frozenset("\u00b5\u03bc\u2126\u03a9\u212b\u00c5")


def prepare(value: Any, what: str) -> str | Result:
    """The stripped text of `value` ready to read, or a Result saying why it cannot be read.

    Format characters (Unicode category Cf: the direction marks U+200E, U+200F and U+061C
    that CLDR puts around numbers and symbols in right-to-left locales, zero-width spaces and
    joiners) are removed: they change how text is shown, not what it says.

    >>> prepare("  12,50 €\\u200f ", "amount")
    '12,50 €'
    >>> prepare("", "date").reason, prepare(["a"], "date").reason
    ('empty value', 'not text: a list')
    >>> prepare("Маrch 3", "date").reason
    "mixed scripts in the word 'Маrch' (Cyrillic and Latin)"
    """
    if not isinstance(value, str):
        return rejected(f"not text: a {type(value).__name__}")
    text = "".join(c for c in value if unicodedata.category(c) != "Cf") if not value.isascii() else value
    text = unicodedata.normalize("NFC", text.strip())
    if not text:
        return rejected("empty value")
    if len(text) > MAX_CHARS:
        return rejected(f"too long to be {what} ({len(text)} characters)")
    if not text.isascii():
        mixed = mixed_script(text)
        if mixed:
            word, scripts = mixed
            what = "number" if word[0].isdigit() else "word"
            return rejected(f"mixed scripts in the {what} {word!r} ({' and '.join(scripts)})")
    return text


def mixed_script(text: str) -> tuple[str, list[str]] | None:
    """The first word whose letters (or number whose digits) come from two scripts, with
    the scripts: a Cyrillic 'М' in 'March' looks right and reads wrong.

    >>> mixed_script("10 мая 2019"), mixed_script("2016年3月20日"), mixed_script("1٢3 kg")
    (None, None, ('1٢3', ['Arabic-Indic', 'Latin']))
    """
    for match in _WORD.finditer(text):
        word = match.group()
        if word.isascii():
            continue
        scripts = sorted({_script(c) for c in word if c not in _NEUTRAL and unicodedata.category(c) != "Lm"})
        if len(scripts) > 1 and not set(scripts) <= _TOGETHER:
            return word, [s.title() for s in scripts]
    return None


def _script(char: str) -> str:
    """The script of a letter or digit, from its Unicode name (CYRILLIC SMALL LETTER A →
    CYRILLIC; DIGIT ONE → LATIN); full- and half-width forms count as their script."""
    name = unicodedata.name(char, "UNKNOWN").split()
    if name[0] == "DIGIT":
        return "LATIN"
    if name[0] in ("FULLWIDTH", "HALFWIDTH") and len(name) > 1:
        return name[1]
    return name[0]
