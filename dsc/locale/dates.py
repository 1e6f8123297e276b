"""Dates and datetimes → ISO 8601, read in the declared languages; a date is never guessed.

How a value is read:

1. A numeric date (`10.1.2019`, `03/04/2019`, `2019-01-10`, spaces around the separators
   allowed) is read here, not by dateparser, so that the order is ours to decide: a leading
   4-digit year is year-month-day (ISO 8601); a trailing one is read in the rule's `order`,
   else in the order of each declared locale's CLDR short date pattern (`dd.MM.yy` in de_DE:
   DMY; `M/d/yy` in en_US: MDY). Readings that differ (locales that disagree, or no order and
   no locale) make the value ambiguous; a value that does not fit the order is rejected,
   never swapped. A two-digit year is read only with the rule's century window (`years
   1950..2049`); without one the century is not written, and the value is rejected.
2. Anything else (month names, weekdays, `yesterday`) goes to dateparser restricted to the
   declared languages, with STRICT_PARSING (day, month and year must all be present) and no
   timestamp parser. The result must not depend on the date order dateparser assumes, the
   year must be written with four digits (or two, with a window: each two-digit number is
   tried as the year, and readings that differ are ambiguous), and a relative form
   (`yesterday`, `vor 2 Tagen`) is read only against the `base` date written in the spec.
3. A weekday written beside the date must be that date's weekday, and a month name must be
   the month read (babel's CLDR names: a second opinion on dateparser); a time zone must be a
   numeric offset, Z, UTC or GMT: `CST` is three different zones.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import cache
from typing import Any, Iterable

from dsc.locale.locales import languages as languages_of
from dsc.locale.locales import resolve
from dsc.locale.result import OptionError, Result, ambiguous, ok, rejected
from dsc.locale.text import prepare

ORDERS = ("DMY", "MDY", "YMD")
# Where the year, month and day stand among the three numbers of a numeric date, per order.
_PLACES = {"DMY": (2, 1, 0), "MDY": (2, 0, 1), "YMD": (0, 1, 2)}
_SHOWN = ("MDY", "DMY", "YMD")  # the order readings are listed in
# The century window a two-digit year needs: (first year, last year), 100 years.
Window = tuple[int, int]
WINDOW_HINT = "declare the century window, e.g. years 1950..2049"
# A two-digit number that may be a year: not part of a longer number or of a time of day.
_TWO_DIGITS = re.compile(r"(?<![\d:.,])\d{2}(?![\d:])")
# day, month and year as three numbers with one separator; spaces around it are allowed
# (`11. 12. 2014`), and a trailing dot (`24.03.2019.`, Croatian) belongs to the date.
_TRIPLE = re.compile(r"(?<![\d.])(\d{1,4})\s*([./-])\s*(\d{1,2})\s*\2\s*(\d{1,4})(?![\d])\.?")
_TIME = re.compile(
    r"(?:T|,?\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?"
    r"(?:\s*([AaPp])\.?\s?[Mm]\.?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\Z")
_OFFSET = re.compile(r"[+-]\d{2}:?\d{2}(?!\d)")
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
# Two day numbers joined by a dash beside a month name: `June 12-14, 2021` is a range.
_RANGE = re.compile(r"(?<![\d.:])\d{1,2}\.?\s*[-\u2013\u2014]\s*\d{1,2}(?![\d:])")
# Two fixed bases: a value whose reading differs between them depends on "today".
_PROBES = (dt.datetime(2001, 2, 3, 4, 5, 6), dt.datetime(2012, 7, 9, 1, 2, 3))


def window_problem(first: int, last: int) -> tuple[str, str] | None:
    """What is wrong with a century window `years FIRST..LAST` (message, hint), or None: it
    runs forwards over exactly 100 years, so that each two-digit year is one year of it.

    >>> window_problem(1950, 2049), window_problem(2049, 1950)[0], window_problem(1950, 2000)[0]
    (None, 'years 2049..1950 runs backwards', 'years 1950..2000 spans 51 years, not 100')
    """
    if first > last:
        return f"years {first}..{last} runs backwards", f"write the first year first: years {last}..{first}"
    if last - first != 99:
        return (f"years {first}..{last} spans {last - first + 1} years, not 100",
                f"a two-digit year is one year of each century: e.g. years {first}..{first + 99}")
    return None


def parse_date(value: Any, locales: Iterable[str] = (), order: str | None = None,
               base: str | None = None, years: Window | None = None) -> Result:
    """Standardise one date; the value is a `datetime.date` (written `YYYY-MM-DD`).

    A time written after the date is allowed and dropped (the date is the one written,
    whatever the time zone).

    >>> parse_date("10.1.2019", ["de"], order="DMY").text, parse_date("10. Januar 2019", ["de"]).text
    ('2019-01-10', '2019-01-10')
    >>> parse_date("03/04/2019").reason
    'ambiguous: 2019-03-04 (MDY) or 2019-04-03 (DMY); declare the order'
    >>> parse_date("03/04/2019", ["de_DE"]).text, parse_date("02/10/2016", ["hr"]).text  # CLDR: dd.MM.yy
    ('2019-04-03', '2016-10-02')
    >>> parse_date("13/03/2014").text, parse_date("13/03/2014", order="MDY").reason
    ('2014-03-13', 'does not fit the declared order MDY (month 13)')
    >>> parse_date("18.10.14", ["de_DE"], years=(1950, 2049)).text
    '2014-10-18'
    >>> print(parse_date("yesterday", ["en"]).reason)
    relative date: the rule needs a base date to read it (base "YYYY-MM-DD")
    >>> parse_date("yesterday", ["en"], base="2024-03-01").text
    '2024-02-29'
    """
    found = _read(value, tuple(locales), order, base, years)
    if not found.ok or found.value is None:
        return found
    moment = found.value[0]
    return ok(moment if type(moment) is dt.date else moment.date())


def parse_datetime(value: Any, locales: Iterable[str] = (), order: str | None = None,
                   base: str | None = None, years: Window | None = None) -> Result:
    """Standardise one date with a time of day; the value is a `datetime.datetime`, written
    ISO 8601 (`2014-11-25T22:17:00`, with its offset when one was written).

    A date without a time is rejected: midnight would be a guess.

    >>> parse_datetime("Nov 25 2014 10:17 pm", ["en"]).text
    '2014-11-25T22:17:00'
    >>> parse_datetime("15 May 2004 16:10 -0400", ["en"]).text
    '2004-05-15T16:10:00-04:00'
    >>> parse_datetime("2019-01-10").reason
    'no time of day: a date alone is not a datetime'
    """
    found = _read(value, tuple(locales), order, base, years)
    if not found.ok or found.value is None:
        return found
    moment, timed = found.value
    if not timed:
        return rejected("no time of day: a date alone is not a datetime")
    return ok(moment)


def base_date(text: str | None) -> dt.datetime | None:
    """The rule's `base` as a datetime (an ISO 8601 date or date-time), or None.

    >>> base_date("2024-01-31"), base_date(None)
    (datetime.datetime(2024, 1, 31, 0, 0), None)
    """
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise OptionError(f"base {text!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


def parse_years(text: str) -> Window:
    """A century window as written (`1950..2049`), for `dsc standardize --years`.

    >>> parse_years("1950..2049")
    (1950, 2049)
    """
    match = re.fullmatch(r"\s*(\d{1,4})\s*\.\.\s*(\d{1,4})\s*", text)
    if match is None:
        raise OptionError(f"years {text!r} is not a century window: write the first and last year, e.g. 1950..2049")
    return int(match.group(1)), int(match.group(2))


def _read(value: Any, locales: tuple[str, ...], order: str | None, base: str | None,
          years: Window | None) -> Result:
    """(moment, has_time) for one value: moment is a date, or a datetime when timed."""
    if value is None:
        return ok(None)
    if isinstance(value, dt.datetime):
        return ok((value, True))
    if isinstance(value, dt.date):
        return ok((value, False))
    if order is not None and order not in ORDERS:
        raise OptionError(f"unknown date order {order!r}; use one of {', '.join(ORDERS)}")
    if years is not None:
        problem = window_problem(*years)
        if problem:
            raise OptionError(f"{problem[0]}: {problem[1]}")
    text = prepare(value, "a date")
    if isinstance(text, Result):
        return text
    langs = languages_of(locales)
    if _TRIPLE.search(text):
        found = _numeric(text, langs, _orders(order, locales), base, years)
    else:
        found = _words(text, langs, order, base)
        if found is _NO_CENTURY:
            found = _windowed(text, langs, order, base, years) if years else \
                rejected(f"{_NO_CENTURY.reason}; {WINDOW_HINT}")
    if not found.ok:
        return found
    moment, timed = found.value
    if isinstance(moment, dt.datetime) and moment.tzinfo is not None:
        if not _explicit_zone(text, moment):
            return rejected("time-zone name: write the offset (+02:00), Z or UTC; names like CST are ambiguous")
        moment = moment.replace(tzinfo=dt.timezone(moment.utcoffset()))
    return _names_check(text, langs, moment) or ok((moment, timed))


def _numeric(text: str, langs: tuple[str, ...], orders: dict[str, str], base: str | None,
             years: Window | None) -> Result:
    match = _TRIPLE.search(text)
    day = _day(tuple(match.group(i) for i in (1, 3, 4)), orders, years)
    if not day.ok:
        return day
    prefix, suffix = text[:match.start()].strip(), text[match.end():]
    if not prefix and not suffix.strip():
        return ok((day.value, False))
    if not prefix:
        clock = _TIME.match(suffix)
        if clock:
            return _timed(day.value, clock)
    rewritten = text[:match.start()] + day.value.isoformat() + text[match.end():]
    found = _words(rewritten, langs, "YMD", base, spelled=False)
    if found.ok and _as_date(found.value[0]) != day.value:
        return rejected(f"the text around {day.value.isoformat()} names another date")
    return found


def _orders(order: str | None, locales: tuple[str, ...]) -> dict[str, str]:
    """The orders a numeric date is read in, each with who declares it: the rule's `order`,
    else each declared locale's (several locales may declare several); empty when neither
    says.

    >>> _orders("MDY", ("de_DE",)), _orders(None, ("de_DE", "de_AT", "en_US")), _orders(None, ())
    ({'MDY': ''}, {'DMY': 'de_DE, de_AT', 'MDY': 'en_US'}, {})
    """
    if order:
        return {order: ""}
    found: dict[str, list[str]] = {}
    for loc in resolve(locales):
        found.setdefault(_locale_order(loc), []).append(str(loc))
    return {o: ", ".join(names) for o, names in found.items() if o}


@cache
def _locale_order(loc) -> str | None:
    """The order of day, month and year in a locale's CLDR short date pattern (`dd.MM.yy`:
    DMY, `M/d/yy`: MDY, `y-MM-dd`: YMD); quoted text in the pattern is not a field."""
    fields = re.sub(r"'[^']*'", "", loc.date_formats["short"].pattern)
    found = "".join(dict.fromkeys({"d": "D", "M": "M", "L": "M", "y": "Y"}[c] for c in fields if c in "dMLy"))
    return found if found in _PLACES else None


def _day(parts: tuple[str, str, str], declared: dict[str, str], years: Window | None) -> Result:
    """The calendar day three numbers denote in the declared orders (`declared`: order → the
    locales that declare it, '' for the rule's own `order`; empty: none declared)."""
    a, b, c = parts
    if len(a) == 4 and len(c) <= 2:
        return _valid(int(a), int(b), int(c), "")  # ISO 8601 year-month-day, whatever the order
    if len(c) == 4 and len(a) <= 2:
        orders = {o: who for o, who in (declared or {"DMY": None, "MDY": None}).items() if o != "YMD"}
        if not orders:
            return rejected(f"written with the year last, but {_fit('YMD', declared['YMD'])} puts it first")
    elif max(map(len, parts)) <= 2:
        if years is None:
            return rejected(f"two-digit year: the century is not written; {WINDOW_HINT}")
        orders = declared or dict.fromkeys(ORDERS)
    else:
        return rejected("not a date: the year must have four digits")
    readings = {o: _in_order(parts, o, who, years) for o, who in orders.items()}
    days: dict[dt.date, list[str]] = {}
    for o in sorted(readings, key=_SHOWN.index):
        if readings[o].ok:
            days.setdefault(readings[o].value, []).append(o if not orders[o] else f"{o} in {orders[o]}")
    if len(days) > 1:
        return ambiguous(" or ".join(f"{day.isoformat()} ({', '.join(how)})" for day, how in days.items())
                         + "; declare the order")
    if days:
        return ok(next(iter(days)))
    if len(readings) == 1:
        return next(iter(readings.values()))
    return rejected("not a calendar date in either day-month order" if len(readings) == 2
                    else "not a calendar date in any order")


def _in_order(parts: tuple[str, str, str], order: str, who: str | None, years: Window | None) -> Result:
    year, month, day = (parts[i] for i in _PLACES[order])
    if len(year) == 4:
        return _valid(int(year), int(month), int(day), _fit(order, who))
    if len(year) == 1:
        return rejected(f"read {order}, the year {year} has one digit")
    return _valid(_in_window(year, years), int(month), int(day), _fit(order, who))


def _in_window(two_digits: str, years: Window) -> int:
    """The year of the window whose last two digits these are: 14 in 1950..2049 is 2014."""
    return years[0] + (int(two_digits) - years[0]) % 100


def _fit(order: str, who: str | None) -> str:
    """How an order is named in a reason: the rule's (''), a locale's, or none's (None)."""
    if who == "":
        return f"the declared order {order}"
    return f"the order {order} of {who}" if who else f"the order {order}"


def _valid(year: int, month: int, day: int, fit: str) -> Result:
    if not 1 <= month <= 12:
        return rejected(f"does not fit {fit} (month {month})" if fit else f"no month {month}")
    try:
        return ok(dt.date(year, month, day))
    except ValueError:
        return rejected(f"not a calendar date: {year:04d}-{month:02d}-{day:02d}")


def _timed(day: dt.date, clock: re.Match) -> Result:
    hour, minute = int(clock.group(1)), int(clock.group(2))
    second = int(clock.group(3) or 0)
    micro = int((clock.group(4) or "0").ljust(6, "0"))
    half = (clock.group(5) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            return rejected(f"hour {hour} with am/pm")
        hour = hour % 12 + (12 if half == "p" else 0)
    try:
        zone = _zone(clock.group(6))
    except ValueError as exc:
        return rejected(str(exc))
    try:
        return ok((dt.datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=zone), True))
    except ValueError:
        return rejected(f"not a time of day: {hour:02d}:{minute:02d}:{second:02d}")


def _zone(text: str | None) -> dt.timezone | None:
    """The zone an offset, Z, UTC or GMT names; ValueError (its message a reject reason) for an
    offset of a day or more, or of 60 minutes or more (`+25:00`, `+23:60`: no zone is that far)."""
    if text is None:
        return None
    if text in ("Z", "UTC", "GMT"):
        return dt.timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"not a UTC offset: {text} (offsets run from -23:59 to +23:59)")
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def _offset(text: str) -> dt.timedelta | None:
    """An offset written in a value, or None when it is not one (`_zone`)."""
    try:
        return _zone(text).utcoffset(None)
    except ValueError:
        return None


