"""Which kinds of value a text column holds, and which formats and locales read them.

For a string column of short values (dates, numbers, amounts, measurements, yes/no words --
not prose), a sample of its distinct values is read with :func:`dsc.locale.standardize`, the
same reader a ``standardize`` rule uses, in each of :data:`LOCALES` (and with no locale: dsc's
canonical forms; yes/no words also in every other language of :data:`dsc.locale.booleans.WORDS`).
So "en_US reads 64 of 64" means a rule ``standardize COL as KIND locale en_US`` would read
those values, and an ambiguous value here is one that rule would refuse to guess; ``ja`` and
``nein`` read as ``bool`` in ``de_DE``. The numeric kinds are only tried when most sampled
values hold a digit.

The column is taken to be of a kind when one reader reads (or finds ambiguous) at least
:data:`MIN_SHARE` of the sample; kinds are tried in :data:`KINDS` order, most specific first.
``read_by`` lists the readers that read at least that share unambiguously; ``ambiguous`` the
values the best reader without a day-month order refuses to guess; ``disagreements`` the values
two locales read as different values (``1.099``: 1099 in de_DE, 1.099 in en_US).
Formats are value shapes over every row (each digit written ``9``: ``99/99/9999``).

Costs stay bounded: prose columns are recognised from the lengths of their first rows and
skipped, the sample is drawn from the first :data:`_SAMPLE_ROWS` rows, a quick pass on a few
values with a few locales rules most kinds out, and the full pass reads at most :data:`SAMPLE`
distinct values per locale.
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from dsc.locale import OptionError, standardize
from dsc.locale.booleans import WORDS
from dsc.locale.locales import languages

#: Locales tried, in the order ties are broken (after "no locale").
LOCALES = ("en_US", "en_GB", "en_IN", "de_DE", "de_CH", "fr_FR", "es_ES", "es_MX", "it_IT", "nl_NL",
           "pt_BR", "sv_SE", "pl_PL", "ru_RU", "ja_JP", "zh_CN")
#: Most specific first: a datetime is also a date, and an amount or measurement holds a number;
#: yes/no words last, so a column of 1 and 0 is a number.
KINDS = ("datetime", "date", "money", "quantity", "number", "bool")
#: One target unit per common dimension; a measurement column gets the first that reads it.
TARGETS = ("kg", "m", "l", "s", "degC", "km/h")
ORDERS = ("DMY", "MDY")
SAMPLE = 64
MIN_SHARE = 0.8
_QUICK = 16
_QUICK_LOCALES = ((), ("en_US",), ("de_DE",))
_LONGEST = 64  # longer values are prose, not a value of any kind
_DIGITS = 0.6  # share of sampled values with a digit that makes a column worth reading as numbers
_HEAD = 2000  # rows whose lengths decide whether a column is prose
_SAMPLE_ROWS = 20_000  # rows the distinct values are sampled from
_EXAMPLES = 5


def detect_values(col: pa.ChunkedArray | pa.Array) -> dict | None:
    """What kind of values a string column holds, or None when it holds prose or identifiers.

    >>> col = pa.array(["03/04/2019", "13/03/2014", "25/12/2020", "01/02/2021", None])
    >>> d = detect_values(col)
    >>> d["kind"], d["suggest"], d["formats"]
    ('date', {'locales': [], 'order': 'DMY'}, [{'format': '99/99/9999', 'rows': 4}])
    >>> [a["value"] for a in d["ambiguous"]]
    ['03/04/2019', '01/02/2021']
    >>> detect_values(pa.array(["a long answer written in words, as prose is", "another one"])) is None
    True
    """
    sample = _sample(col)
    if sample is None:
        return None
    digits = pc.sum(pc.match_substring_regex(pa.array(sample), r"\d")).as_py() or 0
    numeric = digits >= _DIGITS * len(sample)
    for kind in KINDS if numeric else ("bool",):
        for target in TARGETS if kind == "quantity" else (None,):
            if not _plausible(kind, sample, target):
                continue
            found = _scan(kind, sample, target)
            if found is not None:
                found["formats"] = formats(col)
                return found
    return None


def _sample(col) -> list[str] | None:
    """Up to SAMPLE distinct non-blank values, or None for prose."""
    values = pc.drop_null(col)
    if len(values) == 0:
        return None
    head = values.slice(0, _HEAD)
    short = pc.sum(pc.less_equal(pc.utf8_length(head), _LONGEST)).as_py() or 0
    if short < MIN_SHARE * len(head):
        return None
    # Distinct values of the first rows: enough to find SAMPLE of them, without hashing a
    # whole large column (the formats, which count every row, are only computed for a kind).
    trimmed = pc.utf8_trim_whitespace(values.slice(0, _SAMPLE_ROWS))
    distinct = pc.unique(pc.filter(trimmed, pc.not_equal(trimmed, "")))
    distinct = pc.filter(distinct, pc.less_equal(pc.utf8_length(distinct), _LONGEST)).slice(0, SAMPLE)
    if len(distinct) == 0:
        return None
    return distinct.to_pylist()


def _read(kind: str, value: str, locales: tuple, order: str | None, target: str | None):
    try:
        return standardize(kind, value, locales, order=order, target=target)
    except OptionError:
        return None  # a reader this kind cannot use (never for the fixed tables above)


def _plausible(kind: str, sample: list[str], target: str | None) -> bool:
    """A quick look: do a few common readers (for yes/no words, a table lookup: every one) read
    at least half of a few values?"""
    few = sample[:_QUICK]
    readers = [(loc,) if loc else () for loc, _ in _readers(kind)] if kind == "bool" else _QUICK_LOCALES
    read = 0
    for value in few:
        results = (_read(kind, value, locales, None, target) for locales in readers)
        read += any(r is not None and r.status != "rejected" for r in results)
    return read >= 0.5 * len(few)


def _scan(kind: str, sample: list[str], target: str | None) -> dict | None:
    """Read the sample with every reader; the column's summary when one reads enough of it."""
    table = []
    for loc, order in _readers(kind):
        results = [_read(kind, v, (loc,) if loc else (), order, target) for v in sample]
        table.append(((loc, order), results))
    summary = [_counts(reader, results) for reader, results in table]
    best = max(range(len(summary)), key=lambda i: (summary[i]["ok"], -summary[i]["ambiguous"], -i))
    n = len(sample)
    if summary[best]["ok"] + summary[best]["ambiguous"] < MIN_SHARE * n:
        return None
    unordered = {reader: results for reader, results in table if reader[1] is None}
    return {
        "kind": _schema_kind(kind, table[best][1]),
        "standardize": kind,
        "target": target,
        "sampled": n,
        "readers": [s for s in summary if s["ok"] + s["ambiguous"]],
        "read_by": [_name(s) for s in summary if s["ok"] >= MIN_SHARE * n],
        "ambiguous": _ambiguous(sample, table[best][1] if table[best][0][1] is None else table[0][1]),
        "disagreements": _disagreements(sample, unordered),
        "suggest": _suggest(kind, summary, best, target),
    }


