"""`dsc init`: a starter `.dspec` whose every rule is motivated by a profile figure.

:func:`starter_policy` drafts the spec from a profile (:func:`dsc.profile.build_profile`),
formats it with :func:`dsc.fmt.format_source` (so it is canonical: `dsc fmt --check` passes)
and compiles it with :func:`dsc.api.compile_text` against the folder it will be written to
(so `dsc check` passes) before returning it. Each rule sits under a ``#`` comment giving the
counts that suggested it; a suggestion the language cannot express is a comment alone.

What the profile suggests, in the order the rules run:

==========================  ===============================================================
figure                      rule
==========================  ===============================================================
control characters,         ``normalize COLS: nfc, strip_control, strip`` (only the steps
untrimmed, not NFC          that would change something)
values of a kind            ``standardize COL as KIND [TARGET] [locale L] [order O]
                            on_error flag`` (the schema declares COL as KIND)
a few empty values          ``drop where empty(COL)`` when at most :data:`MOSTLY_FILLED` of the
                            column is missing; a column never missing is ``required``
placeholders                ``drop where COL in {…}`` in a mostly filled column when every
                            spelling can only mean "no value" ("<noinput>", "N/A"); a comment
                            for spellings that may be real ("None") and in sparse columns
                            ("<noinput>" beside "" says "no value" two ways)
exact duplicate rows        ``dedupe exact on`` every column
conflicts                   ``conflicts on KEY -> TARGET resolve majority else flag``
key duplicates              ``dedupe exact on KEY [ignoring case, whitespace]``; with a target
                            ``dedupe exact on KEY, TARGET`` (conflicting rows are the
                            conflicts rule's business)
near duplicates             ``dedupe near on TEXT jaccard >= 0.8 ngram 5 words keep first``
a list of records           ``explode COL`` in the source: its fields become columns
(always)                    ``split by KEY { train 0.9  validation 0.1 }`` (see :meth:`_Draft._split`)
                            and ``export jsonl "{split}.jsonl"``, ``shape chat`` when prompt
                            and response columns are recognised (:data:`FIELDS`)
==========================  ===============================================================
"""
from __future__ import annotations

import glob
import os
import re
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from dsc.api import compile_text
from dsc.diagnostics import render_all
from dsc.engines.export import FIELDS
from dsc.engines.splits import assign_splits
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_INTERNAL_ERROR
from dsc.fmt import format_source
from dsc.kernels.text import normalize
from dsc.paths import unsafe
from dsc.plan import SplitPart, SplitPlan
from dsc.profile.infer import MOSTLY_FILLED
from dsc.profile.load import Loaded, ProfileError
from dsc.profile.placeholders import is_strong
from dsc.project import project_root
from dsc.reserved import ID, SPLIT
from dsc.syntax.source import SourceFile

SEED = 1
SPLITS = (("train", Decimal("0.9")), ("validation", Decimal("0.1")))
MESSAGES = "messages"  # a chat shape's own column: written as it is, never exploded
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DECLARABLE = {"text", "string", "label", "int", "float", "bool", "date", "datetime", "money", "quantity"}
_TEXTUAL = {"text", "string"}
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"})


