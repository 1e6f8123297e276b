"""`decontaminate COLS against "evals/*.jsonl" [fields F, …] [ngram N]` — remove every row that
shares an n-gram with an evaluation set.

The definition is the one GPT-3 used to decontaminate its training data (Brown et al. 2020,
"Language Models are Few-Shot Learners", §4 and appendix C: a training document is dropped when it
shares a 13-gram with a benchmark's text, punctuation, whitespace and casing ignored), in the form
EleutherAI's lm-evaluation-harness implements it (docs/decontamination.md, `janitor.py`: 13-grams
of the lower-cased text with ASCII punctuation deleted, split on whitespace). Here a value's
**words** are what is left of it after

1. full Unicode case folding (`str.casefold`: `Straße` is `strasse`),
2. deleting every character of Unicode category P (punctuation), the ASCII symbols
   `$ + < = > ^ | ~` and the backtick — so all of Python's `string.punctuation` goes, as in the
   harness, and `don't` is the word `dont`,
3. splitting on whitespace (`str.split`),

and an **n-gram** is N consecutive words of one value: n-grams never run from one column into the
next, nor from one eval field into another. A row is removed when any of its COLS holds an n-gram
that some text of the eval files holds (every text field of each eval row, or the `fields`
named); its reject names the column, the shared n-gram, the eval row (`file:line`, or `file#index`
for JSON arrays and parquet) and the eval field. A value of fewer than N words has no n-gram and
matches nothing (GPT-3 also matched whole benchmark examples shorter than 13 words; that is left
out here, as the harness leaves it out).

How: every n-gram is hashed (xxh3 of each word, chained), the eval hashes are indexed once per
process, and each hit is verified word for word against the eval text before a row is removed, so
a hash collision never removes a row. Up to `BLOOM_ABOVE` eval n-grams the index is the exact,
sorted set of hashes (16 bytes an n-gram); above it a Bloom filter with a false-positive rate of
at most `FALSE_POSITIVE_RATE` (about 2 bytes an n-gram) — a hit is then located in the eval texts
and verified the same way, so the rows removed are the same either way, only the time differs.

The eval files are read with the source readers (`dsc.io`: jsonl, json, parquet, csv; patterns
expand in sorted order, each file once, inside the project — DSC218 at check time, DSC309 when a
link leads out at run time). A row of an eval file that cannot be read, a named field an eval set
lacks, or an eval file with no text, stops the run (DSC302/DSC308) — an unread eval row could only
let contaminated rows through. The files' content goes into the stage's cache key
(`input_files`), so an edited eval set reruns the rule.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsc import ast
from dsc.ops.base import Operator, Params, cols, operator
from dsc.ops.runtime import RowOperator, RunError, split_rows, text_column
from dsc.syntax.write import listing, opt, words

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

DEFAULT_NGRAM = 13
# Eval n-grams above which the index is a Bloom filter rather than the exact set of hashes.
BLOOM_ABOVE = 20_000_000
# The Bloom filter's false-positive rate per n-gram probed, at most (each hit is verified anyway).
FALSE_POSITIVE_RATE = 1e-3
# Unicode punctuation and the ASCII symbols of `string.punctuation` (RE2 syntax, run by Arrow).
PUNCTUATION = r"[\p{P}$+<=>^`|~]"
_SEED = 0xDEC0_2013
_CHUNK = 1 << 20  # n-grams probed or inserted at once: bounds transient memory


@dataclass(frozen=True)
class DecontaminateRule(ast.Node):
    """`decontaminate col, col against "pattern", … [fields f, …] [ngram N]`."""

    columns: tuple[ast.Name, ...] = ast.column("decontaminate", unique=True)
    evals: tuple[ast.Str, ...]
    fields: tuple[ast.Name, ...] = ast.unique()  # empty: every text field of the eval files
    ngram: ast.Num | None = None


@operator
class Decontaminate(RowOperator, Operator):
    name = keyword = "decontaminate"
    effect = "drops rows"
    node = DecontaminateRule
    grammar = "decontaminate_stmt"

    class Params(Params):
        columns: list[str]
        against: list[str]
        fields: list[str] | None = None
        ngram: int = DEFAULT_NGRAM

    @classmethod
    def build(cls, b, tree, ch):
        return DecontaminateRule(b.leaf(ch[0]), b.leaf(ch[1]), b.leaf(ch[2]) if ch[2] is not None else (),
                                 b.leaf(ch[3]), span=b.span(tree))

    @classmethod
    def fmt(cls, n):
        return words("decontaminate", listing(n.columns), "against", listing(n.evals),
                     opt("fields", listing(n.fields) if n.fields else None), opt("ngram", n.ngram))

    @classmethod
    def compile(cls, rule, env):
        columns = ast.names(rule.columns)
        return {"columns": columns, "against": [s.value for s in rule.evals],
                "fields": ast.names(rule.fields) or None,
                "ngram": int(rule.ngram.value) if rule.ngram is not None else DEFAULT_NGRAM}, ",".join(columns)

    @classmethod
    def describe(cls, p):
        texts = f"fields {cols(p['fields'])}" if p["fields"] else "any text field"
        return (f"remove rows whose {cols(p['columns'])} share a {p['ngram']}-word n-gram (case, punctuation "
                f"and whitespace ignored) with {texts} of {', '.join(p['against'])}")

    @classmethod
    def strictness(cls, old, new):
        """A shorter n-gram removes every row a longer one does (its n-grams hold shorter ones)."""
        if any(old[k] != new[k] for k in ("columns", "against", "fields")):
            return None
        return (old["ngram"] > new["ngram"]) - (old["ngram"] < new["ngram"])

    @classmethod
    def input_files(cls, params: dict, base_dir: Path) -> list[dict[str, str]]:
        """The eval files the rule reads and the sha256 of each: part of the stage's cache key."""
        out = []
        for pattern in params["against"]:
            for path, label in _expand(pattern, Path(base_dir)):
                with path.open("rb") as handle:
                    out.append({"pattern": pattern, "file": label,
                                "sha256": hashlib.file_digest(handle, "sha256").hexdigest()})
        return out

    @classmethod
    def transform(cls, table, params, ctx):
        import numpy as np

        n_rows = table.num_rows
        if n_rows == 0:
            return np.zeros(0, dtype=bool), ""
        evals = eval_index(params["against"], params["fields"], params["ngram"], Path(ctx.base_dir))
        texts = _joined([text_column(table, c) for c in params["columns"]])
        found = evals.first_matches(texts, n_rows)
        if not found:
            return np.zeros(n_rows, dtype=bool), ""
        mask = np.zeros(n_rows, dtype=bool)
        mask[list(found)] = True
        matches = [found[row] for row in sorted(found)]
        reasons = [f"{params['columns'][m.column]} shares the {params['ngram']}-gram \"{m.ngram}\" with eval row "
                   f"{m.source} ({m.field})" for m in matches]
        return split_rows(table, mask, reasons, cluster=[m.pattern for m in matches],
                          duplicate_of=[m.source for m in matches])