def _words(text: str, langs: tuple[str, ...], order: str | None, base: str | None,
           spelled: bool = True) -> Result:
    """A date written with words (`spelled`), or a numeric date with more around it, read by
    dateparser in each declared language."""
    if spelled and not any(c.isalpha() for c in text):
        return rejected("not a date (no day, month and year found)")
    if spelled and _RANGE.search(text):
        return rejected("a range of days, not one date")
    if not langs:
        return rejected("written with words, and no locale is declared to read them")
    usable = [lang for lang in langs if _dateparser_language(lang)]
    if not usable:
        return rejected(f"dateparser has no dates for {', '.join(langs)}")
    pivot = base_date(base)
    readings = {}
    for lang in usable:
        reading = _in_language(text, _dateparser_language(lang), order, pivot)
        if isinstance(reading, Result):
            return reading
        if reading is not None:
            readings[lang] = reading
    if not readings:
        return rejected(f"not a date in {', '.join(usable)}")
    (first_lang, first), *others = readings.items()
    for lang, other in others:
        if other[0] != first[0]:
            return ambiguous(f"{_shown(first[0])} in {first_lang} but {_shown(other[0])} in {lang}")
    return ok(first)


def _in_language(text: str, lang: str, order: str | None, base: dt.datetime | None):
    """(moment, timed) in one language, None when the language does not read it, or a
    Result when it reads it in a way dsc will not accept."""
    orders = (order,) if order else ("DMY", "MDY")
    found = [_parse(text, lang, o, base or _PROBES[0]) for o in orders]
    if found[0] is None:
        return None
    if any(f is None or f[0] != found[0][0] for f in found[1:]):
        return ambiguous("the day and month are numbers whose order is not declared; declare the order")
    moment, parts = found[0]
    if str(moment.year) not in _YEAR.findall(_ascii_digits(text)):
        again = _parse(text, lang, orders[0], _PROBES[1])
        if again is None or again[0] == moment:
            return _NO_CENTURY
        if base is None:
            return rejected('relative date: the rule needs a base date to read it (base "YYYY-MM-DD")')
    return moment, "time" in parts