def starter_policy(profile: dict, loaded: Loaded, out: Path) -> str:
    """The starter policy for ``profile`` (of ``loaded``: its files, format, exploded column and
    rows), to be written at ``out``.

    Paths in the spec are relative to ``out``'s folder; a data file the spec could not name
    from there (outside the project, see :mod:`dsc.paths`) is a :class:`ProfileError`.

    >>> import tempfile
    >>> from dsc.profile.build import build_profile
    >>> tmp = Path(tempfile.mkdtemp())
    >>> _ = (tmp / "dsc.toml").write_text("")
    >>> rows = pa.table({"prompt": [f"What is {i} + {i}? " for i in range(40)],
    ...                  "answer": [str(2 * i) for i in range(40)]})
    >>> loaded = Loaded(rows, [], [], "demo", [tmp / "data" / "sums.jsonl"])
    >>> print(starter_policy(build_profile(loaded), loaded, tmp / "demo.dspec"), end="")
    # Starter policy for data/sums.jsonl, written by `dsc init` from a profile of 40 rows.
    # Each rule comes with the counts that suggested it: review them before relying on it.
    dataset demo version 1 {
      seed 1
    }
    <BLANKLINE>
    source demo {
      files "data/sums.jsonl"
    }
    <BLANKLINE>
    schema {
      prompt : text required  # never empty in 40 rows
      answer : int required  # never empty in 40 rows
    }
    <BLANKLINE>
    clean {
      # leading or trailing whitespace: prompt 40 rows
      normalize prompt: strip
      # answer reads as number with no locale: 40 of 40 sampled values (99 ×35, 9 ×5)
      standardize answer as number on_error flag
    }
    <BLANKLINE>
    # rows with the same prompt stay in one split; of the 40 rows profiled: train 35, validation 5
    split by prompt {
      train 0.9
      validation 0.1
    }
    <BLANKLINE>
    # prompt is the user turn, answer the assistant turn (shape chat: TRL's SFTTrainer reads it)
    export jsonl "{split}.jsonl" shape chat
    """
    base = out.resolve().parent
    paths = [_relative(f, base) for f in loaded.files]
    text = _Draft(profile, loaded.table).spec(paths, loaded.format, loaded.explode)
    source = SourceFile(str(out), text)
    formatted, diags = format_source(source)
    if formatted is None:  # a bug in the drafting, not the user's doing: say what broke
        raise ProfileError("dsc init drafted a spec that does not parse:\n" + render_all(diags, source), EXIT_INTERNAL_ERROR)
    compiled = compile_text(SourceFile(str(out), formatted), base_dir=base)
    errors = [d for d in compiled.diagnostics if d.is_error]
    if errors:
        raise ProfileError("dsc init drafted a spec that does not check:\n"
                           + render_all(errors, compiled.source), EXIT_INTERNAL_ERROR)
    return formatted


def _relative(path: Path, base: Path) -> str:
    """``path`` as the spec names it from ``base``: relative, posix, glob characters escaped."""
    rel = Path(os.path.relpath(Path(path).resolve(), base)).as_posix()
    root = project_root(base)
    why = unsafe(rel, base, root)
    if why:
        raise ProfileError(
            f"the policy would read {path} as '{rel}', but {why}: a spec's paths stay inside its project "
            f"({root}, the nearest folder with .git, pyproject.toml or dsc.toml). Write the policy inside "
            "a folder that holds the data, or mark a folder above both with a dsc.toml", EXIT_INPUT_ERROR)
    return glob.escape(rel)


def quote(value: str) -> str:
    """A spec string literal.

    >>> print(quote('say "hi"\\n'))
    "say \\"hi\\"\\n"
    """
    return '"' + value.translate(_ESCAPES) + '"'


def name_of(text: str) -> str:
    """A spec name made from a file name: ``gsm_8k-train`` → ``gsm_8k_train``.

    >>> name_of("gsm_8k-train"), name_of("2024 data"), name_of("")
    ('gsm_8k_train', 'd_2024_data', 'data')
    """
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    if not name:
        return "data"
    return f"d_{name}" if name[0].isdigit() else name


def _plural(k: int, word: str = "row") -> str:
    return f"{k:,} {word}" + ("" if k == 1 else "s")


def _repeat(k: int) -> str:
    """``1 row repeats`` / ``3 rows repeat``."""
    return _plural(k) + (" repeats" if k == 1 else " repeat")


