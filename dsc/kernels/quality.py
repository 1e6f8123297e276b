"""Heuristic text-quality measures of `drop where NAME(COL) CMP N`, one value per row, over whole
Arrow string arrays (pyarrow compute and numpy: no Python loop over rows).

Each measure follows a published filter, cited in its docstring and in docs/quality.md, so a
threshold taken from the paper or the reference code means the same here. Where the reference
splits words with a language-specific tokenizer (datatrove's `split_into_words`, spaCy or NLTK
underneath), dsc splits on Unicode whitespace as `words()` and `str.split()` do: no model, the same
words on every machine. Every deviation from the reference is stated in the measure's docstring.

A text without words (null, "", only whitespace) measures 0 everywhere a reference would divide
by zero: a rule then says by its comparison whether such rows go (`alpha_ratio(x) < 0.8` drops
them; `empty(x)` names them directly).

Every ratio is one IEEE division of two whole numbers, so it is correctly rounded, as the
threshold written in the spec is when read as a float: a ratio exactly at the threshold compares
equal to it. The values are the same on any number of workers (each row is measured by itself).

`MEASURES` is the one table of measures: `drop` dispatches through it, and the checks read the
functions' names and the ranges of their thresholds from it. Adding a measure is one entry.

pyarrow and numpy are imported inside the functions, so the checks (which read only the table)
never load them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

# Gopher's stop words (Rae et al. 2021, section A.1.1; datatrove gopher_quality_filter.STOP_WORDS).
STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")

# The characters that end a sentence: datatrove's `TERMINAL_PUNCTUATION` (src/datatrove/utils/text.py),
# which FineWeb's line_punct_ratio reads; it is Unicode's Sentence_Terminal property.
TERMINAL_PUNCTUATION = (
    "!.?\u0589\u061d\u061e\u061f\u06d4\u0700\u0701\u0702\u07f9\u0837\u0839\u083d\u083e\u0964"
    "\u0965\u104a\u104b\u1362\u1367\u1368\u166e\u1735\u1736\u17d4\u17d5\u17d6\u17d9\u17da"
    "\u1803\u1809\u1944\u1945\u1aa8\u1aa9\u1aaa\u1aab\u1b5a\u1b5b\u1b5e\u1b5f\u1b7d\u1b7e"
    "\u1c3b\u1c3c\u1c7e\u1c7f\u203c\u203d\u2047\u2048\u2049\u2e2e\u2e3c\u2e53\u2e54\u3002"
    "\ua4ff\ua60e\ua60f\ua6f3\ua6f7\ua876\ua877\ua8ce\ua8cf\ua92f\ua9c8\ua9c9\uaa5d\uaa5e"
    "\uaa5f\uaaf0\uaaf1\uabeb\ufe52\ufe56\ufe57\uff01\uff0e\uff1f\uff61\U00010a56\U00010a57"
    "\U00010f55\U00010f56\U00010f57\U00010f58\U00010f59\U00010f86\U00010f87\U00010f88"
    "\U00010f89\U00011047\U00011048\U000110be\U000110bf\U000110c0\U000110c1\U00011141"
    "\U00011142\U00011143\U000111c5\U000111c6\U000111cd\U000111de\U000111df\U00011238"
    "\U00011239\U0001123b\U0001123c\U000112a9\U0001144b\U0001144c\U000115c2\U000115c3"
    "\U000115c9\U000115ca\U000115cb\U000115cc\U000115cd\U000115ce\U000115cf\U000115d0"
    "\U000115d1\U000115d2\U000115d3\U000115d4\U000115d5\U000115d6\U000115d7\U00011641"
    "\U00011642\U0001173c\U0001173d\U0001173e\U00011944\U00011946\U00011a42\U00011a43"
    "\U00011a9b\U00011a9c\U00011c41\U00011c42\U00011ef7\U00011ef8\U00011f43\U00011f44"
    "\U00016a6e\U00016a6f\U00016af5\U00016b37\U00016b38\U00016b44\U00016e98\U0001bc9f"
    "\U0001da88"
)
# RE2 patterns (pyarrow's regex engine). A letter is what `str.isalpha` calls one (categories L*).
_LETTER = r"\pL"
# A word that is not only punctuation, symbols or controls (Gopher's "non-symbol word"; datatrove
# tests each character against its PUNCTUATION_SET, which is those three kinds of character).
_NOT_SYMBOL = r"[^\p{P}\p{S}\p{Cc}]"
_EDGE_PUNCTUATION = r"^\pP+|\pP+$"
_ENDS_A_SENTENCE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in TERMINAL_PUNCTUATION) + "]$"

DATATROVE = "https://github.com/huggingface/datatrove/blob/main/src/datatrove/pipeline/filters/"
GOPHER = "https://arxiv.org/abs/2112.11446"


@dataclass(frozen=True)
class Measure:
    """One function of `drop where NAME(COL) CMP N`: what it computes per row from a string array
    with no nulls (`measure`), and the range a threshold may take — `high` is its upper bound,
    `integer` for counts (compared with whole numbers), `fraction` for shares in [0, 1] (which may
    be written as percentages). `shows_value`: the reason a removed row carries names the measured
    value (False for the measures whose reasons were fixed before it did); `source`: where the
    definition comes from; `plan_reader`: the measure also reads the plan's params and the run
    context (`tokens()`), so its function is called as `measure(text, params, ctx)`."""

    measure: Callable
    high: int = 1
    integer: bool = False
    fraction: bool = False
    shows_value: bool = True
    source: str | None = None
    plan_reader: bool = False



def words(text):
    """Words per row, as `str.split()` counts them (Unicode whitespace; `dsc.kernels.words`).

    >>> import pyarrow as pa
    >>> words(pa.array(["two words", "", "  padded  one ", "tab\\tand\\u00a0nbsp"])).tolist()
    [2, 0, 2, 3]
    """
    from dsc.kernels.words import count_words

    return count_words(text)


def chars(text):
    """Characters (code points) per row.

    >>> import pyarrow as pa
    >>> chars(pa.array(["\\u00fcber", ""])).tolist()
    [4, 0]
    """
    import pyarrow.compute as pc

    return pc.utf8_length(text).to_numpy(zero_copy_only=False).astype("int64")


def alpha_ratio(text):
    """The share of words that hold at least one letter (Gopher: "80% of words in a document
    contain at least one alphabetic character"; datatrove GopherQualityFilter,
    max_non_alpha_words_ratio=0.8, drops below it).

    >>> import pyarrow as pa
    >>> alpha_ratio(pa.array(["a 1 b2 --", "12 34", ""])).tolist()
    [0.5, 0.0, 0.0]
    """
    import pyarrow.compute as pc

    flat, row = _words(text)
    letters = pc.match_substring_regex(flat, _LETTER).to_numpy(zero_copy_only=False)
    return _share(row, letters, row, len(text))


def mean_word_length(text):
    """The mean length in characters of the words that are not only punctuation or symbols (Gopher:
    "mean word length outside the range of 3 to 10 characters"; datatrove GopherQualityFilter
    averages over its `non_symbol_words`).

    >>> import pyarrow as pa
    >>> mean_word_length(pa.array(["ab abcd !!", "...", ""])).tolist()
    [3.0, 0.0, 0.0]
    """
    import numpy as np
    import pyarrow.compute as pc

    flat, row = _words(text)
    kept = pc.match_substring_regex(flat, _NOT_SYMBOL).to_numpy(zero_copy_only=False)
    lengths = pc.utf8_length(flat).to_numpy(zero_copy_only=False)
    total = np.bincount(row[kept], weights=lengths[kept], minlength=len(text))
    return _divide(total, np.bincount(row[kept], minlength=len(text)))


def symbol_ratio(text):
    """Hashes or ellipses per word, whichever is more (Gopher: "symbol-to-word ratio greater than
    0.1 for either the hash symbol or the ellipsis"; datatrove GopherQualityFilter counts `#`, and
    `...` plus `…`, non-overlapping, over all words — its two tests are this one maximum).

    >>> import pyarrow as pa
    >>> symbol_ratio(pa.array(["#tag #two words", "wait... what…", "......", ""])).tolist()
    [0.6666666666666666, 1.0, 2.0, 0.0]
    """
    import numpy as np
    import pyarrow.compute as pc

    def count(s):
        return pc.count_substring(text, s).to_numpy(zero_copy_only=False).astype(np.int64)

    symbols = np.maximum(count("#"), count("...") + count("\u2026"))
    return _divide(symbols, words(text))


def dup_line_ratio(text):
    """The share of lines that repeat an earlier line of the same text (Gopher's "duplicate line
    fraction", threshold 0.30; datatrove GopherRepetitionFilter: lines are what `\\n+` separates,
    so a trailing newline makes a last, empty line, and lines are compared as written).

    >>> import pyarrow as pa
    >>> dup_line_ratio(pa.array(["a\\nb\\na\\na", "a\\n\\nb", "x", ""])).tolist()
    [0.5, 0.0, 0.0, 0.0]
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    lines = pc.split_pattern_regex(text, "\n+")
    row = pc.list_parent_indices(lines).to_numpy(zero_copy_only=False)
    groups = pa.table({"row": row, "line": pc.list_flatten(lines)}).group_by(["row", "line"]).aggregate(
        [("line", "count")])
    repeats = groups.column("line_count").to_numpy() - 1
    dup = np.bincount(groups.column("row").to_numpy(), weights=repeats, minlength=len(text))
    return _divide(dup, np.bincount(row, minlength=len(text)))


