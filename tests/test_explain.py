"""`dsc explain`: golden texts, and the same words for a compiled plan and its JSON."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from dsc.compiler import compile_spec
from dsc.explain import explain, summarize
from dsc.plan import (
    AugmentRule, DatasetInfo, FinetunePlan, GatePlan, HubPlan, Plan, SourcePlan, canonical_json, plan_from_json, seal,
)
from dsc.syntax.load import parse
from dsc.syntax.source import SourceFile

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = {
    "full": FIXTURES / "full.dspec",
    "small": FIXTURES / "explain" / "small.dspec",
}


def compile_file(path: Path) -> Plan:
    spec, diags = parse(SourceFile(path.name, path.read_text(encoding="utf-8")))
    assert not diags, [d.message for d in diags]
    return compile_spec(spec)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_explain(name):
    expected = (FIXTURES / "explain" / f"{name}.expected").read_text(encoding="utf-8")
    assert explain(compile_file(GOLDEN[name])) == expected


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_a_plan_loaded_from_json_reads_the_same(name):
    plan = compile_file(GOLDEN[name])
    assert explain(plan_from_json(canonical_json(plan))) == explain(plan)


def test_sections_come_in_pipeline_order_and_the_fingerprint_last():
    text = explain(compile_file(GOLDEN["full"]))
    heads = ["dataset ", "sources ", "schema ", "clean ", "annotation of ", "split by ", "augment", "export",
             "gates ", "finetune ", "fingerprint "]
    starts = [next(i for i, line in enumerate(text.splitlines()) if line.startswith(h)) for h in heads]
    assert starts == sorted(starts)
    assert text.rstrip("\n").splitlines()[-1] == f"fingerprint {compile_file(GOLDEN['full']).fingerprint}"


def test_empty_plan_has_header_and_fingerprint_only():
    plan = seal(Plan())
    assert explain(plan) == f"dataset unnamed, version 0\n  seed 0; no default locale\n\nfingerprint {plan.fingerprint}\n"


def test_clean_rules_are_numbered_with_line_and_rule_id():
    text = explain(compile_file(GOLDEN["small"]))
    assert "  2. line 22  drop rows where chars(answer) > 2000  [drop[answer]]" in text.splitlines()


def test_a_standardize_rule_states_its_century_window():
    text = "schema {\n  d : date\n}\nclean {\n  standardize d as date order DMY years 1950..2049\n}\n"
    spec, _ = parse(SourceFile("t.dspec", text))
    assert "standardise d as date order DMY two-digit years in 1950..2049 (unparseable values: reject)" in \
        explain(compile_spec(spec))


def test_hub_sources_say_whether_they_are_pinned():
    pinned = SourcePlan(name="h", hub=HubPlan(id="org/x", revision="abc"), key=["id"])
    assert summarize(pinned) == 'Hugging Face dataset "org/x", split train, revision abc; row ids from key id'
    loose = SourcePlan(name="h", hub=HubPlan(id="org/x"))
    assert summarize(loose) == 'Hugging Face dataset "org/x", split train, revision not pinned; content-derived row ids'


def test_endpoint_augmentation_names_its_model_and_key():
    rule = AugmentRule(id="backtranslate[q]", splits=["train"], method="backtranslate", column="q", pivots=["de"],
                       ratio=Decimal("0.1"), backend="endpoint", model="m", endpoint="http://e", key_env="KEY")
    assert summarize(rule) == ('back-translate q via de in train, 10% of rows, endpoint "http://e" model "m", '
                               'API key from $KEY, 4 concurrent requests')


def test_augmentation_states_the_guard_bounds_it_sets_with_their_defaults():
    rule = AugmentRule(id="paraphrase[q]", splits=["train"], method="paraphrase", column="q", ratio=Decimal("0.1"),
                       backend="endpoint", model="m", endpoint="http://e", concurrency=2,
                       bounds={"max_length_ratio": Decimal("2"), "min_similarity": Decimal("0.30")})
    assert summarize(rule) == ('paraphrase q in train, 10% of rows, endpoint "http://e" model "m", 2 concurrent requests; '
                               'guard: min_similarity 0.3 (default 0.1), max_length_ratio 2 (default 3)')
    default = rule.model_copy(update={"bounds": None})
    assert "guard" not in summarize(default)


def test_gates_and_finetune_summaries():
    g = GatePlan(id="rows(train)", metric="rows", args=["train"], op=">=", limit=Decimal("1E+3"), unit="count",
                 severity="warn")
    assert summarize(g) == "warn: rows(train) >= 1000"
    ft = FinetunePlan(method="lora", settings={"r": Decimal(16), "target": ["q", "v"], "lr": Decimal("2E-4")})
    assert summarize(ft) == "lora: lr 0.0002, r 16, target q, v"


def test_summarize_refuses_what_is_not_a_plan_item():
    with pytest.raises(TypeError):
        summarize(DatasetInfo())