class _Draft:
    """The spec text, block by block, from one profile."""

    def __init__(self, profile: dict, table: pa.Table):
        self.p = profile
        self.table = table
        self.n = profile["rows"]
        self.columns = {c["name"]: c for c in profile["columns"]}
        self.declared = [c["name"] for c in profile["columns"]
                         if c["type"] in _DECLARABLE and _NAME.match(c["name"])]
        self.notes = [c for c in profile["columns"] if c["name"] not in self.declared]
        self.normalized: dict[str, tuple[str, ...]] = {}  # column -> the normalize steps it gets
        self.standardized: set[str] = set()

    def spec(self, paths: list[str], format: str | None, explode: str | None) -> str:
        name = name_of(self.p["name"])
        lines = [f"# Starter policy for {', '.join(paths)}, written by `dsc init` from a profile of "
                 f"{_plural(self.n)}.",
                 "# Each rule comes with the counts that suggested it: review them before relying on it.",
                 f"dataset {name} version 1 {{", f"  seed {SEED}", "}", "",
                 f"source {name} {{", f"  files {', '.join(quote(p) for p in paths)}"]
        if format:
            lines.append(f"  format {format}")
        if explode:
            lines.append(f"  explode {explode}  # one row per element; its fields are the columns below")
        lines += ["}", ""]
        lines += self._schema()
        clean = self._clean()
        if clean:
            lines += ["", "clean {", *(f"  {line}" for line in clean), "}"]
        split = self._split()
        if split:
            lines += ["", *split]
        lines += ["", *self._export()]
        return "\n".join(lines) + "\n"

    # ── schema ──────────────────────────────────────────────────────────────────────────
    def _schema(self) -> list[str]:
        lines = ["schema {"]
        for c in self.notes:
            lines.append(f"  # {c['name']}: {self._why_undeclared(c)}")
        for name in self.declared:
            c = self.columns[name]
            kind = c["type"]
            if kind == "label":
                kind = "label {" + ", ".join(quote(v) for v in c["labels"]) + "}"
            missing = self._missing(c)
            required = " required" if missing == 0 and self.n else ""
            lines.append(f"  {name} : {kind}{required}  # {self._evidence(c, missing)}")
        return lines + ["}"]

    def _why_undeclared(self, c: dict) -> str:
        if not _NAME.match(c["name"]):
            return "this name cannot be written in a spec (names are letters, digits and _); rename it in the data"
        if c["type"] == "null":
            return f"null in all {_plural(self.n)}, not declared"
        hint = f"; `explode {c['name']}` in the source gives one row per element" if c["type"] == "list" else ""
        return f"a {c['type']} column: a schema declares only flat values, so it is left undeclared{hint}"

    def _missing(self, c: dict) -> int:
        return c["nulls"] + c.get("empty", 0) + c.get("blank", 0)

    def _evidence(self, c: dict, missing: int) -> str:
        if missing == 0:
            text = f"never empty in {_plural(self.n)}"
        else:
            text = f"empty in {missing:,} of {_plural(self.n)}"
        if c["type"] == "label":
            text += f"; {len(c['labels'])} distinct values"
            # The schema runs before the clean rules: it rejects what is not a label, with its reason.
            found = c.get("placeholders", {})
            blank = c.get("empty", 0) + c.get("blank", 0)
            outside = ([f"empty ×{blank:,}"] if blank else []) + [
                f"{quote(v)} ×{k:,}" for v, k in found.items() if is_strong(v)]
            if outside:
                text += f"; the schema rejects the rows holding {', '.join(outside)}: no value, not a label"
            maybe = [quote(v) for v in c["labels"] if v in found]
            if maybe:
                text += f"; {', '.join(maybe)} may mean \"no value\""
        return text

    # ── clean ───────────────────────────────────────────────────────────────────────────
    def _clean(self) -> list[str]:
        return [*self._normalize(), *self._standardize(), *self._empties(), *self._placeholders(),
                *self._dedupe_rows(), *self._keyed(), *self._near()]

    def _textual(self) -> list[str]:
        return [n for n in self.declared if self.columns[n]["type"] in _TEXTUAL]

    def _normalize(self) -> list[str]:
        steps_of: dict[tuple, list[str]] = {}
        for name in self._textual():
            c = self.columns[name]
            steps = tuple(s for s, k in (("nfc", "non_nfc_rows"), ("strip_control", "control_rows"),
                                         ("strip", "untrimmed_rows")) if c.get(k))
            if steps:
                steps_of.setdefault(steps, []).append(name)
                self.normalized[name] = steps
        lines = []
        for steps, names in steps_of.items():
            why = []
            for step, key, what in (("nfc", "non_nfc_rows", "not in Unicode NFC"),
                                    ("strip_control", "control_rows", "control characters"),
                                    ("strip", "untrimmed_rows", "leading or trailing whitespace")):
                if step in steps:
                    why.append(f"{what}: " + ", ".join(f"{n} {_plural(self.columns[n][key])}" for n in names))
            lines += [f"# {'; '.join(why)}", f"normalize {', '.join(names)}: {', '.join(steps)}"]
        return lines

    def _standardize(self) -> list[str]:
        lines = []
        for name in self.declared:
            v = self.columns[name].get("values")
            if not v or v["kind"] != self.columns[name]["type"]:
                continue
            if v["kind"] == "string":  # whole numbers beyond 64 bits (`_schema_kind`): kept as written
                lines.append(f"# {name} holds whole numbers beyond 64 bits, which no number column holds "
                             "exactly: kept as text")
                continue
            self.standardized.add(name)
            s = v["suggest"]
            locale = s["locales"][0] if s.get("locales") else None
            # Orders are only tried without a locale, so a locale's own reading stands in for both.
            reader = next((r for r in v["readers"] if r["locale"] == locale and r["order"] == s.get("order")),
                          next((r for r in v["readers"] if r["locale"] == locale and r["order"] is None),
                               {"ok": 0, "ambiguous": 0}))
            how = ", ".join(part for part in (f"locale {locale}" if locale else "", f"order {s['order']}"
                                              if s.get("order") else "") if part) or "no locale"
            shapes = ", ".join(f"{f['format']} ×{f['rows']:,}" for f in v["formats"][:3])
            why = (f"# {name} reads as {v['standardize']} with {how}: {reader['ok']} of {v['sampled']} sampled "
                   f"values ({shapes})")
            if reader["ambiguous"]:
                example = f", such as {v['ambiguous'][0]['value']}," if v["ambiguous"] else ""
                why += f"; {reader['ambiguous']} ambiguous{example} are flagged"
                if v["standardize"] in ("date", "datetime") and not s.get("order"):
                    why += ": add `order DMY` or `order MDY` once you know which"
            rule = f"standardize {name} as {v['standardize']}"
            if s.get("target"):
                rule += f" {s['target']}"
            if locale:
                rule += f" locale {locale}"
            if s.get("order"):
                rule += f" order {s['order']}"
            # Locales that read the same value differently: the data does not say which one wrote it,
            # so the rule is left for the author (never picked by the tie-break order). A date rule
            # with neither locale nor order reads none of those values: it flags them as ambiguous.
            undecided = not locale and not s.get("order") and v["standardize"] in ("date", "datetime")
            if v.get("disagreements") and not undecided:
                d = v["disagreements"][0]
                readings = " but ".join(f"{text} in {', '.join(locs)}" for text, locs in d["readings"].items())
                lines += [why, f"# but locales read these values differently ({d['value']} is {readings}): "
                               "uncomment the rule with the locale the data is written in", f"# {rule} on_error flag"]
                continue
            lines += [why, rule + " on_error flag"]
        return lines

    def _empties(self) -> list[str]:
        lines = []
        for name in self._textual():
            c = self.columns[name]
            missing = self._missing(c)
            if 0 < missing <= MOSTLY_FILLED * self.n:
                lines += [f"# {name} is empty in {missing:,} of {_plural(self.n)} (null {c['nulls']:,}, "
                          f"\"\" {c['empty']:,}, only whitespace {c['blank']:,})",
                          f"drop where empty({name})"]
        return lines

    def _placeholders(self) -> list[str]:
        lines = []
        for name in self._textual():
            c = self.columns[name]
            found = {v: k for v, k in c.get("placeholders", {}).items() if v.strip() and v.isprintable()}
            if not found:
                continue
            values = sorted({v.strip() if "strip" in self.normalized.get(name, ()) else v for v in found})
            listed = ", ".join(f"{quote(v)} ×{k:,}" for v, k in found.items())
            rule = f"drop where {name} in {{{', '.join(quote(v) for v in values)}}}"
            missing = self._missing(c) + sum(found.values())
            if not all(is_strong(v) for v in found):
                lines += [f"# {name} holds values that often mean \"no value\" but may be real: {listed}.",
                          "# If they are placeholders here, drop them with:", f"# {rule}"]
            elif missing <= MOSTLY_FILLED * self.n:
                lines += [f"# placeholders for \"no value\" in {name}: {listed}", rule]
            elif self._missing(c):
                lines += [f"# placeholders for \"no value\" in {name}: {listed}, beside {self._missing(c):,} empty "
                          f"values: two spellings of one thing.",
                          "# No rule rewrites one into the other: fix them upstream, or drop those rows with:",
                          f"# {rule}"]
            else:  # too many rows to drop by default, and nothing else to reconcile them with
                lines += [f"# placeholders for \"no value\" in {name}: {listed}, {missing:,} of {_plural(self.n)}: "
                          "too many to drop unasked. If those rows are of no use, drop them with:", f"# {rule}"]
        return lines

    def _dedupe_rows(self) -> list[str]:
        k = self.p["exact_duplicate_rows"]
        if not k:
            return []
        if self.notes:
            left = ", ".join(c["name"] for c in self.notes)
            return [f"# {_repeat(k)} an earlier row in every column, but "
                    f"{left} is not declared: add a rule once it is"]
        return [f"# {_repeat(k)} an earlier row in every column",
                f"dedupe exact on {', '.join(self.declared)}"]

    def _keyed(self) -> list[str]:
        key, target = self.p.get("key") or [], self.p.get("target")
        if not key or not all(c in self.declared for c in key) or (target and target not in self.declared):
            return []
        keys = ", ".join(key)
        lines = []
        if target and self.p["conflict_groups"]:
            lines += [f"# {_plural(self.p['conflict_groups'], 'key')} ({keys}) have 2 or more different "
                      f"{target} values: {_plural(self.p['conflict_rows'])}; the majority wins, ties are flagged",
                      f"conflicts on {keys} -> {target} resolve majority else flag"]
        if target:
            k = self.p["key_target_duplicate_rows"]
            if k and k > self.p["exact_duplicate_rows"]:
                lines += [f"# {_repeat(k)} an earlier row's {keys} and {target}",
                          f"dedupe exact on {keys}, {target}"]
            return lines
        exact, folded = self.p["key_duplicate_rows"], self.p["normalized_key_duplicate_rows"]
        if folded > exact:
            lines += [f"# {_repeat(exact)} an earlier key ({keys}); {folded:,} after case folding and "
                      "whitespace collapsing", f"dedupe exact on {keys} ignoring case, whitespace"]
        elif exact:
            lines += [f"# {_repeat(exact)} an earlier key ({keys})", f"dedupe exact on {keys}"]
        return lines

    def _near(self) -> list[str]:
        near = self.p.get("near_duplicates")
        if not near or near["rows"] <= near["exact_rows"]:
            return []
        cols = [c for c in near["columns"] if c in self._textual()]
        if cols != near["columns"]:
            return []  # the estimate covered columns a `dedupe near` rule cannot read
        return [f"# MinHash estimate: {_plural(near['rows'])} within Jaccard {near['threshold']} of another "
                f"(word {near['ngram']}-grams of {', '.join(cols)}), {near['exact_rows']:,} of them exact copies",
                f"dedupe near on {', '.join(cols)} jaccard >= {near['threshold']} ngram {near['ngram']} words "
                "keep first"]

    # ── split and export ────────────────────────────────────────────────────────────────
    def _split_key(self) -> str | None:
        """The column rows are split by: the key, else the prompt (so rows sharing one, such as
        a task's exploded examples, stay in one split), else the first text, then string column.
        Never a column a `standardize` rule rewrites."""
        usable = [n for n in self.declared if n not in self.standardized]
        by_type = [n for kind in ("text", "string") for n in usable if self.columns[n]["type"] == kind]
        for name in [*(self.p.get("key") or [])[:1], self._field("instruction"), *by_type]:
            if name in usable:
                return name
        return None

    def _split(self) -> list[str]:
        """``split by KEY`` 0.9 / 0.1, with each part's rows among the profiled ones (the key as
        the normalize rule leaves it, split as the run splits it); none when a part would be empty."""
        key = self._split_key()
        if key is None:
            return ["# no split: no declared column to split by; the export writes every row to all.jsonl"]
        column = self.table.column(key)
        if key in self.normalized:
            column = normalize(column, list(self.normalized[key]))
        plan = SplitPlan(key=key, seed=SEED, parts=[SplitPart(name=n, fraction=f) for n, f in SPLITS])
        counts = pc.value_counts(assign_splits(pa.table({key: column}), plan).column(SPLIT)).to_pylist()
        found = {c["values"]: c["counts"] for c in counts}
        parts = ", ".join(f"{name} {found.get(name, 0):,}" for name, _ in SPLITS)
        if not all(found.get(name) for name, _ in SPLITS):
            return [f"# no split: by {key}, the {_plural(self.n)} profiled would split {parts}; the export "
                    "writes every row to all.jsonl"]
        return [f"# rows with the same {key} stay in one split; of the {_plural(self.n)} profiled: {parts}",
                f"split by {key} {{", *(f"  {name} {fraction}" for name, fraction in SPLITS), "}"]

    def _field(self, field: str) -> str | None:
        """The column the export shapes read for ``field`` (the first of :data:`FIELDS` the data has)."""
        return next((n for n in FIELDS[field] if n in self.columns), None)

    def _export(self) -> list[str]:
        """One jsonl file per split: the chat shape when the data has prompt and response columns
        (or its own ``messages``), else the data columns as they are."""
        if self.columns.get(MESSAGES, {}).get("type") == "list":
            return [f"# {MESSAGES} holds the conversations: the chat shape writes it as it is",
                    'export jsonl "{split}.jsonl" shape chat']
        prompt, response, context = self._field("instruction"), self._field("output"), self._field("input")
        if prompt in self.declared and response in self.declared:
            user = f"{prompt} (then {context}, when not empty)" if context in self.declared else prompt
            return [f"# {user} is the user turn, {response} the assistant turn (shape chat: TRL's SFTTrainer "
                    "reads it)", 'export jsonl "{split}.jsonl" shape chat']
        return [f"# no prompt and response columns ({', '.join(FIELDS['instruction'])}; "
                f"{', '.join(FIELDS['output'])}): the data columns as they are, with the row id {ID}",
                'export jsonl "{split}.jsonl"']


def explodable(table: pa.Table) -> str | None:
    """The first column of lists of records whose fields can become columns (none clashes
    with another column), other than a chat shape's ``messages``: what ``explode`` is for.

    >>> explodable(pa.table({"id": [1], "instances": [[{"input": "a", "output": "b"}]]}))
    'instances'
    >>> explodable(pa.table({"input": ["x"], "instances": [[{"input": "a"}]], "tags": [["t"]]})) is None
    True
    """
    for name in table.column_names:
        t = table.schema.field(name).type
        if name == MESSAGES or not (pa.types.is_list(t) or pa.types.is_large_list(t)):
            continue
        if pa.types.is_struct(t.value_type) and not {f.name for f in t.value_type} & set(table.column_names):
            return name
    return None