def top_ngram_ratio(text, n: int):
    """The share of the text's characters in its most frequent word n-gram (Gopher's "top n-gram
    character fraction": 0.20, 0.18, 0.16 for n = 2, 3, 4; datatrove GopherRepetitionFilter:
    the n-gram's words joined by single spaces, times its count, over the length of the text; ties
    go to the n-gram seen first).

    Unlike datatrove, an n-gram that occurs once is no repetition: a text whose n-grams are all
    distinct measures 0 (datatrove gives a two-word text 1.0, so its filter drops every short text).

    >>> import pyarrow as pa
    >>> top_ngram_ratio(pa.array(["a b a b a b", "a b c d", "a b a c a b", "x"]), 2).tolist()
    [0.8181818181818182, 0.0, 0.5454545454545454, 0.0]
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    flat, row = _words(text)
    out = np.zeros(len(text))
    starts = np.arange(max(len(flat) - n + 1, 0))
    starts = starts[row[starts] == row[starts + n - 1]] if len(starts) else starts
    if not len(starts):
        return out
    parts = [flat.take(pa.array(starts + k)) for k in range(n)]
    grams = pc.binary_join_element_wise(*parts, " ")
    groups = pa.table({"row": row[starts], "gram": grams, "pos": starts}).group_by(["row", "gram"]).aggregate(
        [("pos", "count"), ("pos", "min")])
    count = groups.column("pos_count").to_numpy()
    repeated = count > 1
    g_row, count = groups.column("row").to_numpy()[repeated], count[repeated]
    first = groups.column("pos_min").to_numpy()[repeated]
    size = pc.utf8_length(groups.column("gram").filter(pa.array(repeated))).to_numpy(zero_copy_only=False)
    order = np.lexsort((first, -count, g_row))  # per row: the most frequent, then the first seen
    g_row, count, size = g_row[order], count[order], size[order]
    best = np.r_[True, g_row[1:] != g_row[:-1]] if len(g_row) else np.zeros(0, dtype=bool)
    length = pc.utf8_length(text).to_numpy(zero_copy_only=False)
    out[g_row[best]] = (size[best] * count[best]) / length[g_row[best]]
    return out


def stop_words(text):
    """How many of Gopher's eight stop words (the, be, to, of, and, that, have, with) the text uses,
    each counted once (Gopher keeps a document with at least two; datatrove GopherQualityFilter,
    min_stop_words=2, compares words as written, so "The" is not "the"). Punctuation at either end
    of a word is dropped first ("the," is "the"), as datatrove's tokenizer splits it off.

    >>> import pyarrow as pa
    >>> stop_words(pa.array(["the cat and the dog, with", "The end", "to be, or not to be"])).tolist()
    [3, 0, 2]
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    flat, row = _words(text)
    bare = pc.replace_substring_regex(flat, _EDGE_PUNCTUATION, "")
    hit = pc.is_in(bare, value_set=pa.array(STOP_WORDS)).to_numpy(zero_copy_only=False)
    groups = pa.table({"row": row[hit], "word": bare.filter(pa.array(hit))}).group_by(["row", "word"]).aggregate([])
    return np.bincount(groups.column("row").to_numpy(), minlength=len(text)).astype(np.int64)