# --------------------------------------------------------------------------- words and n-grams


def words_of(texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The words of every text (module docstring): (the words, flat, as strings; int64 offsets of
    each text's words, len(texts) + 1). A null has none.

    >>> import pyarrow as pa
    >>> flat, off = words_of(pa.array(["Don't  STOP — me, now!", None, "x", "well—done"]))
    >>> flat.to_pylist(), off.tolist()
    (['dont', 'stop', 'me', 'now', 'x', 'welldone'], [0, 4, 4, 5, 6])
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from dsc.kernels.text import normalize

    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if texts.null_count:
        texts = pc.fill_null(texts, "")
    texts = pc.replace_substring_regex(normalize(texts, ["casefold"]), PUNCTUATION, "")
    lists = (pc.ascii_split_whitespace if _plain_ascii(texts) else pc.utf8_split_whitespace)(texts)
    offsets = lists.offsets.to_numpy().astype(np.int64)
    flat = lists.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    offsets -= offsets[0]
    nonempty = pc.binary_length(flat).to_numpy(zero_copy_only=False) > 0  # Arrow keeps '' at the ends
    if not nonempty.all():
        kept = np.zeros(nonempty.size + 1, dtype=np.int64)
        np.cumsum(nonempty, out=kept[1:])
        offsets = kept[offsets]
        flat = flat.filter(pa.array(nonempty))
    return flat, offsets


def _plain_ascii(texts: pa.Array) -> bool:
    """Whether every byte is ASCII and none is 0x1C-0x1F: then Arrow's faster ASCII split splits as
    `str.split` does (those four separators are whitespace to Unicode, not to ASCII)."""
    import numpy as np

    data = texts.buffers()[2]
    if data is None:
        return True
    raw = np.frombuffer(data, dtype=np.uint8)
    return raw.size == 0 or (raw.max() < 0x80 and not ((raw - np.uint8(0x1C)) < 4).any())


def _word_hashes(flat: pa.Array) -> np.ndarray:
    """A 64-bit hash of each word (xxh3, each distinct word hashed once)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import xxhash

    if len(flat) == 0:
        return np.zeros(0, dtype=np.uint64)
    enc = pc.dictionary_encode(flat)
    vocab = enc.dictionary.cast(pa.large_binary()).to_pylist()
    hashed = np.fromiter((xxhash.xxh3_64_intdigest(w, _SEED) for w in vocab), dtype=np.uint64, count=len(vocab))
    return hashed[enc.indices.to_numpy(zero_copy_only=False)]


def ngram_hashes(word_hashes: np.ndarray, offsets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every n-gram inside one text: (uint64 hash, position of its first word, its text), in text order.

    >>> import numpy as np
    >>> h, start, text = ngram_hashes(np.array([1, 2, 3, 1, 2], np.uint64), np.array([0, 3, 5]), 2)
    >>> start.tolist(), text.tolist(), bool(h[0] == h[2])
    ([0, 1, 3], [0, 0, 1], True)
    """
    import numpy as np

    total = word_hashes.size
    if total < n:
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(0, dtype=np.uint64), empty, empty
    windows = total - n + 1
    acc = np.full(windows, n, dtype=np.uint64)
    mul = np.uint64(0x9E3779B97F4A7C15)
    for k in range(n):  # chained over shifted slices: order matters, so `a b` is not `b a`
        acc ^= word_hashes[k:k + windows]
        acc *= mul
    text = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))[:windows]  # the text of each word
    start = np.arange(windows, dtype=np.int64)
    inside = start + n <= offsets[text + 1]
    return _fmix64(acc[inside]), start[inside], text[inside]


