"""`dsc diff`: golden review comments, unit tests on hand-built plans, and the laws it keeps."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsc.compiler import compile_spec
from dsc.ops import OPERATORS
from dsc.diff import (
    DROPS_FEWER, DROPS_MORE, DROPS_UNKNOWN, FORMAT, GATES, READS, REORDERS, REPORT, SAME_COUNT, SCHEMA, SPLITS, TRAINING,
    VALUES, Change, diff_plans, render_diff,
)
from dsc.plan import (
    GUARD_BOUNDS, AnnotationPlan, AugmentRule, ColumnPlan, DatasetInfo, ExportPlan, FinetunePlan, GatePlan, Plan, SourcePlan,
    SplitPart, SplitPlan, Step, canonical_json, fingerprint, plan_from_json, seal,
)
from dsc.syntax.load import parse
from dsc.syntax.source import SourceFile
from hypothesis_budget import examples

FIXTURES = Path(__file__).parent / "fixtures"
DIFFS = FIXTURES / "diff"
NAMES = sorted(p.name.removesuffix(".old.dspec") for p in DIFFS.glob("*.old.dspec"))


def compile_text(text: str, name: str = "spec.dspec") -> Plan:
    spec, diags = parse(SourceFile(name, text))
    assert not diags, [d.message for d in diags]
    return compile_spec(spec)


def compile_file(path: Path) -> Plan:
    return compile_text(path.read_text(encoding="utf-8"), path.name)


# ── golden fixtures ────────────────────────────────────────────────────────────────────────
def test_there_are_enough_golden_diffs():
    assert len(NAMES) >= 10


@pytest.mark.parametrize("name", NAMES)
def test_golden_diff(name):
    old_path, new_path = DIFFS / f"{name}.old.dspec", DIFFS / f"{name}.new.dspec"
    assert old_path.read_text(encoding="utf-8").startswith("# title: ")
    old, new = compile_file(old_path), compile_file(new_path)
    text = render_diff(diff_plans(old, new), old, new, old_path.name, new_path.name)
    assert text == (DIFFS / f"{name}.expected").read_text(encoding="utf-8")


def test_formatting_only_fixture_really_changes_the_text():
    old, new = (DIFFS / "formatting_only.old.dspec").read_text(), (DIFFS / "formatting_only.new.dspec").read_text()
    assert old != new
    assert canonical_json(compile_text(old)) != canonical_json(compile_text(new))  # lines moved


# ── hand-built plans ───────────────────────────────────────────────────────────────────────
def step(ident: str, operator: str, line: int, params: dict) -> Step:
    """A step with every default filled in, as the compiler writes it."""
    return Step(id=ident, op=operator, line=line, params=OPERATORS[operator].Params(**params).model_dump())


def drop_words(limit: str, *, line: int = 2, ident: str = "drop[response]") -> Step:
    return step(ident, "drop", line, {"kind": "measure", "column": "response", "func": "words", "op": "<",
                                      "value": Decimal(limit)})


def drop_empty(ident: str = "drop[prompt]", line: int = 3) -> Step:
    return step(ident, "drop", line, {"kind": "test", "column": "prompt", "func": "empty"})


def normalize(*steps: str, line: int = 1) -> Step:
    return step("normalize[prompt]", "normalize", line, {"columns": ["prompt"], "steps": list(steps)})


def gate(limit: str, *, op: str = "<=", severity: str = "error", metric: str = "dropped", args=()) -> GatePlan:
    ident = f"{metric}({','.join(args)})" if args else metric
    unit = "jaccard" if metric == "leakage" else "fraction"
    return GatePlan(id=ident, line=9, metric=metric, args=list(args), op=op, limit=Decimal(limit), unit=unit,
                    severity=severity)


def only(changes: list[Change]) -> Change:
    assert len(changes) == 1, changes
    return changes[0]


def test_equal_plans_have_no_changes():
    plan = Plan(steps=[drop_words("3")])
    assert diff_plans(plan, plan) == []


def test_line_numbers_alone_are_not_a_change():
    assert diff_plans(Plan(steps=[drop_words("3", line=2)]), Plan(steps=[drop_words("3", line=40)])) == []


def test_a_tighter_filter_drops_more_rows():
    change = only(diff_plans(Plan(steps=[drop_words("3")]), Plan(steps=[drop_words("5", line=4)])))
    assert (change.kind, change.section, change.id) == ("changed", "clean", "drop[response]")
    assert (change.old_line, change.new_line) == (2, 4)
    assert change.impact == DROPS_MORE
    assert change.detail == "value 3 → 5"


def test_added_and_removed_rules_follow_the_operator_effect():
    base = Plan(steps=[drop_words("3")])
    more = Plan(steps=[normalize("nfc"), drop_words("3"), drop_empty()])
    changes = diff_plans(base, more)
    assert [(c.kind, c.id, c.impact) for c in changes] == [
        ("added", "normalize[prompt]", VALUES), ("added", "drop[prompt]", DROPS_MORE)]
    assert changes[1].detail == "drop rows where empty(prompt)"
    assert [(c.kind, c.impact) for c in diff_plans(more, base)] == [("removed", VALUES), ("removed", DROPS_FEWER)]


def test_changed_values_rule():
    change = only(diff_plans(Plan(steps=[normalize("nfc")]), Plan(steps=[normalize("nfc", "casefold")])))
    assert change.impact == VALUES
    assert change.detail == "steps [nfc] → [nfc, casefold]"


@pytest.mark.parametrize("on_error, added, removed", [("reject", DROPS_FEWER, DROPS_MORE), ("flag", VALUES, VALUES)])
def test_a_century_window_reads_dates_that_were_rejected(on_error, added, removed):
    def dates(years=None):
        params = {"column": "d", "kind": "date", "order": "DMY", "on_error": on_error}
        return Plan(steps=[step("standardize[d]", "standardize", 4, params | ({"years": years} if years else {}))])
    assert only(diff_plans(dates(), dates((1950, 2049)))).impact == added
    assert only(diff_plans(dates((1950, 2049)), dates())).impact == removed
    assert only(diff_plans(dates((1950, 2049)), dates((1900, 1999)))).impact == VALUES


def test_strictness_that_cannot_be_told():
    old = Plan(steps=[drop_words("3")])
    other_column = drop_words("3").params | {"func": "chars"}
    new = Plan(steps=[step("drop[response]", "drop", 2, other_column)])
    assert only(diff_plans(old, new)).impact == DROPS_UNKNOWN


def test_same_strictness_means_other_rows_survive():
    def conflicts(resolve):
        params = {"columns": ["prompt"], "target": "category", "resolve": resolve}
        return Plan(steps=[step("conflicts[prompt->category]", "conflicts", 5, params)])
    assert only(diff_plans(conflicts("majority"), conflicts("first"))).impact == SAME_COUNT


def test_a_rule_inserted_before_its_repeat_is_one_addition():
    old = Plan(steps=[drop_empty("drop[prompt]", 3)])
    inserted = step("drop[prompt]", "drop", 3, {"kind": "matches", "column": "prompt", "pattern": "^x"})
    new = Plan(steps=[inserted, drop_empty("drop[prompt]#2", 4)])
    change = only(diff_plans(old, new))
    assert (change.kind, change.id, change.new_line) == ("added", "drop[prompt]", 3)


def test_swapped_rules_report_one_move():
    a, b, c = normalize("nfc", line=1), drop_words("3", line=2), drop_empty(line=3)
    change = only(diff_plans(Plan(steps=[a, b, c]), Plan(steps=[a, c, b])))
    assert (change.kind, change.id, change.impact) == ("moved", "drop[response]", REORDERS)
    assert change.detail == "rule 2 → 3, now after drop[prompt]"


def test_a_rule_moved_to_the_top():
    a, b, c = normalize("nfc", line=1), drop_words("3", line=2), drop_empty(line=3)
    change = only(diff_plans(Plan(steps=[a, b, c]), Plan(steps=[c, a, b])))
    assert (change.id, change.detail) == ("drop[prompt]", "rule 3 → 1, now first")


def test_a_compiled_plan_and_its_json_differ_only_where_the_policy_does():
    text = (FIXTURES / "full.dspec").read_text()
    compiled = compile_text(text)
    loaded = plan_from_json(canonical_json(compiled))
    assert diff_plans(compiled, loaded) == []
    changed = compile_text(text.replace("jaccard >= 0.85", "jaccard >= 0.9"))
    # Decimals in a loaded plan are text; they must not show up as spurious changes.
    assert [c.detail for c in diff_plans(loaded, changed)] == ["threshold 0.85 → 0.9"]


@pytest.mark.parametrize("old_gate, new_gate, verdict", [
    (gate("0.2"), gate("0.3"), "looser"),
    (gate("0.2"), gate("0.1"), "stricter"),
    (gate("0.2"), gate("0.2", severity="warn"), "looser"),
    (gate("0.2", severity="warn"), gate("0.2"), "stricter"),
    (gate("0.2"), gate("0.1", severity="warn"), None),
    (gate("0.2"), gate("0.2", op="<"), None),
    (gate("0.5", op=">="), gate("0.6", op=">="), "stricter"),
    (gate("0.8", op=">=", metric="leakage", args=("a", "b")), gate("0.7", op=">=", metric="leakage", args=("a", "b")),
     "stricter"),
])
def test_gate_direction(old_gate, new_gate, verdict):
    change = only(diff_plans(Plan(gates=[old_gate]), Plan(gates=[new_gate])))
    assert change.impact == (f"{GATES} ({verdict})" if verdict else GATES)


def test_added_gate_is_stricter_and_removed_gate_looser():
    assert only(diff_plans(Plan(), Plan(gates=[gate("0.2")]))).impact == f"{GATES} (stricter)"
    assert only(diff_plans(Plan(gates=[gate("0.2")]), Plan())).impact == f"{GATES} (looser)"


def test_split_changes_move_rows():
    parts = [SplitPart(name="train", line=2, fraction=Decimal("0.9")),
             SplitPart(name="test", line=3, fraction=Decimal("0.1"))]
    split = SplitPlan(line=1, key="id", parts=parts)
    added = only(diff_plans(Plan(), Plan(split=split)))
    assert (added.kind, added.id, added.impact, added.detail) == ("added", "split", SPLITS,
                                                                 "split by id, seed 0: train 90%, test 10%")
    stratified = split.model_copy(update={"stratify": "label"})
    change = only(diff_plans(Plan(split=split), Plan(split=stratified)))
    # stratify moves no row (language.md): it names the column whose balance the report measures
    assert (change.id, change.impact, change.detail) == ("stratify", REPORT, "(none) → label")
    reordered = split.model_copy(update={"parts": parts[::-1]})
    assert only(diff_plans(Plan(split=split), Plan(split=reordered))).kind == "moved"


def test_sources_schema_and_finetune():
    src = SourcePlan(name="t", line=1, files=["a.jsonl"], key=["id"])
    change = only(diff_plans(Plan(sources=[src]), Plan(sources=[src.model_copy(update={"key": []})])))
    assert (change.impact, change.detail) == (READS, "key [id] → (none)")

    col = ColumnPlan(name="x", line=2, type="text")
    change = only(diff_plans(Plan(columns=[col]), Plan(columns=[col.model_copy(update={"type": "string"})])))
    assert (change.impact, change.detail) == (SCHEMA, "type text → string")

    ft = FinetunePlan(line=3, method="lora", settings={"r": Decimal(16)})
    change = only(diff_plans(Plan(finetune=[ft]), Plan(finetune=[ft.model_copy(update={"settings": {"r": "8"}})])))
    assert (change.id, change.impact, change.detail) == ("lora.r", TRAINING, "16 → 8")
    full = FinetunePlan(line=3, method="full", settings={})
    assert [(c.kind, c.id) for c in diff_plans(Plan(finetune=[ft]), Plan(finetune=[full]))] == [
        ("removed", "lora"), ("added", "full")]


def test_plan_format_is_compared():
    change = only(diff_plans(Plan(), Plan(format=2)))
    assert (change.section, change.id, change.impact) == ("dataset", "format", FORMAT)


def test_changes_are_sorted_by_section_then_line():
    old = Plan(steps=[drop_words("3", line=20)], gates=[gate("0.2")])
    new = Plan(dataset=DatasetInfo(name="x"), steps=[drop_empty(line=10), drop_words("4", line=21)],
               gates=[gate("0.3")])
    assert [(c.section, c.id) for c in diff_plans(new, old)] == [
        ("dataset", "name"), ("clean", "drop[prompt]"), ("clean", "drop[response]"), ("gate", "dropped")]


def test_render_is_plain_text_with_a_summary():
    old, new = Plan(steps=[drop_words("3")]), Plan(steps=[drop_words("5"), drop_empty()])
    text = render_diff(diff_plans(old, new), old, new, "a", "b")
    assert "\x1b" not in text
    head, blank, *rows, blank2, summary = text.splitlines()
    assert head == f"dsc diff: a ({fingerprint(old)[7:19]}) → b ({fingerprint(new)[7:19]})"
    assert rows == ["~ clean  drop[response]  line 2 → 2  drops more rows: value 3 → 5",
                    "+ clean  drop[prompt]    line 3      drops more rows: drop rows where empty(prompt)"]
    assert summary == "2 changes: 2 × drops more rows"


def test_render_formatting_only():
    plan = seal(Plan(steps=[drop_words("3")]))
    moved = seal(Plan(steps=[drop_words("3", line=7)]))
    text = render_diff([], plan, moved, "a", "b")
    assert text.splitlines()[1] == f"formatting only: the plans are identical (fingerprint {plan.fingerprint[7:19]})"
    assert len(text.splitlines()) == 2


# ── laws ───────────────────────────────────────────────────────────────────────────────────
_decimals = st.sampled_from(["0", "0.1", "0.5", "0.8", "3", "5"]).map(Decimal)


def _numbered(items: list[tuple[str, Any]]) -> list:
    """Give `(base id, make)` items the compiler's ids: `base`, `base#2`, …"""
    seen: dict[str, int] = {}
    out = []
    for line, (base, make) in enumerate(items, 1):
        seen[base] = seen.get(base, 0) + 1
        out.append(make(base if seen[base] == 1 else f"{base}#{seen[base]}", line))
    return out