def line_punct_ratio(text):
    """The share of non-blank lines that end in terminal punctuation (FineWeb's line_punct_ratio,
    threshold 0.12; datatrove FineWebQualityFilter: lines split on `\\n`, blank lines left out,
    `TERMINAL_PUNCTUATION` as above; C4 keeps only such lines). Trailing whitespace (a `\\r` of
    `\\r\\n` included) is not the line's end here; datatrove reads the raw line.

    >>> import pyarrow as pa
    >>> line_punct_ratio(pa.array(["One.\\nTwo\\n\\nThree!  ", "no end", "\\u3002", ""])).tolist()
    [0.6666666666666666, 0.0, 1.0, 0.0]
    """
    import pyarrow.compute as pc

    lines = pc.split_pattern(text, "\n")
    row = pc.list_parent_indices(lines).to_numpy(zero_copy_only=False)
    flat = pc.utf8_rtrim_whitespace(pc.list_flatten(lines))
    filled = pc.greater(pc.utf8_length(pc.utf8_ltrim_whitespace(flat)), 0).to_numpy(zero_copy_only=False)
    ends = pc.match_substring_regex(flat, _ENDS_A_SENTENCE).to_numpy(zero_copy_only=False)
    return _share(row[filled], ends[filled], row[filled], len(text))