# dateparser read a year that is not written with four digits (`5 Dec 06`); `_read` tells the
# reason with a hint, or tries the two-digit numbers with the rule's window (`_windowed`).
_NO_CENTURY = rejected("the year is not written with four digits")


def _windowed(text: str, langs: tuple[str, ...], order: str | None, base: str | None, years: Window) -> Result:
    """A date written with words and a two-digit year (`5 Dec 06`): each two-digit number is
    tried as the year, written out with the window; readings that differ are ambiguous
    (`05 Dec 06`: 2006-12-05 or 2005-12-06)."""
    readings: dict[Any, Any] = {}
    for match in _TWO_DIGITS.finditer(text):
        year = _in_window(match.group(), years)
        found = _words(f"{text[:match.start()]}{year}{text[match.end():]}", langs, order, base)
        if found.ok:
            readings.setdefault(found.value[0], found.value)
    if len(readings) > 1:
        return ambiguous(" or ".join(_shown(m) for m in readings) + ": which number is the year?")
    if readings:
        return ok(next(iter(readings.values())))
    return rejected(f"the year is not written with four digits, and no two-digit number reads as the year "
                    f"in {years[0]}..{years[1]}")


def _parse(text: str, lang: str, order: str, base: dt.datetime):
    try:
        data = _parser(lang, order, base).get_date_data(text)
    except Exception:  # noqa: BLE001 — dateparser raises assorted errors on odd text; that text is not a date
        return None
    if data is None or data["date_obj"] is None:
        return None
    return data["date_obj"], data["parts"] or ()


