"""Finding personal data in text: e-mail addresses, phone numbers, IP addresses, payment card
numbers and IBANs — for `redact` (replace them) and `has_any` (a row mask, for a filter).

Each kind is found by a cheap pattern and then *validated*, so a match is a real instance of the
kind and not merely text shaped like one; what counts as one is:

- **email**: `local@domain.tld` in ASCII — a local part of letters, digits and `._%+-`, a domain
  of dot-separated labels (letters, digits, inner hyphens) ending in a top-level domain of two or
  more letters. Internationalised addresses are not matched (their rules have no small regex).
- **ip**: an IPv4 dotted quad or an IPv6 address, each accepted only if Python's `ipaddress`
  parses it (so `999.1.1.1` and `01.2.3.4` — leading zeros — are not addresses). An IPv6 address
  must show at least three groups of hex digits: `::1` or `a::b` is left alone, because `x[1::2]`
  and `std::map` in code read exactly like that.
- **phone**: what Google's libphonenumber (`phonenumbers.PhoneNumberMatcher`, leniency VALID)
  finds — a number valid for its region's numbering plan. Numbers written without a country code
  are read in the region of the spec's `locale` (`en_US` → US); without a locale (or a locale
  with no territory) only international numbers (`+44 …`) are found.
- **credit_card**: 13 to 19 digits, unbroken or in groups of 3 to 6 digits (`4111 1111 1111 1111`,
  `3782-822463-10005`) joined by single spaces or by single hyphens, that pass the Luhn checksum
  (ISO/IEC 7812) and are not all one digit. (Single digits joined by spaces, as in a times table,
  are not a card.)
- **iban**: two letters of a country that uses IBANs, two check digits, and the rest, optionally
  grouped by single spaces, of exactly the length that country's IBANs have (the ISO 13616
  registry, `IBAN_LENGTHS`) and passing the ISO 7064 mod-97 check.

Where two kinds match overlapping text, the earlier kind of `KINDS` wins (`+41 44 668 18 00` inside
an e-mail address stays part of the address; a Luhn-valid 16-digit number is a card, not a phone).

Rows are screened in Arrow first (one RE2 pass per kind over the whole column) and only rows that
could hold a match are looked at in Python, so mostly clean text costs little.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

#: The kinds, in the order they win an overlap.
KINDS = ("email", "iban", "credit_card", "ip", "phone")
#: What a redaction writes in place of each kind, unless the rule says otherwise.
DEFAULT_REPLACEMENTS = {"email": "<EMAIL>", "phone": "<PHONE>", "ip": "<IP>", "credit_card": "<CREDIT_CARD>",
                        "iban": "<IBAN>"}

# ISO 13616 IBAN lengths by country (the SWIFT IBAN registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}

# Screens (RE2, run by Arrow over the whole column): a row that fails a kind's screen holds none of it.
_SCREENS = {
    "email": r"[A-Za-z0-9]@[A-Za-z0-9]",
    "iban": r"[A-Z]{2}[0-9]{2}",
    "credit_card": r"[0-9]{4}",
    "ip": r"[0-9]\.[0-9]|[0-9A-Fa-f]:[0-9A-Fa-f:]",
    "phone": None,  # by region: _phone_screen
}
# Digits in a phone number: the fewest a valid number of any region has after its country code.
_FEWEST_NSN_DIGITS = 4

# Candidates (Python `re`), each validated before it counts.
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}(?![A-Za-z0-9-])")
_IPV4 = re.compile(r"(?<![0-9A-Za-z.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9A-Za-z]|\.[0-9])")
_IPV6 = re.compile(r"(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:[0-9]{1,3}\.){3}[0-9]{1,3})?"
                   r"(?![0-9A-Za-z:])")
# Unbroken, or in groups of 3 to 6 digits (4-4-4-4, 4-6-5, 4-4-4-4-3) by single spaces or hyphens.
_CARD = re.compile(r"(?<![0-9A-Za-z-])(?:[0-9]{13,19}|[0-9]{3,6}(?:[ -][0-9]{3,6}){2,5})(?![0-9A-Za-z]|[ -][0-9])")
_IBAN = re.compile(r"(?<![0-9A-Za-z])[A-Z]{2}[0-9]{2}(?: ?[0-9A-Z]){11,30}(?![0-9A-Za-z])")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of digits (ISO/IEC 7812-1, annex B).

    >>> luhn_ok("4111111111111111"), luhn_ok("4111111111111112")
    (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """Whether `text` (spaces allowed) is an IBAN: a known country, its length, and mod 97 == 1.

    >>> iban_ok("DE89 3704 0044 0532 0130 00"), iban_ok("DE89 3704 0044 0532 0130 01"), iban_ok("XX89370400440532013000")
    (True, False, False)
    """
    compact = text.replace(" ", "")
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _ip_ok(candidate: str, version: int) -> bool:
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    if version == 6:
        return address.version == 6 and sum(1 for g in re.split(r"[:.]", candidate) if g) >= 3
    return address.version == 4


def _card_ok(candidate: str) -> bool:
    if " " in candidate and "-" in candidate:  # one grouping character, not a mix
        return False
    digits = candidate.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_ok(digits)


def _regex_spans(kind: str, text: str) -> Iterable[tuple[int, int]]:
    if kind == "email":
        yield from (m.span() for m in _EMAIL.finditer(text))
    elif kind == "ip":
        yield from (m.span() for m in _IPV4.finditer(text) if _ip_ok(m.group(), 4))
        yield from (m.span() for m in _IPV6.finditer(text) if _ip_ok(m.group(), 6))
    elif kind == "credit_card":
        yield from (m.span() for m in _CARD.finditer(text) if _card_ok(m.group()))
    elif kind == "iban":
        for m in _IBAN.finditer(text):
            # The pattern may run on into the next word's capitals: try the registered length only.
            compact_len = IBAN_LENGTHS.get(m.group()[:2])
            if compact_len is None:
                continue
            end, seen = m.start(), 0
            while end < m.end() and seen < compact_len:
                seen += text[end] != " "
                end += 1
            if seen == compact_len and (end == len(text) or not text[end].isalnum()) and \
                    iban_ok(text[m.start():end]):
                yield m.start(), end


@lru_cache(maxsize=None)
def _phonenumbers():
    import phonenumbers

    return phonenumbers


@lru_cache(maxsize=None)
def _phone_screen(region: str | None) -> str:
    """The rows libphonenumber could find a VALID number in, as an RE2 pattern.

    Its matcher reads digit blocks separated by at most four punctuation characters
    (`phonenumbermatcher._PUNCTUATION_LIMIT`) and accepts a number only if its digits fit its
    region's numbering plan. So an international number (`+` and a country code) shows at least
    1 + `_FEWEST_NSN_DIGITS` digits so joined, and a national one (read in `region`) at least the
    fewest digits a number of that region has, or — dialled with the region's international
    prefix — that prefix's digits, a country code digit and `_FEWEST_NSN_DIGITS`. Any non-digit
    stands in for the punctuation here, so the screen keeps every row that can match.
    """
    import re._parser

    def run(digits: int) -> str:
        return r"\p{Nd}(?:[^\p{Nd}]{0,4}\p{Nd}){%d}" % (digits - 1)

    pattern = r"[+\x{FF0B}][^\p{Nd}]{0,4}" + run(1 + _FEWEST_NSN_DIGITS)
    meta = _phonenumbers().PhoneMetadata.metadata_for_region(region) if region else None
    if meta is None:  # no region: libphonenumber reads international numbers only
        return pattern
    fewest = min(meta.general_desc.possible_length or (_FEWEST_NSN_DIGITS,))
    if meta.international_prefix:
        idd = re._parser.parse(meta.international_prefix).getwidth()[0]
        fewest = min(fewest, idd + 1 + _FEWEST_NSN_DIGITS)
    return f"{pattern}|{run(fewest)}"


def _phone_spans(text: str, region: str | None) -> Iterable[tuple[int, int]]:
    pn = _phonenumbers()
    for match in pn.PhoneNumberMatcher(text, region, leniency=pn.Leniency.VALID):
        yield match.start, match.end


def find(text: str, kinds: Sequence[str], region: str | None) -> list[tuple[int, int, str]]:
    """The non-overlapping matches (start, end, kind) of `kinds` in `text`, in text order.

    >>> find("mail bob@example.org or call +1 650-253-0000 from 10.0.0.1", ["email", "phone", "ip"], None)
    [(5, 20, 'email'), (29, 44, 'phone'), (50, 58, 'ip')]
    """
    taken: list[tuple[int, int, str]] = []
    for kind in (k for k in KINDS if k in kinds):
        spans = _phone_spans(text, region) if kind == "phone" else _regex_spans(kind, text)
        for start, end in spans:
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, kind))
    return sorted(taken)


def _candidates(texts: pa.Array, kinds: Sequence[str], region: str | None) -> np.ndarray:
    """Bool per row: could hold one of `kinds` (the Arrow screens); False for nulls."""
    import numpy as np
    import pyarrow.compute as pc

    mask = np.zeros(len(texts), dtype=bool)
    for kind in kinds:
        screen = _phone_screen(region) if kind == "phone" else _SCREENS[kind]
        hit = pc.fill_null(pc.match_substring_regex(texts, screen), False)
        mask |= hit.to_numpy(zero_copy_only=False)
    return mask


def _plain(texts) -> pa.Array:
    import pyarrow as pa

    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks() if texts.num_chunks != 1 else texts.chunk(0)
    return texts


def redact(texts: pa.Array | pa.ChunkedArray, kinds: Sequence[str], region: str | None,
           replacements: dict[str, str] | None = None) -> tuple[pa.Array, list[dict[str, int]]]:
    """`texts` with every match of `kinds` replaced (by `replacements[kind]`, else the default), and
    for each row how many of each kind it held ({} for a row with none). Nulls stay null; the type
    is kept.

    >>> import pyarrow as pa
    >>> out, counts = redact(pa.array(["card 4111 1111 1111 1111, ok", None, "none"]), ["credit_card"], None)
    >>> out.to_pylist(), counts
    (['card <CREDIT_CARD>, ok', None, 'none'], [{'credit_card': 1}, {}, {}])
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    _known(kinds)
    texts = _plain(texts)
    counts: list[dict[str, int]] = [{} for _ in range(len(texts))]
    rows = np.flatnonzero(_candidates(texts, kinds, region))
    if rows.size == 0:
        return texts, counts
    words = {**DEFAULT_REPLACEMENTS, **(replacements or {})}
    picked = pa.array(rows)
    values = texts.take(picked).to_pylist()
    changed, new_values = [], []
    for row, text in zip(rows.tolist(), values):
        found = find(text, kinds, region)
        if not found:
            continue
        pieces, at = [], 0
        for start, end, kind in found:
            pieces += [text[at:start], words[kind]]
            at = end
            counts[row][kind] = counts[row].get(kind, 0) + 1
        pieces.append(text[at:])
        changed.append(row)
        new_values.append("".join(pieces))
    if not changed:
        return texts, counts
    mask = np.zeros(len(texts), dtype=bool)
    mask[changed] = True
    return pc.replace_with_mask(texts, pa.array(mask), pa.array(new_values, type=texts.type)), counts