# --------------------------------------------------------------------------- helpers
def _words(text):
    """The words of every row, flat, and the row each belongs to (int64 numpy)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(text)
    lists = pc.utf8_split_whitespace(trimmed)
    offsets = lists.offsets.to_numpy(zero_copy_only=False)
    sizes = np.diff(offsets)
    flat = pc.list_flatten(lists)
    row = np.repeat(np.arange(len(text), dtype=np.int64), sizes)
    blank = pc.equal(pc.utf8_length(trimmed), 0).to_numpy(zero_copy_only=False)
    if not blank.any():
        return flat, row
    keep = np.ones(len(row), dtype=bool)
    keep[offsets[:-1][blank] - offsets[0]] = False  # a blank text splits into [""]: no word
    return flat.filter(pa.array(keep)), row[keep]


def _share(row, hits, of_row, n):
    """Per row: how many of its items are hits, over how many items it has (0 without items)."""
    import numpy as np

    return _divide(np.bincount(row, weights=hits, minlength=n), np.bincount(of_row, minlength=n))


def _divide(top, bottom):
    """top / bottom per row, 0 where bottom is 0: one correctly rounded division each."""
    import numpy as np

    top, bottom = np.asarray(top, dtype=np.float64), np.asarray(bottom, dtype=np.float64)
    out = np.zeros(len(top))
    np.divide(top, bottom, out=out, where=bottom > 0)
    return out


_GOPHER_Q, _GOPHER_R = DATATROVE + "gopher_quality_filter.py", DATATROVE + "gopher_repetition_filter.py"
# The measures by name. `words` and `chars` keep their reasons as they were (no measured value);
# `tokens` needs the finetune block's tokenizer and is added by dsc.ops.drop.
MEASURES: dict[str, Measure] = {
    "words": Measure(words, high=10**9, integer=True, shows_value=False),
    "chars": Measure(chars, high=10**9, integer=True, shows_value=False),
    "alpha_ratio": Measure(alpha_ratio, fraction=True, source=_GOPHER_Q),
    "mean_word_length": Measure(mean_word_length, high=10**6, source=_GOPHER_Q),
    "symbol_ratio": Measure(symbol_ratio, high=10**6, source=_GOPHER_Q),
    "stop_words": Measure(stop_words, high=len(STOP_WORDS), integer=True, source=_GOPHER_Q),
    "dup_line_ratio": Measure(dup_line_ratio, fraction=True, source=_GOPHER_R),
    "top_2gram_ratio": Measure(partial(top_ngram_ratio, n=2), fraction=True, source=_GOPHER_R),
    "top_3gram_ratio": Measure(partial(top_ngram_ratio, n=3), fraction=True, source=_GOPHER_R),
    "top_4gram_ratio": Measure(partial(top_ngram_ratio, n=4), fraction=True, source=_GOPHER_R),
    "line_punct_ratio": Measure(line_punct_ratio, fraction=True, source=DATATROVE + "fineweb_quality_filter.py"),
}
