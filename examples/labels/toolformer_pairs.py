"""Labelled pairs for `dedupe fuzzy` from real Toolformer rows, and the slice the example spec runs on.

    .venv/bin/python examples/labels/toolformer_pairs.py              # write the two files below
    .venv/bin/python examples/labels/toolformer_pairs.py candidates   # print unlabelled pairs to read

Writes
    examples/labels/toolformer_pairs.json        the labelled pairs (dedupe's training JSON)
    tests/fixtures/fuzzy/toolformer_slice.json   the rows of tests/fixtures/fuzzy/toolformer.dspec

Source: examples/data/toolformer-dedupe-only-dataset.json, copied byte for byte from
gururise/AlpacaDataCleaned @ 791174f63efa9aa54ca6c38639dc6e5bb5657d80,
dataset_extensions/GPTeacher/Toolformer/toolformer-dedupe-only-dataset.json (git blob
f4edc9a7ada89c41dca820613aea6e05a0dd7f15; MIT, GPTeacher © 2023 Teknium, see
examples/data/SOURCES.md). The script refuses any other content. A row is named by its index in
the file's JSON array; every record written is that row's instruction, input and output, verbatim.

What counts as a duplicate. Upstream removed exact copies only; many rows ask the same thing
again in other words. Two rows are a **match** when they ask for the same thing and answer it
with a call that looks up the same thing — however the question, the answer sentence or the
call's query is worded, and whichever lookup tool serves it. They are **distinct** when the
subject or quantity differs (the capital of Japan and of Sweden, the square root of 64 and of
625), when one asks for more (the weather in London, and the weather in London plus today's
news), or when one answers in prose without a tool call. Every pair in LABELS was read in full
and labelled by that rule; pairs where the rule gave no clear answer were left out.

How the pairs were found (`candidates`, which needs scikit-learn, a dependency of dsc): each
row's nearest neighbours by the cosine of character 3-gram TF-IDF over question, input and
output (mostly rewordings: matches), and rows whose questions are the same once names and
numbers are masked, with different names or numbers (look-alikes: distinct). A person reads
each printed pair and adds it to LABELS with its verdict; then the default command rewrites
the files. dedupe's own console labeller (docs/fuzzy.md) is the other way to make such a file.

The slice: the rows whose output mentions "capital of" or "speed of light", less the rows in
LABELS (so the example is judged on rows it was not trained on), each with its index as `row`.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data" / "toolformer-dedupe-only-dataset.json"
BLOB = "f4edc9a7ada89c41dca820613aea6e05a0dd7f15"
PAIRS = ROOT / "examples" / "labels" / "toolformer_pairs.json"
SLICE = ROOT / "tests" / "fixtures" / "fuzzy" / "toolformer_slice.json"
FIELDS = ("instruction", "input", "output")
SLICE_TOPICS = ("capital of", "speed of light")

# (row, row, verdict, why): read in full, labelled by the rule in the module notes.
LABELS = [
    (6084, 6832, "match", "content of nytimes.com; request() on the same URL"),
    (1984, 7591, "match", "recent advancements in AI; the same search"),
    (672, 5306, "match", "latest news about climate change; the same news query"),
    (1284, 2004, "match", "square root of 256; the same python call"),
    (1930, 2093, "match", "summary of Einstein's life; one gives the name as input"),
    (1129, 2691, "match", "sine of 30 degrees; the same python call"),
    (2122, 7653, "match", "current temperature in London; queries worded differently"),
    (91, 2136, "match", "latest stock market news; the same news query"),
    (3944, 7479, "match", "Wikipedia page of the Eiffel Tower; the same URL"),
    (4020, 5451, "match", "Wikipedia page about Einstein; the same URL"),
    (2006, 7085, "match", "information about the Eiffel Tower"),
    (4743, 5344, "match", "Wikipedia page for Einstein; the same URL"),
    (3907, 5331, "match", "latest news on cryptocurrency; one asks through the input"),
    (2238, 4672, "match", "information on Einstein, input 'Albert Einstein' in both"),
    (7333, 7482, "match", "text of Einstein's Wikipedia page; the same URL"),
    (484, 6849, "match", "information about the Eiffel Tower"),
    (4048, 5128, "match", "Wikipedia page about artificial intelligence; the same URL"),
    (3436, 5547, "match", "distance Los Angeles - New York City, cities in either order"),
    (381, 1187, "match", "top headlines about AI; news queries worded differently"),
    (1335, 5522, "match", "distance Los Angeles - New York given as input; the same call"),
    (2093, 3862, "match", "summary of Einstein's life"),
    (2108, 3898, "match", "content of example.com, as input or in the question"),
    (3741, 5893, "match", "latest news about AI; search queries worded differently"),
    (2729, 4208, "match", "the Great Barrier Reef on Wikipedia"),
    (2863, 3516, "match", "latest news about AI; only the case of the query differs"),
    (3798, 5952, "match", "today's top headlines; news queries worded differently"),
    (278, 6036, "match", "derivative of x^2 + 2x, as input or in the question"),
    (4974, 5636, "match", "list files in the current directory: shell('ls')"),
    (7, 2476, "match", "square root of 81 (input); wolfram queries worded differently"),
    (291, 3713, "match", "current date and time: shell('date')"),
    (359, 1374, "match", "square root of 196; two python spellings of it"),
    (2086, 7258, "match", "area of a circle of radius 7 (input)"),
    (2840, 7616, "match", "exchange rate USD to EUR, currencies spelt out or not"),
    (3201, 4586, "match", "information about the Eiffel Tower; one answer adds a sentence"),
    (924, 5480, "match", "16th president of the US; wikipedia in one, wolfram in the other"),
    (3641, 4765, "match", "benefits of solar energy; wolfram in one, search in the other"),
    (1499, 4890, "match", "current price of Bitcoin; search in one, wolfram in the other"),
    (54, 4378, "distinct", "100 km and 5 km to miles"),
    (156, 1186, "distinct", "GDP of Japan, CEO of Tesla"),
    (204, 1961, "distinct", "weather in Los Angeles, in New York"),
    (445, 634, "distinct", "distance San Francisco - Los Angeles, Earth - Mars"),
    (486, 4933, "distinct", "tomorrow's weather in London, in New York City"),
    (538, 7599, "distinct", "capital of Zimbabwe, of Germany"),
    (643, 4070, "distinct", "today's weather in San Francisco, in Paris"),
    (726, 800, "distinct", "square root of 144, of 121"),
    (819, 2580, "distinct", "about Albert Einstein, about Nikola Tesla"),
    (934, 4910, "distinct", "100 F, 62 F to Celsius"),
    (1109, 5871, "distinct", "square root of 144, of 625"),
    (1202, 5849, "distinct", "current temperature in Los Angeles, in London"),
    (1304, 7472, "distinct", "area of a circle of radius 7 in, 3 in"),
    (1448, 2860, "distinct", "square root of 16, of 144"),
    (1611, 5275, "distinct", "weather in Los Angeles and Berlin, in London and Paris"),
    (1731, 4011, "distinct", "square root of 36, of 144"),
    (1940, 7259, "distinct", "weather forecast for London, for Rome"),
    (2350, 3909, "distinct", "Isaac Newton's life, Jane Austen's (answered in prose)"),
    (2539, 3125, "distinct", "20 miles, 5 miles to kilometres"),
    (3567, 6516, "distinct", "population of Japan, of Brazil"),
    (3914, 5685, "distinct", "square root of 1764, of 64"),
    (4264, 4952, "distinct", "area of a circle of radius 7, 6 units"),
    (4587, 7169, "distinct", "capital city of Japan, of Sweden"),
    (5032, 6713, "distinct", "Thomas Edison's life, Albert Einstein's"),
    (5685, 5871, "distinct", "square root of 64, of 625"),
    (6792, 6806, "distinct", "area of a circle of radius 7 cm, 10 cm"),
    (52, 520, "distinct", "weather in London plus today's news, the weather alone"),
    (190, 922, "distinct", "Great Wall plus the Colosseum, the Great Wall alone"),
    (198, 5104, "distinct", "weather in Tokyo plus a disk-space command, the weather alone"),
    (199, 1205, "distinct", "cryptocurrency news plus weather, the news alone"),
    (387, 287, "distinct", "top headlines plus weather in Los Angeles, the headlines alone"),
    (628, 76, "distinct", "weather in Paris plus the Louvre's history, the weather alone"),
    (44, 819, "distinct", "about Einstein: answered in prose, and with wikipedia()"),
]


def load_rows() -> list[dict]:
    """The data file's rows, after checking it is the upstream file byte for byte."""
    raw = DATA.read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
    if blob != BLOB:
        sys.exit(f"{DATA} is not the upstream file (git blob {blob}, expected {BLOB})")
    return json.loads(raw)


