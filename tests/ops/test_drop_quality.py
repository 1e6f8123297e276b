"""`drop where NAME(COL) CMP N` with the heuristic quality measures of dsc.kernels.quality: each
measure's value on hand-made texts, the vectorised kernels against a plain-Python reading of the
datatrove definitions they cite, the reasons (with the measured value), the laws, the plan's one
spelling per threshold, and the table the checks read."""
from collections import Counter
from decimal import Decimal

import pyarrow as pa
import pytest

from dsc.checks.options import MEASURE_FUNCS
from dsc.checks.ranges import NUMBERS
from dsc.kernels import quality
from dsc.ops.drop import MEASURES
from laws import apply, assert_laws, compile_spec, compiled, spec, table

SCHEMA = "a: text, n: int"

TEXTS = [
    "The cat sat on the mat with the hat.",      # r0: plain English
    "## ## ## #tag ...",                          # r1: symbols
    "buy now\nbuy now\nbuy now\nclick here",      # r2: repeated lines
    "spam spam spam spam spam spam",              # r3: one repeated 2-gram
    None,                                         # r4: null reads as ""
    "",                                           # r5
    "12 34 56 -- !!",                             # r6: no letters
    "First line.\nsecond line\nThird one!",       # r7: 2 of 3 lines end a sentence
]
MESSY = TEXTS + ["   ", "\u3000", "zero\u200bwidth", "\u00dcn\u00efc\u00f6d\u00e9 \u2713 three\u2026", "a\r\nb.\r\n",
                 "\u4f60\u597d\u3002\u518d\u89c1\u3002"]


def measured(func, texts):
    return MEASURES[func].measure(pa.array([t or "" for t in texts], type=pa.string())).tolist()