@cache
def _parser(lang: str, order: str, base: dt.datetime):
    from dateparser.date import DateDataParser

    return DateDataParser(languages=[lang], try_previous_locales=False, settings={
        "STRICT_PARSING": True, "DATE_ORDER": order, "PREFER_LOCALE_DATE_ORDER": False,
        "RELATIVE_BASE": base, "PARSERS": ["relative-time", "absolute-time"],
    })


@cache
def _dateparser_language(lang: str) -> str | None:
    from dateparser.data.languages_info import language_locale_dict

    return lang if lang in language_locale_dict else None


def _names_check(text: str, langs: tuple[str, ...], moment) -> Result | None:
    """A rejection when a weekday or month name in `text` contradicts the date read: a
    weekday that is not the date's (`Friday, March 3, 2020`), or a month name dateparser read
    as another month. Names are babel's (CLDR) for each declared language."""
    if not langs or not any(c.isalpha() for c in text):
        return None
    day = _as_date(moment)
    for word in _words_in(text):
        key = word.casefold().rstrip(".")
        for lang in langs:
            weekdays, months = _names(lang)
            if key in weekdays and weekdays[key] != day.weekday():
                return rejected(f"{word} is not the weekday of {day.isoformat()}")
            if key in months and months[key] != day.month:
                return rejected(f"{word} is not the month of {day.isoformat()} (read as month {day.month})")
    return None


