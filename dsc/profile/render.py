"""The profile for people: rich tables, built from the profile dict and nothing else.

So whatever the tables show, ``--json`` has too. Tables: the row-level figures (duplicates,
conflicts, near duplicates), one line per column, their lengths, the placeholder spellings, the columns whose
values are dates, numbers, money or measurements, the control characters found, and the rejected rows by reason.

>>> import io
>>> from rich.console import Console
>>> console = Console(file=io.StringIO(), width=120, color_system=None)
>>> render_profile({"name": "demo", "inputs": [], "rows": 2, "rejected_rows": 0, "rejects": [],
...                 "exact_duplicate_rows": 1, "key": None, "near_duplicates": None, "columns": []}, console)
>>> "exact duplicate rows │    1 │ 50.0%" in console.file.getvalue()
True
"""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

_MAX_LIST = 5


def render_profile(profile: dict, console: Console) -> None:
    """Print the profile's tables to ``console``."""
    n = profile["rows"]
    files = ", ".join(f"{i['path']} ({_size(i['bytes'])})" for i in profile["inputs"])
    console.print(f"[bold]{profile['name']}[/bold]: {n:,} rows, {len(profile['columns'])} columns"
                  + (f", [red]{profile['rejected_rows']:,} rejected[/red]" if profile["rejected_rows"] else "")
                  + (f" — {files}" if files else ""))
    if profile.get("explode"):
        console.print(f"{profile['explode']} exploded: one row per element of its lists")
    if profile.get("bookkeeping"):
        console.print(f"[dim]left out: {', '.join(profile['bookkeeping'])}, dsc's bookkeeping (row ids, splits …) "
                      "from the run that wrote this file[/dim]")
    console.print(_rows_table(profile))
    if profile["columns"]:
        console.print(_columns_table(profile["columns"]))
    measured = [c for c in profile["columns"] if c.get("length")]
    if measured:
        console.print(_lengths_table(measured))
    spelled = [c for c in profile["columns"] if c.get("placeholders")]
    if spelled:
        console.print(_placeholders_table(spelled))
    valued = [c for c in profile["columns"] if c.get("values")]
    if valued:
        console.print(_values_table(valued))
    controlled = [c for c in profile["columns"] if c.get("control_chars")]
    if controlled:
        console.print(_control_table(controlled))
    if profile["rejects"]:
        console.print(_rejects_table(profile))


def _share(k: int | None, n: int) -> str:
    if k is None:
        return ""
    return f"{k / n:.1%}" if n else "-"


