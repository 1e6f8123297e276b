import json
from decimal import Decimal
from pathlib import Path

import pytest

from dsc.gendocs import diagnostics_text, plan_schema_text
from dsc.plan import AugmentRule, DatasetInfo, Plan, Step, canonical_json, fingerprint, plan_from_json, seal

ROOT = Path(__file__).resolve().parents[1]


def test_canonical_json_sorts_keys_and_prints_decimals_as_strings():
    plan = Plan(dataset=DatasetInfo(name="x"), steps=[Step(id="a", op="drop", params={"z": Decimal("0.50"), "a": 1})])
    text = canonical_json(plan)
    data = json.loads(text)
    assert data["steps"][0]["params"] == {"a": 1, "z": "0.5"}
    assert list(data) == sorted(data)
    assert " " not in text.replace("unnamed", "")


def test_fingerprint_ignores_lines_but_not_params():
    step = Step(id="a", op="drop", line=3, params={"x": 1})
    a = Plan(steps=[step])
    moved = Plan(steps=[step.model_copy(update={"line": 30})])
    changed = Plan(steps=[step.model_copy(update={"params": {"x": 2}})])
    assert fingerprint(a) == fingerprint(moved)
    assert fingerprint(a) != fingerprint(changed)
    assert fingerprint(a).startswith("sha256:") and len(fingerprint(a)) == 7 + 64


def test_floats_are_refused():
    with pytest.raises(TypeError):
        canonical_json(Plan(steps=[Step(id="a", op="drop", params={"x": 0.1})]))


def test_round_trip_through_json():
    plan = seal(Plan(dataset=DatasetInfo(name="x", seed=3)))
    again = plan_from_json(canonical_json(plan, indent=2))
    assert canonical_json(again) == canonical_json(plan)
    assert fingerprint(again) == plan.fingerprint


def test_augment_bounds_are_left_out_unless_set_so_older_plans_keep_their_fingerprint():
    rule = AugmentRule(id="paraphrase[q]", splits=["train"], method="paraphrase", column="q", ratio=Decimal("0.1"),
                       backend="local", model="m")
    plain = seal(Plan(augment=[rule]))
    assert "bounds" not in json.loads(canonical_json(plain))["augment"][0]
    # The canonical JSON of this plan before the bounds existed, byte for byte:
    assert canonical_json(plain).startswith('{"annotations":[],"augment":[{"backend":"local","column":"q",'
                                            '"concurrency":4,"endpoint":null,"id":"paraphrase[q]","key_env":null,')
    assert seal(Plan(augment=[AugmentRule(**{**rule.model_dump(), "bounds": {}})])) == plain
    bounded = seal(Plan(augment=[AugmentRule(**{**rule.model_dump(), "bounds": {"max_similarity": Decimal("0.90")}})]))
    assert json.loads(canonical_json(bounded))["augment"][0]["bounds"] == {"max_similarity": "0.9"}
    assert bounded.fingerprint != plain.fingerprint
    again = plan_from_json(canonical_json(bounded))
    assert again.augment[0].bounds == {"max_similarity": Decimal("0.9")} and fingerprint(again) == bounded.fingerprint
    assert plan_from_json(canonical_json(plain)).augment[0].bounds is None


@pytest.mark.parametrize("name, render", [("plan.schema.json", plan_schema_text),
                                          ("diagnostics.md", diagnostics_text)])
def test_generated_docs_are_current(name, render):
    """Regenerate with `python -m dsc.gendocs`."""
    assert (ROOT / "docs" / name).read_text(encoding="utf-8") == render()