def _step(kind: str, value: Decimal, column: str):
    if kind == "normalize":
        steps = ["nfc", "strip"] if value > 1 else ["nfkc"]
        return f"normalize[{column}]", lambda i, n: step(i, "normalize", n, {"columns": [column], "steps": steps})
    if kind == "dedupe_near":
        params = {"columns": [column], "threshold": value}
        return f"dedupe_near[{column}]", lambda i, n: step(i, "dedupe_near", n, params)
    params = {"kind": "measure", "column": column, "func": "words", "op": "<", "value": value}
    return f"drop[{column}]", lambda i, n: step(i, "drop", n, params)


_steps = st.lists(st.builds(_step, st.sampled_from(["normalize", "dedupe_near", "drop"]), _decimals,
                            st.sampled_from(["a", "b"])), max_size=5).map(_numbered)
_gates = st.lists(st.builds(
    lambda metric, limit, severity: (metric, lambda i, n: GatePlan(id=i, line=n, metric=metric, op="<=", limit=limit,
                                                                 severity=severity)),
    st.sampled_from(["dropped", "kept"]), _decimals, st.sampled_from(["error", "warn"])), max_size=3).map(_numbered)
_names = st.sampled_from(["a", "b", "c"])
_split = st.none() | st.builds(
    lambda key, seed, parts: SplitPlan(key=key, seed=seed, parts=[
        SplitPart(name=name, fraction=f) for name, f in parts]),
    _names, st.integers(0, 2), st.lists(st.tuples(_names, _decimals), min_size=1, max_size=3))