def _size(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return str(size)


def _rows_table(p: dict) -> Table:
    n = p["rows"]
    table = Table(title="Rows", title_justify="left")
    table.add_column("figure")
    table.add_column("rows", justify="right")
    table.add_column("share", justify="right")
    table.add_column("meaning", style="dim")
    table.add_row("exact duplicate rows", f"{p['exact_duplicate_rows']:,}", _share(p["exact_duplicate_rows"], n),
                  "rows equal to an earlier row in every column")
    if p.get("key"):
        key = ", ".join(p["key"])
        table.add_row("key duplicate rows", f"{p['key_duplicate_rows']:,}", _share(p["key_duplicate_rows"], n),
                      f"rows repeating an earlier key ({key})")
        table.add_row("… after normalising", f"{p['normalized_key_duplicate_rows']:,}",
                      _share(p["normalized_key_duplicate_rows"], n), "the same, case folded, whitespace collapsed")
        if p.get("target"):
            table.add_row("conflict groups", f"{p['conflict_groups']:,}", "",
                          f"keys with 2+ different {p['target']} values")
            table.add_row("conflict rows", f"{p['conflict_rows']:,}", _share(p["conflict_rows"], n),
                          "rows whose key is in such a group")
    near = p.get("near_duplicates")
    if near:
        table.add_row("near-duplicate rows", f"{near['rows']:,}", _share(near["rows"], n),
                      f"MinHash estimate, Jaccard ≥ {near['threshold']} over word {near['ngram']}-grams of "
                      f"{', '.join(near['columns'])} (exact copies: {near['exact_rows']:,}; "
                      f"clusters: {near['clusters']:,})")
    if p["rejected_rows"]:
        total = n + p["rejected_rows"]
        table.add_row("rejected rows", f"{p['rejected_rows']:,}", _share(p["rejected_rows"], total),
                      "records that did not load (see below)")
    return table


def _columns_table(columns: list[dict]) -> Table:
    table = Table(title="Columns", title_justify="left")
    table.add_column("column", no_wrap=True)
    table.add_column("type", no_wrap=True)
    for name in ("nulls", "empty", "blank", "distinct", "control", "untrimmed"):
        table.add_column(name, justify="right")
    for c in columns:
        kind = c["type"] + (" {" + ", ".join(c["labels"][:_MAX_LIST]) + ("…}" if len(c["labels"]) > _MAX_LIST else "}")
                            if c.get("labels") else "")
        table.add_row(c["name"], kind, _num(c["nulls"]), _num(c.get("empty")), _num(c.get("blank")),
                      _num(c.get("distinct")), _num(c.get("control_rows")), _num(c.get("untrimmed_rows")))
    return table


def _lengths_table(columns: list[dict]) -> Table:
    table = Table(title="Lengths (characters; lists: elements)", title_justify="left")
    table.add_column("column", no_wrap=True)
    for name in ("min", "p50", "p90", "p99", "max", "mean"):
        table.add_column(name, justify="right")
    for c in columns:
        d = c["length"]
        table.add_row(c["name"], *(f"{d[k]:,}" for k in ("min", "p50", "p90", "p99", "max")), f"{d['mean']:,.1f}")
    return table


def _placeholders_table(columns: list[dict]) -> Table:
    table = Table(title='Placeholders: values that may mean "no value"', title_justify="left")
    table.add_column("column", no_wrap=True)
    table.add_column("spellings (rows)")
    table.add_column("inconsistent")
    for c in columns:
        shown = ", ".join(f"{v!r} ×{k:,}" for v, k in list(c["placeholders"].items())[:_MAX_LIST])
        table.add_row(c["name"], shown, "[yellow]yes[/yellow]" if c.get("inconsistent_placeholders") else "no")
    return table


def _num(k: int | None) -> str:
    return "" if k is None else f"{k:,}"


def _values_table(columns: list[dict]) -> Table:
    table = Table(title="Values: dates, numbers, money, measurements", title_justify="left")
    table.add_column("column", no_wrap=True)
    for name in ("kind", "formats", "read by (of the sample)", "ambiguous", "rule options"):
        table.add_column(name)
    for c in columns:
        v = c["values"]
        formats = "\n".join(f"{f['format']} ×{f['rows']:,}" for f in v["formats"][:3])
        shown = 3
        read_by = "\n".join(v["read_by"][:shown]) + (f"\n(+{len(v['read_by']) - shown} more)"
                                                   if len(v["read_by"]) > shown else "")
        unclear = [f"{a['value']}: {a['reason']}" for a in v["ambiguous"][:2]]
        unclear += [f"{d['value']}: " + " or ".join(f"{r} ({', '.join(locs[:2])})" for r, locs in d["readings"].items())
                    for d in v["disagreements"][:2]]
        table.add_row(c["name"], f"{v['standardize']}\n{v['sampled']} sampled", formats, read_by or "no reader",
                      "\n".join(unclear), _options(v["suggest"]))
    return table


def _options(suggest: dict) -> str:
    parts = []
    if suggest.get("target"):
        parts.append(suggest["target"])
    if suggest.get("locales"):
        parts.append(f"locale {suggest['locales'][0]}")
    if suggest.get("order"):
        parts.append(f"order {suggest['order']}")
    return " ".join(parts) or "none needed"


def _control_table(columns: list[dict]) -> Table:
    table = Table(title="Control characters", title_justify="left")
    table.add_column("column")
    table.add_column("rows", justify="right")
    table.add_column("characters")
    for c in columns:
        chars = ", ".join(f"{cp}×{k:,}" for cp, k in list(c["control_chars"].items())[:8])
        table.add_row(c["name"], f"{c['control_rows']:,}", chars)
    return table


def _rejects_table(p: dict) -> Table:
    table = Table(title=f"Rejected records ({p['rejected_rows']:,})", title_justify="left")
    table.add_column("reason")
    table.add_column("rows", justify="right")
    table.add_column("first at")
    for r in p["rejects"]:
        table.add_row(r["reason"], f"{r['rows']:,}", r["first"])
    return table