def _readers(kind: str) -> list[tuple[str | None, str | None]]:
    """(locale, order) pairs, in the order ties are broken: no locale, its day-month orders for
    dates, then :data:`LOCALES`; for yes/no words then every other language with words."""
    readers: list[tuple[str | None, str | None]] = [(None, None)]
    if kind in ("date", "datetime"):
        readers += [(None, order) for order in ORDERS]
    readers += [(loc, None) for loc in LOCALES]
    if kind == "bool":
        readers += [(lang, None) for lang in WORDS if lang not in languages(LOCALES)]
    return readers


def _counts(reader: tuple, results: list) -> dict:
    statuses = [r.status if r is not None else "rejected" for r in results]
    loc, order = reader
    return {"locale": loc, "order": order, "ok": statuses.count("ok"),
            "ambiguous": statuses.count("ambiguous"), "rejected": statuses.count("rejected")}


def _name(summary: dict) -> str:
    name = summary["locale"] or "any locale"
    return f"{name}, order {summary['order']}" if summary["order"] else name


def _schema_kind(kind: str, results: list) -> str:
    """The schema type the values standardise into (a number column: int when all are whole and
    fit 64 bits; whole numbers beyond that, such as 26-digit ids, fit no number column exactly,
    as a float would round them, so they stay text: `string`)."""
    if kind != "number":
        return kind
    read = [r.value for r in results if r is not None and r.ok]
    if read and all(v == v.to_integral_value() for v in read):
        return "int" if all(-2**63 <= v < 2**63 for v in read) else "string"
    return "float"


def _ambiguous(sample: list[str], results: list) -> list[dict]:
    return [{"value": v, "reason": r.reason} for v, r in zip(sample, results)
            if r is not None and r.status == "ambiguous"][:_EXAMPLES]


def _disagreements(sample: list[str], by_reader: dict) -> list[dict]:
    """Values that several locales read, as different values (``1.099``: 1099 or 1.099)."""
    out = []
    for i, value in enumerate(sample):
        readings: dict[str, list[str]] = {}
        for (loc, _), results in by_reader.items():
            r = results[i]
            if loc and r is not None and r.ok:
                readings.setdefault(r.text, []).append(loc)
        if len(readings) > 1:
            out.append({"value": value, "readings": readings})
        if len(out) == _EXAMPLES:
            break
    return out


def _suggest(kind: str, summary: list[dict], best: int, target: str | None) -> dict:
    """The options of a ``standardize`` rule that reads what the best reader reads.

    Without a locale when no locale reads more; for numeric dates, the order that reads more
    values than the other (values like ``13/03/2014`` settle it); none when both read alike.
    """
    top = summary[best]
    plain = summary[0]
    locale = top["locale"] if top["ok"] > plain["ok"] and top["locale"] else None
    out: dict = {"locales": [locale] if locale else []}
    if kind in ("date", "datetime"):
        dmy, mdy = summary[1]["ok"], summary[2]["ok"]
        out["order"] = "DMY" if dmy > mdy else "MDY" if mdy > dmy else None
    if target:
        out["target"] = target
    return out


def formats(col, top: int = 5) -> list[dict]:
    """The commonest value shapes over every non-blank row: each digit written as ``9``.

    >>> formats(pa.array(["1.099,98 €", "5,00 €", "12.50 EUR", None]))
    [{'format': '9,99 €', 'rows': 1}, {'format': '9.999,99 €', 'rows': 1}, {'format': '99.99 EUR', 'rows': 1}]
    """
    values = pc.utf8_trim_whitespace(pc.drop_null(col))
    values = pc.filter(values, pc.not_equal(values, ""))
    if len(values) == 0:
        return []
    counts = pc.value_counts(pc.replace_substring_regex(values, r"\d", "9"))
    pairs = zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist())
    ranked = sorted(pairs, key=lambda kv: (-kv[1], kv[0]))[:top]
    return [{"format": shape, "rows": rows} for shape, rows in ranked]