plans = st.builds(
    Plan,
    dataset=st.builds(DatasetInfo, name=_names, seed=st.integers(0, 2), locale=st.sampled_from([None, "en_US"])),
    sources=st.lists(st.builds(SourcePlan, name=_names, files=st.lists(_names, max_size=2),
                               key=st.lists(_names, max_size=1)), max_size=2),
    columns=st.lists(st.builds(ColumnPlan, name=_names, type=st.sampled_from(["text", "int"]),
                               required=st.booleans()), max_size=3),
    steps=_steps,
    annotations=st.lists(st.builds(AnnotationPlan, id=st.just("annotate[a]"), field=st.just("a"), source=_names,
                                   min_annotators=st.integers(1, 3)), max_size=1),
    split=_split,
    augment=st.lists(st.builds(AugmentRule, id=st.just("paraphrase[a]"), splits=st.just(["a"]),
                               method=st.just("paraphrase"), column=st.just("a"), ratio=_decimals,
                               backend=st.just("local"), model=_names,
                               bounds=st.one_of(st.none(), st.dictionaries(st.sampled_from(list(GUARD_BOUNDS)),
                                                                           _decimals, max_size=2))), max_size=1),
    exports=st.lists(st.builds(ExportPlan, format=st.sampled_from(["jsonl", "parquet"]), path=_names,
                               shape=st.sampled_from([None, "chat"])), max_size=2),
    gates=_gates,
    finetune=st.lists(st.builds(FinetunePlan, method=st.sampled_from(["lora", "full"]),
                                settings=st.dictionaries(_names, _decimals, max_size=2)), max_size=1),
)


