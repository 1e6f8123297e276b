"""The per-rule summary printed after a run, built from the manifest (stats first, rendering second)."""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table


def summary_table(manifest: dict) -> Table:
    """A rich table: one row per stage with rows in/out and removed, then the totals."""
    counts = manifest["counts"]
    title = (f"{manifest['dataset']['name']} — {counts['input']} rows in, {counts['kept']} kept, "
             f"{counts['rejected']} rejected ({manifest['plan_fingerprint'][:19]})")
    table = Table(title=escape(title), title_justify="left")
    table.add_column("rule", overflow="fold")
    for name in ("line", "in", "out", "removed", "share", "flagged"):
        table.add_column(name, justify="right")
    for rule in manifest["rules"]:
        share = f"{100 * rule['removed'] / rule['rows_in']:.1f}%" if rule["rows_in"] else "-"
        table.add_row(escape(rule["id"]), str(rule["line"] or ""), str(rule["rows_in"]), str(rule["rows_out"]),
                      str(rule["removed"]), share, str(rule["flagged"] or ""))
    return table
