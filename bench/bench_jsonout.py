"""Benchmark the compiled JSON writer (dsc.kernels.jsonout) against the per-row Python it replaced.

Run from the repository root (one command)::

    python -m bench.bench_jsonout               # 1M rows for the ids, 100k rejects
    python -m bench.bench_jsonout --quick       # 100k rows, 20k rejects
    python -m bench.bench_jsonout --parquet /tmp/b1m/floor.parquet   # ids of that file's `text`

Both paths run in this process on the same data, interleaved, each the best of ``--repeat``
rounds of CPU time of this thread (``time.thread_time``: other processes on a shared machine
do not count), so the ratios hold across machines while the seconds do not. Each new result is
checked byte for byte against the old one before anything is timed.

**Content ids** (`dsc.io.rowids.table_content_ids`): the rows of the pipeline benchmark's corpus
(`bench.corpus.make_corpus`, about 640 bytes of text a row) as a table with a `text` column,
and the same with an integer, a boolean and a nullable string column beside it. Old:
`_python_digests` (`to_pylist`, orjson per row, sha256); new: `_plain_digests` (the canonical
JSON of every row built column-wise by compiled loops, sha256 per row). The line `hash only`
is the sha256 loop of the new path alone: what is left of its time.

**sha256 of the ids' texts** (`dsc.kernels.sha.sha256_prefixes`): the canonical JSON of the
text-only rows, built beforehand batch by batch as `table_content_ids` does, hashed by the
hashlib loop it replaced (`hashlib_prefixes`) and by the kernel that calls OpenSSL with the GIL
released, at 1 and 2 threads. Wall time (`time.perf_counter`: the CPU time of this thread does
not count the other threads), best of ``--repeat``, all interleaved; on a machine shared with
other work the 2-thread line is the noisiest.

**rejects.jsonl** (`dsc.engines.outputs._write_table_jsonl(..., decode_row=True)`): rejects as a
stage writes them (`dsc.engines.rejects.tag_removed`, the row's data as `row_json` text) for
rows of the same corpus with an id, reason and source. Old: the writer as it was (each
`_dsc_row` decoded and re-encoded, every other value by orjson or `json`, joined by Arrow).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import time

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.corpus import make_corpus
from dsc.engines import outputs
from dsc.engines.rejects import tag_removed
from dsc.io import jsonscan, rowids
from dsc.kernels import jsonout
from dsc.reserved import ID, REASON, ROW, SRC


def cpu_best(fn, repeat: int) -> tuple[float, object]:
    """The least thread CPU time of `repeat` runs of fn(), and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.thread_time()
        out = fn()
        best = min(best, time.thread_time() - start)
    return best, out


# --------------------------------------------------------------------------- ids


def ids_old(table: pa.Table) -> bytes:
    return b"".join(rowids._python_digests(b) for b in table.to_batches(max_chunksize=rowids._BATCH_ROWS))


def ids_new(table: pa.Table) -> bytes:
    return b"".join(rowids._plain_digests(b) for b in table.to_batches(max_chunksize=rowids._BATCH_ROWS))


def hash_only(table: pa.Table) -> float:
    """CPU seconds of the new path's sha256 loop alone, over texts built beforehand (untimed)."""
    from dsc.kernels.jsonout import join_rows
    built = []
    for b in table.to_batches(max_chunksize=rowids._BATCH_ROWS):
        names = sorted(b.schema.names)
        built.append(join_rows(b.num_rows, names, [b.column(n) for n in names], sep=b",", colon=b":", drop_nulls=True))
    start = time.thread_time()
    for off, data in built:
        rowids._digests(off, data)
    return time.thread_time() - start


def sha_section(text: pa.Array, repeat: int) -> None:
    """The ids' sha256 alone: old loop against the kernel at 1 and 2 threads (wall seconds)."""
    from dsc.kernels import sha
    from dsc.kernels.jsonout import join_rows

    built = [join_rows(b.num_rows, ["text"], [b.column(0)], sep=b",", colon=b":", drop_nulls=True)
             for b in pa.table({"text": text}).to_batches(max_chunksize=rowids._BATCH_ROWS)]
    n = sum(len(off) - 1 for off, _ in built)
    size = sum(int(off[-1]) for off, _ in built)
    runs = {"old hashlib loop": lambda: b"".join(sha.hashlib_prefixes(off, data) for off, data in built),
            "kernel, 1 thread": lambda: b"".join(sha.sha256_prefixes(off, data, 1) for off, data in built),
            "kernel, 2 threads": lambda: b"".join(sha.sha256_prefixes(off, data, 2) for off, data in built)}
    want = runs["old hashlib loop"]()
    assert all(run() == want for run in runs.values()), "the sha256 prefixes differ"
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"sha256 of the ids' texts: {n} rows, {size / n:.0f} bytes a row, {sha.backend()}; "
          f"best of {repeat}, wall seconds")
    old = best["old hashlib loop"]
    for name, seconds in best.items():
        print(f"  {name:24s} {seconds:6.3f}  ({seconds / n * 1e9:4.0f} ns a row)  old/this {old / seconds:5.2f}x")