def _words_in(text: str) -> list[str]:
    """The words of `text`: letters with their combining marks (Thai and Devanagari vowel
    signs are marks), and dots or hyphens inside a word (`sexta-feira`, Thai `มี.ค.`). A
    word glued to a digit is no name: `th` in `9th` is not Thursday."""
    words, current, glued = [], [], False
    for i, char in enumerate(text + " "):
        kind = unicodedata.category(char)[0]
        joiner = char in ".-" and current and i + 1 < len(text) and unicodedata.category(text[i + 1])[0] == "L"
        if kind in "LM" or joiner:
            if not current:
                glued = i > 0 and text[i - 1].isdigit()
            current.append(char)
            continue
        if current and not glued and not char.isdigit():
            words.append("".join(current))
        current = []
    return words


@cache
def _names(lang: str) -> tuple[dict[str, int], dict[str, int]]:
    """(weekday names → 0 for Monday … 6 for Sunday, month names → 1 … 12), wide and
    abbreviated, casefolded. A word that is both (`mar` in Spanish), that names two months,
    or that is one letter long is left out: it is too easily something else."""
    from babel import Locale

    loc = Locale.parse(lang)
    months: dict[str, set[int]] = {}
    for ctx in loc.months.values():
        for width in ("wide", "abbreviated"):
            for index, name in ctx.get(width, {}).items():
                months.setdefault(name.casefold().rstrip("."), set()).add(index)
    days: dict[str, set[int]] = {}
    for ctx in loc.days.values():
        for width in ("wide", "abbreviated"):
            for index, name in ctx.get(width, {}).items():
                days.setdefault(name.casefold().rstrip("."), set()).add(index)
    only = lambda table, other: {k: next(iter(v)) for k, v in table.items()  # noqa: E731
                                 if len(v) == 1 and len(k) > 1 and k not in other}
    return only(days, months), only(months, days)


def _explicit_zone(text: str, moment: dt.datetime) -> bool:
    """Whether the zone was written as an offset, Z, UTC or GMT (dateparser names a numeric
    offset `UTC\\-04:00`); a name beside an equal offset (`-0500 (CDT)`, RFC 2822) is fine."""
    if isinstance(moment.tzinfo, dt.timezone):
        return True
    name = moment.tzname() or ""
    if name in ("UTC", "GMT", "Z") or name.startswith("UTC\\"):
        return True
    offsets = {_offset(o) for o in _OFFSET.findall(text)} - {None}
    return moment.utcoffset() in offsets


def _as_date(moment) -> dt.date:
    return moment.date() if isinstance(moment, dt.datetime) else moment


def _ascii_digits(text: str) -> str:
    return "".join(str(int(c)) if c.isdecimal() else c for c in text)


def _shown(moment) -> str:
    return moment.isoformat() if moment.time() != dt.time() else moment.date().isoformat()