def _fmix64(x: np.ndarray) -> np.ndarray:
    import numpy as np

    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> np.uint64(33)
    return x


def _joined(columns: list) -> pa.Array:
    """The columns' values one after the other (column c's row r at c * rows + r), as large strings."""
    import pyarrow as pa

    chunks = [chunk.cast(pa.large_string()) for col in columns
              for chunk in (col.chunks if isinstance(col, pa.ChunkedArray) else [col])]
    return pa.concat_arrays(chunks) if chunks else pa.array([], pa.large_string())


# --------------------------------------------------------------------------- the eval index


class Bloom:
    """A Bloom filter over 64-bit hashes: `m` bits (a power of two) and `k` probes by double hashing
    (Kirsch and Mitzenmacher), sized so that its false-positive rate (`rate`, computed as
    (1 - e^(-k n / m))^k) is at most the one asked for.

    >>> import numpy as np
    >>> bloom = Bloom(np.arange(1000, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15), 1e-3)
    >>> bool(bloom.contains(np.array([0x9E3779B97F4A7C15], np.uint64))[0]), bloom.rate <= 1e-3
    (True, True)
    """

    def __init__(self, hashes: np.ndarray, rate: float):
        import numpy as np

        n = max(1, int(hashes.size))
        self.m = 1 << max(6, math.ceil(math.log2(-n * math.log(rate) / math.log(2) ** 2)))
        self.k = max(1, round(self.m / n * math.log(2)))
        self.rate = (1 - math.exp(-self.k * n / self.m)) ** self.k
        self.bits = np.zeros(self.m >> 3, dtype=np.uint8)
        for lo in range(0, hashes.size, _CHUNK):
            for probe in self._probes(hashes[lo:lo + _CHUNK]):
                np.bitwise_or.at(self.bits, probe >> np.uint64(3),
                                 np.left_shift(1, probe & np.uint64(7)).astype(np.uint8))

    def _probes(self, h: np.ndarray):
        import numpy as np

        low, step = h & np.uint64(0xFFFFFFFF), (h >> np.uint64(32)) | np.uint64(1)
        mask = np.uint64(self.m - 1)
        for i in range(self.k):
            yield (low + np.uint64(i) * step) & mask

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        import numpy as np

        out = np.ones(hashes.size, dtype=bool)
        for lo in range(0, hashes.size, _CHUNK):
            part = out[lo:lo + _CHUNK]
            for probe in self._probes(hashes[lo:lo + _CHUNK]):
                part &= ((self.bits[probe >> np.uint64(3)] >> (probe & np.uint64(7)).astype(np.uint8)) & 1) == 1
        return out


@dataclass(frozen=True)
class Match:
    """The first verified shared n-gram of a row: in which of its columns, the n-gram's words,
    and the eval text that holds it (its pattern as written, row source and field)."""

    column: int
    ngram: str
    pattern: str
    source: str
    field: str