# --------------------------------------------------------------------------- rejects


def _old_json_values(column: pa.Array, decode: bool) -> pa.Array:
    values = column.to_pylist()
    if decode:
        values = map(jsonscan.decode_row, values)
    elif jsonout.plain(column.type):
        return pa.array(list(map(orjson.dumps, values)), pa.binary())
    return pa.array([outputs._ROW_ENCODER.encode(v).encode("utf-8") for v in values], pa.binary())


def rejects_old(table: pa.Table) -> bytes:
    """The writer before dsc.kernels.jsonout (orjson / json per value, Arrow joins)."""
    sink = io.BytesIO()
    names = sorted(table.column_names)
    keys = [json.dumps(n, ensure_ascii=False).encode("utf-8") + b": " for n in names]
    keys[0] = b"{" + keys[0]
    for batch in table.to_batches(max_chunksize=outputs.BATCH_ROWS):
        values = [_old_json_values(batch.column(name), name == ROW) for name in names]
        fields = [pc.binary_join_element_wise(key, value, b"") for key, value in zip(keys, values)]
        lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*fields, b", "), b"}\n", b"")
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
        sink.write(memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]])
    return sink.getvalue()


def rejects_new(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    outputs._write_table_jsonl(sink, table, decode_row=True)
    return sink.getvalue()


def reject_table(texts: pa.Array) -> pa.Table:
    n = len(texts)
    removed = pa.table({"text": texts, "n": pa.array(np.arange(n) % 97, pa.int64()),
                        ID: pa.array([f"{i:016x}" for i in range(n)]),
                        REASON: pa.array(["text is shorter than 50 characters"] * n),
                        SRC: pa.array([f"corpus.jsonl:{i + 1}" for i in range(n)])})
    return tag_removed(removed, "filter[text_len]", 12)


# --------------------------------------------------------------------------- main


def old_and_new(old_fn, new_fn, repeat: int) -> tuple[float, float]:
    """Best thread CPU seconds of the old and the new path, rounds interleaved so load changes hit both."""
    old = new = float("inf")
    for _ in range(repeat):
        old = min(old, cpu_best(old_fn, 1)[0])
        new = min(new, cpu_best(new_fn, 1)[0])
    return old, new


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rejects", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100k rows, 20k rejects")
    parser.add_argument("--parquet", help="take the `text` column of this parquet file for the ids")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.rejects = 100_000, 20_000
    if args.parquet:
        texts = pq.read_table(args.parquet, columns=["text"]).column("text").combine_chunks()
    else:
        texts = pa.array(make_corpus(max(args.rows, args.rejects), seed=0)["text"], pa.string())
    text = texts.slice(0, args.rows)
    n = len(text)
    print(f"ids: {n} rows, {pc.sum(pc.binary_length(text)).as_py() / n:.0f} bytes of text a row; "
          f"best of {args.repeat}, thread CPU seconds")
    rng = np.random.default_rng(0)
    mixed = pa.table({"text": text, "n": pa.array(rng.integers(-2**40, 2**40, n)),
                      "ok": pa.array(rng.random(n) < 0.5),
                      "lang": pa.array(np.where(rng.random(n) < 0.3, None, "en").tolist(), pa.string())})
    for name, table in (("text only", pa.table({"text": text})), ("text+int+bool+null str", mixed)):
        ids_new(table.slice(0, 10))  # compile (or load the cached machine code) untimed
        assert ids_new(table) == ids_old(table), "the ids differ"
        old, new = old_and_new(lambda: ids_old(table), lambda: ids_new(table), args.repeat)
        print(f"  {name:24s} old {old:6.3f}  new {new:6.3f}  old/new {old / new:5.2f}x")
    hashed = min(hash_only(pa.table({"text": text})) for _ in range(args.repeat))
    size = pc.sum(pc.binary_length(text)).as_py() + 11 * n
    print(f"  hash only (text only)    {hashed:6.3f}  ({size / hashed / 1e6:.0f} MB/s of JSON, "
          f"{hashed / n * 1e9:.0f} ns a row)")
    big = np.frombuffer(np.random.default_rng(1).bytes(64 << 20), np.uint8)
    one, _ = cpu_best(lambda: hashlib.sha256(big).digest(), args.repeat)
    print(f"  sha256 of one 64 MiB buffer: {big.size / one / 1e6:.0f} MB/s (OpenSSL, the floor for any row loop)")
    sha_section(text, args.repeat)

    rejects = reject_table(texts.slice(0, args.rejects))
    print(f"rejects.jsonl: {rejects.num_rows} rejects")
    rejects_new(rejects.slice(0, 10))
    assert rejects_new(rejects) == rejects_old(rejects), "rejects.jsonl differs"
    old, new = old_and_new(lambda: rejects_old(rejects), lambda: rejects_new(rejects), args.repeat)
    print(f"  {'stage rejects':24s} old {old:6.3f}  new {new:6.3f}  old/new {old / new:5.2f}x")


if __name__ == "__main__":
    main()