@given(plans)
def test_a_plan_has_no_changes_against_itself(plan):
    assert diff_plans(plan, plan) == []


@settings(max_examples=examples(3))
@given(plans, plans)
def test_plans_differ_exactly_when_the_diff_is_not_empty(a, b):
    changes = diff_plans(a, b)
    assert bool(changes) == (fingerprint(a) != fingerprint(b))
    assert "\x1b" not in render_diff(changes, a, b, "a", "b")


_SPECS = [FIXTURES / "full.dspec", *sorted(DIFFS.glob("*.dspec"))]


@st.composite
def reformatted(draw):
    """A spec and a re-layout of it: comments, blank lines, indentation and line endings change."""
    path = draw(st.sampled_from(_SPECS))
    text = path.read_text(encoding="utf-8")
    # Any printable text may follow `#`; line and paragraph separators would end the comment.
    comment = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12)
    out = []
    for line in text.splitlines():
        if draw(st.booleans()):
            out.append(draw(st.sampled_from(["", "   ", "# note"])) if draw(st.booleans()) else "#" + draw(comment))
        indent = draw(st.sampled_from(["", " ", "\t"])) if line.strip() else ""
        tail = "  #" + draw(comment) if line.strip() and draw(st.booleans()) else ""
        out.append(indent + line + tail)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return text, newline.join(out) + newline


@settings(max_examples=examples(0.6), suppress_health_check=[HealthCheck.too_slow])
@given(reformatted())
def test_a_reformatted_spec_has_no_changes(pair):
    original, relaid = pair
    old, new = compile_text(original), compile_text(relaid)
    assert diff_plans(old, new) == []
    assert "formatting only" in render_diff([], old, new, "a", "b")