class EvalIndex:
    """The n-grams of every text of the eval sets, as an exact hash set or a Bloom filter.

    `texts`: the eval texts, in order (pattern, file, row, field); `pattern`, `source`, `field`:
    each text's pattern as written, eval row (`file:line` / `file#index`) and field."""

    def __init__(self, texts: pa.Array, pattern: list[str], source: list[str], field: list[str], n: int,
                 bloom_above: int | None = None):
        import numpy as np

        self.n, self.pattern, self.source, self.field = n, pattern, source, field
        self.words, self.offsets = words_of(texts)
        h, start, text = ngram_hashes(_word_hashes(self.words), self.offsets, n)
        self.ngrams = int(h.size)
        limit = BLOOM_ABOVE if bloom_above is None else bloom_above
        self.bloom = Bloom(np.unique(h), FALSE_POSITIVE_RATE) if h.size > limit else None
        if self.bloom is None:
            order = np.argsort(h, kind="stable")
            self.keys, self.start, self.text = h[order], start[order], text[order]
            # A one-probe bitmap of the hashes' top bits, about 16 bits a key: most probes of rows that
            # share nothing stop there, and only the rest are looked up in the sorted keys.
            bits = min(32, max(16, math.ceil(math.log2(max(1, h.size) * 16))))
            self.shift = np.uint64(64 - bits)
            self.bitmap = np.zeros(1 << (bits - 3), dtype=np.uint8)
            top = self.keys >> self.shift
            np.bitwise_or.at(self.bitmap, top >> np.uint64(3), np.left_shift(1, top & np.uint64(7)).astype(np.uint8))

    def contains(self, h: np.ndarray) -> np.ndarray:
        import numpy as np

        if self.bloom is not None:
            return self.bloom.contains(h)
        top = h >> self.shift
        out = ((self.bitmap[top >> np.uint64(3)] >> (top & np.uint64(7)).astype(np.uint8)) & 1) == 1
        maybe = np.flatnonzero(out)
        if maybe.size:
            at = np.minimum(np.searchsorted(self.keys, h[maybe]), self.keys.size - 1)
            out[maybe] = self.keys[at] == h[maybe]
        return out

    def locations(self, wanted: np.ndarray) -> dict[int, list[tuple[int, int]]]:
        """Where each wanted hash stands in the eval texts: [(text, first word)], in text order."""
        import numpy as np

        if self.bloom is None:
            lo, hi = np.searchsorted(self.keys, wanted, "left"), np.searchsorted(self.keys, wanted, "right")
            return {int(h): list(zip(self.text[a:b].tolist(), self.start[a:b].tolist()))
                    for h, a, b in zip(wanted, lo, hi)}
        h, start, text = ngram_hashes(_word_hashes(self.words), self.offsets, self.n)  # the filter kept no places
        picked = np.flatnonzero(np.isin(h, wanted))
        out: dict[int, list[tuple[int, int]]] = {}
        for i in picked.tolist():
            out.setdefault(int(h[i]), []).append((int(text[i]), int(start[i])))
        return out

    def first_matches(self, texts: pa.Array, rows: int) -> dict[int, Match]:
        """For each row holding an eval n-gram, the first one (by column, then position), verified
        word for word; `texts` holds the rows' columns one after the other (`_joined`)."""
        import numpy as np

        flat, offsets = words_of(texts)
        h, start, text = ngram_hashes(_word_hashes(flat), offsets, self.n)
        hit = np.flatnonzero(self.contains(h))
        if hit.size == 0:
            return {}
        row, column = text[hit] % rows, text[hit] // rows
        order = np.lexsort((start[hit], column, row))
        hit, row, column = hit[order], row[order], column[order]
        places = self.locations(np.unique(h[hit]))
        firsts = np.flatnonzero(np.concatenate(([True], row[1:] != row[:-1])))
        bounds = np.append(firsts, hit.size)
        found: dict[int, Match] = {}
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            for i in range(a, b):  # the row's hits in order; the first verified one names it
                match = self._verified(flat, int(start[hit[i]]), places.get(int(h[hit[i]]), ()), int(column[i]))
                if match is not None:
                    found[int(row[a])] = match
                    break
        return found

    def _verified(self, flat: pa.Array, at: int, places, column: int) -> Match | None:
        ngram = flat.slice(at, self.n).to_pylist()
        for text, first in places:
            if self.words.slice(first, self.n).to_pylist() == ngram:
                return Match(column, " ".join(ngram), self.pattern[text], self.source[text], self.field[text])
        return None


_INDEXES: dict[tuple, EvalIndex] = {}  # per process: Ray workers and worker processes build each once