def record(row: dict) -> dict:
    return {field: row[field] for field in FIELDS}


def pairs_json(rows: list[dict]) -> str:
    """The labelled-pairs file: {"match": [[rec, rec], …], "distinct": […]}, in LABELS order."""
    pairs: dict[str, list] = {"match": [], "distinct": []}
    for a, b, verdict, _ in LABELS:
        pairs[verdict].append([record(rows[a]), record(rows[b])])
    return json.dumps(pairs, ensure_ascii=False, indent=1) + "\n"


def slice_json(rows: list[dict]) -> str:
    """The example's rows: each topic row not used in a labelled pair, with its index as `row`."""
    labelled = {i for a, b, _, _ in LABELS for i in (a, b)}
    picked = [{"row": i, **record(row)} for i, row in enumerate(rows)
              if i not in labelled and any(topic in row["output"].lower() for topic in SLICE_TOPICS)]
    return json.dumps(picked, ensure_ascii=False, indent=1) + "\n"


def candidates(rows: list[dict], per_finder: int = 40) -> None:
    """Print pairs not yet in LABELS, for a person to read and label."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    done = {frozenset((a, b)) for a, b, _, _ in LABELS}
    question = [row["instruction"].rsplit("\n", 1)[-1] for row in rows]
    texts = [f"{q}\n{row['input']}\n{row['output']}" for q, row in zip(question, rows)]
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3)).fit_transform(texts)
    distances, neighbours = NearestNeighbors(n_neighbors=4, metric="cosine").fit(vectors).kneighbors(vectors)
    near = sorted({(round(float(d), 4), min(i, int(j)), max(i, int(j)))
                   for i in range(len(rows)) for d, j in zip(distances[i][1:], neighbours[i][1:])
                   if texts[i] != texts[j] and frozenset((i, int(j))) not in done})
    masked: dict[str, list[int]] = {}
    for i, q in enumerate(question):
        # Names (capitalised, not first) and numbers masked: "capital of #", "square root of #".
        masked.setdefault(re.sub(r"(?<=\s)[A-Z][\w.'-]*|\b\d[\d.,]*\b", "#", q).lower(), []).append(i)
    alike = [(a, b) for ids in masked.values() for a in ids for b in ids
             if a < b and question[a].lower() != question[b].lower() and frozenset((a, b)) not in done]
    for title, found in (("nearest neighbours (mostly rewordings)", [(a, b) for _, a, b in near]),
                         ("same question, other names or numbers (mostly look-alikes)", alike)):
        print(f"== {title}: {len(found)} pairs, every {max(1, len(found) // per_finder)}th shown")
        for a, b in found[::max(1, len(found) // per_finder)]:
            print(f"({a}, {b})")
            for i in (a, b):
                print(f"    Q  {question[i]}\n    IN {rows[i]['input']!r}\n    O  {rows[i]['output']}")


def main(argv: list[str]) -> None:
    rows = load_rows()
    if argv == ["candidates"]:
        candidates(rows)
        return
    if argv:
        sys.exit(__doc__)
    for path, text in ((PAIRS, pairs_json(rows)), (SLICE, slice_json(rows))):
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