def has_any(texts: pa.Array | pa.ChunkedArray, kinds: Sequence[str], region: str | None) -> np.ndarray:
    """A numpy bool per row: whether it holds any of `kinds` (False for a null) — for a filter such
    as `drop where has_pii(COL)`.

    >>> import pyarrow as pa
    >>> has_any(pa.array(["IBAN GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 33", None]), ["iban"], None).tolist()
    [True, False, False]
    """
    _known(kinds)
    texts = _plain(texts)
    mask = _candidates(texts, kinds, region)
    rows = mask.nonzero()[0]
    if rows.size:
        import pyarrow as pa

        values = texts.take(pa.array(rows)).to_pylist()
        for row, text in zip(rows.tolist(), values):
            mask[row] = bool(find(text, kinds, region))
    return mask


def _known(kinds: Sequence[str]) -> None:
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown kinds of personal data {unknown}; expected some of {KINDS}")


def region_of(locale: str | None) -> str | None:
    """The territory of the spec's locale as babel reads it (`en_US` → `US`), where phone numbers
    without a country code are read; None for a locale without one, or with a numeric region
    (`es_419`), which phonenumbers does not know.

    >>> region_of("en_US"), region_of("de"), region_of("zh_Hant_TW"), region_of("es_419"), region_of(None)
    ('US', None, 'TW', None, None)
    """
    from dsc.locale.locales import parse_locale

    parsed = parse_locale(locale) if locale else None
    territory = parsed.territory if parsed is not None else None
    return territory if territory and territory.isalpha() else None