def eval_index(against: list[str], fields: list[str] | None, n: int, base_dir: Path) -> EvalIndex:
    """The index of the eval sets `against` (patterns relative to `base_dir`), built once per process
    for the files as they are now (their paths, sizes and modification times)."""
    matched = [(pattern, _expand(pattern, base_dir)) for pattern in against]
    stamp = tuple((label, path.stat().st_size, path.stat().st_mtime_ns) for _, found in matched
                  for path, label in found)
    key = (str(base_dir.resolve()), tuple(against), tuple(fields or ()), n, stamp)
    if key not in _INDEXES:
        if len(_INDEXES) >= 4:
            _INDEXES.clear()
        _INDEXES[key] = _build(against, fields, n, base_dir)
    return _INDEXES[key]


def _expand(pattern: str, base_dir: Path) -> list[tuple[Path, str]]:
    from dsc.io import SourceError
    from dsc.io.sources import expand

    try:
        return expand((pattern,), base_dir)
    except SourceError as err:
        raise RunError(f"eval set '{pattern}': {err}", code=err.code, hint=err.hint) from None


def _build(against: list[str], fields: list[str] | None, n: int, base_dir: Path) -> EvalIndex:
    import numpy as np
    import pyarrow as pa

    from dsc.io import SourceError, SourceSpec, read_source
    from dsc.reserved import ID, SRC

    parts, pattern, source, field = [], [], [], []
    for written in against:
        try:
            result = read_source(SourceSpec(name="eval", files=(written,)), base_dir)
        except SourceError as err:  # "source 'eval' produced no rows (2 rejected)": say whose rows
            said = str(err).replace("source 'eval' ", "it ")
            raise RunError(f"eval set '{written}': {said}", code=err.code, hint=err.hint) from None
        if result.rejects:
            bad = result.rejects[0]
            raise RunError(f"eval set '{written}': {bad.source}: {bad.reason} ({len(result.rejects)} eval row(s) "
                           "cannot be read)", code="DSC302",
                           hint="every eval row must be readable: an unread one could let contaminated rows through")
        table = result.table
        names = fields or [c for c in table.column_names if c not in (ID, SRC)
                           and (pa.types.is_string(table.schema.field(c).type)
                                or pa.types.is_large_string(table.schema.field(c).type))]
        missing = [f for f in names if f not in table.column_names]
        if missing:
            have = ", ".join(c for c in table.column_names if c not in (ID, SRC))
            raise RunError(f"eval set '{written}' has no field '{missing[0]}' (its fields: {have})", code="DSC308",
                           hint="name the eval files' text fields after `fields`, or leave `fields` out")
        columns = []
        for name in names:
            try:
                columns.append(text_column(table, name))
            except RunError as err:
                raise RunError(f"eval set '{written}': {err}", code=err.code) from None
        _every_file_has_text(written, table, columns, names)
        rows, width = table.num_rows, len(names)
        # Texts in (row, field) order: row r's field f is text r * width + f.
        order = (np.arange(rows)[:, None] + np.arange(width)[None, :] * rows).ravel()
        parts.append(_joined(columns).take(pa.array(order)))
        sources = table.column(SRC).to_pylist()
        source += [s for s in sources for _ in names]
        field += names * rows
        pattern += [written] * (rows * width)
    texts = pa.concat_arrays(parts) if parts else pa.array([], pa.large_string())
    return EvalIndex(texts, pattern, source, field, n)


def _every_file_has_text(written: str, table: pa.Table, columns: list, names: list[str]) -> None:
    """Each eval file holds some text in the fields read: one that holds none was read for nothing."""
    import pyarrow.compute as pc

    from dsc.reserved import SRC

    files = pc.replace_substring_regex(table.column(SRC), r"[:#][0-9]+$", "")
    with_text = set()
    for column in columns:
        has = pc.invert(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), ""), True))
        with_text |= set(pc.unique(files.filter(has)).to_pylist())
    lacking = [f for f in dict.fromkeys(files.to_pylist()) if f not in with_text]
    if not names or lacking:
        where = lacking[0] if lacking else written
        what = f"fields {', '.join(names)}" if names else "text fields"
        raise RunError(f"eval file {where} has no text in its {what}", code="DSC302",
                       hint="an eval set needs text to compare with: name its text fields after `fields`")


def matches_of(rows: list[dict[str, Any]], columns: list[str], against: list[str], base_dir: Path,
               fields: list[str] | None = None, n: int = DEFAULT_NGRAM) -> dict[int, Match]:
    """The first verified match of each row of plain records (for tests and benchmarks)."""
    import pyarrow as pa

    table = pa.table({c: pa.array([r.get(c) for r in rows], pa.large_string()) for c in columns})
    texts = _joined([table.column(c) for c in columns])
    return eval_index(against, fields, n, Path(base_dir)).first_matches(texts, len(rows))