@pytest.mark.parametrize("func, expected", [
    ("alpha_ratio", [1.0, 0.2, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
    ("mean_word_length", [28 / 9, 4.0, 27 / 8, 4.0, 0.0, 0.0, 2.0, 29 / 6]),
    ("symbol_ratio", [0.0, 1.4, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
    ("stop_words", [2, 0, 0, 0, 0, 0, 0, 0]),
    ("dup_line_ratio", [0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]),
    ("top_2gram_ratio", [0.0, 10 / 17, 21 / 34, 45 / 29, 0.0, 0.0, 0.0, 0.0]),
    ("top_3gram_ratio", [0.0, 0.0, 22 / 34, 56 / 29, 0.0, 0.0, 0.0, 0.0]),
    ("line_punct_ratio", [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2 / 3]),
])
def test_each_measure_on_hand_made_texts(func, expected):
    """By hand: r0 has 9 words of 28 letters, `the` and `with` (`on`, `sat` are no stop words; `The`
    is not `the`); r1 has 5 words, 7 hashes, one `...` (which ends a sentence), its only word that
    is not all symbols `#tag`, its only repeated 2-gram `## ##` (5 characters, twice, in 17); r2
    repeats `buy now` twice in 4 lines, and the 2-gram `buy now` (7 characters, 3 times, in 34) and
    the 3-grams `buy now buy` and `now buy now` (twice each: the first seen counts); r3's 2-gram
    occurs 5 times, overlapping, so its share is above 1, as in datatrove; r6 ends in `!!`."""
    assert measured(func, TEXTS) == pytest.approx(expected, abs=0, rel=1e-15)


# --------------------------------------------------------------------------- against the references
def _words(t):
    return t.split()


def _has(word, kinds):
    import unicodedata

    return any(unicodedata.category(c)[0] in kinds or (kinds == "Cc" and unicodedata.category(c) == "Cc")
               for c in word)


def _reference(func, t):
    """datatrove's definitions (gopher_quality_filter.py, gopher_repetition_filter.py,
    fineweb_quality_filter.py), on str.split() words, with 0 where they would divide by zero."""
    import re
    import unicodedata

    words = _words(t)
    if func == "alpha_ratio":
        return sum(any(c.isalpha() for c in w) for w in words) / len(words) if words else 0.0
    if func == "mean_word_length":
        kept = [w for w in words if any(unicodedata.category(c)[0] not in "PS" and unicodedata.category(c) != "Cc"
                                        for c in w)]
        return sum(map(len, kept)) / len(kept) if kept else 0.0
    if func == "symbol_ratio":
        return max(t.count("#"), t.count("...") + t.count("\u2026")) / len(words) if words else 0.0
    if func == "stop_words":
        bare = {re.sub(r"^[^\w\s]+|[^\w\s]+$", "", w) for w in words}
        return len(set(quality.STOP_WORDS) & bare)
    if func == "dup_line_ratio":
        lines = re.split("\n+", t)
        return (len(lines) - len(set(lines))) / len(lines)
    if func.startswith("top_"):
        n = int(func[4])
        grams = [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
        if not grams:
            return 0.0
        gram, count = Counter(grams).most_common(1)[0]  # most_common: ties to the first seen
        return len(gram) * count / len(t) if count > 1 else 0.0
    if func == "line_punct_ratio":
        lines = [line.rstrip() for line in t.split("\n") if line.strip()]
        return sum(line.endswith(tuple(quality.TERMINAL_PUNCTUATION)) for line in lines) / len(lines) if lines else 0.0
    raise AssertionError(func)


QUALITY = [name for name, m in quality.MEASURES.items() if m.source]


@pytest.mark.parametrize("func", QUALITY)
def test_the_kernels_agree_with_a_plain_reading_of_the_references(func):
    texts = [t or "" for t in MESSY] + [
        "a b a b a b c", "b a a b b a", "x y z x y z x y z", "One. Two? three\n\n\nfour!\n", "#...#\u2026 # x",
        "the and of to be that have with The AND", "(the) [of], \"with\"", "line\nline\n\nline\n",
        "\u00e9\u00e9 \u00e9\u00e9 \u00e9\u00e9 \u00e9\u00e9", "tab\tsplit\u00a0words here",
    ]
    assert measured(func, texts) == [_reference(func, t) for t in texts]


def test_chunked_columns_measure_as_one():
    """A column read in several record batches is measured as the same rows in one array."""
    tbl = pa.Table.from_batches([table(a=TEXTS[:3]).to_batches()[0], table(a=TEXTS[3:]).to_batches()[0]])
    assert tbl.column("a").num_chunks == 2
    out = apply("drop", tbl, {"kind": "measure", "column": "a", "func": "top_2gram_ratio", "op": ">", "value": 0.5})
    assert out.removed.column("a").to_pylist() == [TEXTS[1], TEXTS[2], TEXTS[3]]


# --------------------------------------------------------------------------- the operator
@pytest.mark.parametrize("func, op, value, removed, shown", [
    ("alpha_ratio", "<", Decimal("0.8"), ["r1", "r4", "r5", "r6"], ["0.2", "0", "0", "0"]),
    ("stop_words", "<", Decimal(2), ["r1", "r2", "r3", "r4", "r5", "r6", "r7"], ["0"] * 7),
    ("dup_line_ratio", ">=", Decimal("0.5"), ["r2"], ["0.5"]),
    ("symbol_ratio", ">", Decimal("0.1"), ["r1"], ["1.4"]),
    ("mean_word_length", ">", Decimal("4.5"), ["r7"], ["4.833"]),
    ("top_2gram_ratio", ">", Decimal("0.2"), ["r1", "r2", "r3"], ["0.5882", "0.6176", "1.552"]),
    ("line_punct_ratio", "<", Decimal("0.12"), ["r2", "r3", "r4", "r5"], ["0"] * 4),
])
def test_rows_are_removed_with_the_rule_and_the_measured_value(monkeypatch, func, op, value, removed, shown):
    params = {"kind": "measure", "column": "a", "func": func, "op": op, "value": value, "negate": False}
    out = assert_laws("drop", table(a=TEXTS), params, monkeypatch)
    assert out.removed.column("_dsc_id").to_pylist() == removed
    assert out.removed.column("_dsc_reason").to_pylist() == [
        f"drop where {func}(a) {op} {value} (measured {v})" for v in shown]


@pytest.mark.parametrize("func", QUALITY)
def test_the_laws_hold_for_every_measure_on_messy_text(monkeypatch, func):
    for negate in (False, True):
        params = {"kind": "measure", "column": "a", "func": func, "op": ">", "value": Decimal("0.3"),
                  "negate": negate}
        out = assert_laws("drop", table(a=MESSY), params, monkeypatch)
        assert all("(measured " in r for r in out.removed.column("_dsc_reason").to_pylist())


def test_a_number_column_is_measured_as_its_text():
    out = apply("drop", table(a=["x"] * 3, n=[12, None, 7]),
                {"kind": "measure", "column": "n", "func": "mean_word_length", "op": "<", "value": 2})
    assert out.removed.column("_dsc_reason").to_pylist() == [
        "drop where mean_word_length(n) < 2 (measured 0)", "drop where mean_word_length(n) < 2 (measured 1)"]


def test_words_and_chars_keep_their_reasons():
    out = apply("drop", table(a=["a b", "c"]), {"kind": "measure", "column": "a", "func": "words", "op": "<", "value": 2})
    assert out.removed.column("_dsc_reason").to_pylist() == ["drop where words(a) < 2"]


# --------------------------------------------------------------------------- compile and check
@pytest.mark.parametrize("written", ["alpha_ratio(a) < 0.6", "alpha_ratio(a) < 60%", "alpha_ratio(a) < 0.60"])
def test_a_threshold_has_one_spelling_in_the_plan(written):
    got = compiled(spec(SCHEMA, f"drop where {written}"))
    params = got.plan.steps[0].params
    assert (params["func"], params["value"], "confidence" in params) == ("alpha_ratio", Decimal("0.6"), False)


@pytest.mark.parametrize("rule, message", [
    ("drop where alpha_ratio(a) < 1.5", "the alpha_ratio() threshold must be in [0, 1], not 1.5"),
    ("drop where stop_words(a) < 9", "a stop_words() count must be a whole number from 0 to 8, not 9"),
    ("drop where stop_words(a) < 20%", "a stop_words() count must be a whole number from 0 to 8, not a percentage"),
    ("drop where alpha_ratio(n) < 0.5", "alpha_ratio() needs a text column, but 'n' is int"),
    ("drop where alpa_ratio(a) < 0.5", "unknown function 'alpa_ratio'"),
])
def test_check_errors(rule, message):
    got = compile_spec(spec(SCHEMA, rule))
    assert [d.message for d in got.diagnostics] == [message]
    assert got.diagnostics[0].span.line == 12


def test_the_checks_read_the_one_table():
    assert MEASURE_FUNCS == tuple(MEASURES)
    for name, m in MEASURES.items():
        rng = NUMBERS[name]
        assert (rng.low, rng.high, rng.integer, rng.percent) == (0, 1 if m.fraction else m.high, m.integer, m.fraction)
    assert all(m.source and m.source.startswith("https://") for m in quality.MEASURES.values() if m.shows_value)
