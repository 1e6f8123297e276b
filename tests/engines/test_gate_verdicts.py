"""Gates: every metric judged exactly from the stats; failed error gates exit 3 after writing everything."""
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsc.commands import app
from dsc.engines.gates import evaluate_gates
from dsc.exitcodes import EXIT_GATE_FAILED, EXIT_OK
from dsc.plan import GatePlan

STATS = {
    "counts": {"input": 200, "kept": 150, "rejected": 50},
    "rules": [
        {"id": "source:s", "op": "source", "rows_in": 200, "rows_out": 200, "removed": 0},
        {"id": "dedupe_exact[q]", "op": "dedupe_exact", "rows_in": 200, "rows_out": 180, "removed": 20},
        {"id": "dedupe_near[q]", "op": "dedupe_near", "rows_in": 180, "rows_out": 160, "removed": 20},
        {"id": "dedupe_near[a]", "op": "dedupe_near", "rows_in": 160, "rows_out": 150, "removed": 10},
    ],
    "splits": {"parts": [{"name": "train", "rows": 135}, {"name": "validation", "rows": 15}]},
    "annotations": {"label": {"metric": "krippendorff nominal", "agreement": 0.71},
                    # the annotation step's own shape: the agreement with its metric, level and reason
                    "intent": {"agreement": {"metric": "krippendorff", "level": "nominal", "value": 0.64}},
                    "tone": {"agreement": {"metric": "fleiss", "value": None, "reason": "every label is the same"}}},
    "leakage": [{"gate": "leakage(train,validation)", "pairs": 2, "compared": 150,
                 "examples": [["r1", "r9"], ["r3", "r7"]]}],
}


def gate(metric, op, limit, args=(), unit="value", severity="error", gid=None):
    label = f"{metric}({','.join(args)})" if args else metric
    return GatePlan(id=gid or label, line=9, metric=metric, args=list(args), op=op, limit=Decimal(limit), unit=unit,
                    severity=severity)


@pytest.mark.parametrize("g, passed, measured, message", [
    (gate("dropped", "<=", "0.25", unit="fraction"), True, 0.25, "dropped <= 25%: 25% (50 of 200 rows)"),
    (gate("dropped", "<", "0.25", unit="fraction"), False, 0.25,
     "dropped < 25%: measured 25% (50 of 200 rows), limit 25%"),
    (gate("kept", ">=", "0.8", unit="fraction"), False, 0.75, "kept >= 80%: measured 75% (150 of 200 rows), limit 80%"),
    (gate("rows", ">=", "15", ("validation",), unit="count"), True, 15, "rows(validation) >= 15: 15"),
    (gate("rows", ">=", "1000", ("train",), unit="count"), False, 135, "rows(train) >= 1000: measured 135, limit 1000"),
    (gate("drop_rate", "<=", "0.1", ("dedupe_exact",), unit="fraction"), True, 0.1,
     "drop_rate(dedupe_exact) <= 10%: 10% (20 of 200 rows; dedupe_exact[q])"),
    (gate("drop_rate", "<=", "0.1", ("dedupe_near",), unit="fraction"), False, 30 / 180,
     "drop_rate(dedupe_near) <= 10%: measured 16.67% (30 of 180 rows; dedupe_near[q], dedupe_near[a]), limit 10%"),
    (gate("drop_rate", "<=", "0.1", ("dedupe_near[a]",), unit="fraction"), True, 10 / 160,
     "drop_rate(dedupe_near[a]) <= 10%: 6.25% (10 of 160 rows; dedupe_near[a])"),
    (gate("drop_rate", "<=", "0.1", ("conflicts",), unit="fraction"), True, 0.0,
     "drop_rate(conflicts) <= 10%: 0% (the run has no conflicts rule)"),
    (gate("agreement", ">=", "0.67", ("label",)), True, 0.71, "agreement(label) >= 0.67: 0.71 (krippendorff nominal)"),
    (gate("agreement", ">=", "0.8", ("label",)), False, 0.71,
     "agreement(label) >= 0.8: measured 0.71 (krippendorff nominal), limit 0.8"),
    (gate("agreement", ">=", "0.67", ("topic",)), False, None,
     "agreement(topic) >= 0.67: not measured — the run has no annotation statistics for 'topic'"),
    (gate("agreement", ">=", "0.6", ("intent",)), True, 0.64, "agreement(intent) >= 0.6: 0.64 (krippendorff nominal)"),
    (gate("agreement", ">=", "0.6", ("tone",)), False, None,
     "agreement(tone) >= 0.6: not measured — every label is the same"),
    (gate("leakage", ">=", "0.8", ("train", "validation"), unit="jaccard", gid="leakage(train,validation)"), False, 2,
     "leakage(train,validation) jaccard >= 0.8: 2 near-duplicate pairs across train and validation, limit 0 "
     "(e.g. r1 ~ r9)"),
])
def test_each_metric_is_measured_and_judged(g, passed, measured, message):
    [result] = evaluate_gates([g], STATS)
    assert (result.passed, result.message) == (passed, message)
    assert result.measured == pytest.approx(measured) if measured is not None else result.measured is None
    assert result.severity == "error" and result.line == 9


def test_comparisons_are_exact_at_the_limit():
    # 1/3 is below 0.3334 and above 0.3333; 7 of 20 is exactly 35%.
    stats = {"counts": {"input": 3, "kept": 2, "rejected": 1}}
    assert [r.passed for r in evaluate_gates([gate("dropped", "<=", "0.3333", unit="fraction"),
                                             gate("dropped", "<=", "0.3334", unit="fraction")], stats)] == [False, True]
    [r] = evaluate_gates([gate("dropped", "<=", "0.35", unit="fraction")], {"counts": {"input": 20, "kept": 13,
                                                                                         "rejected": 7}})
    assert r.passed
    [r] = evaluate_gates([gate("dropped", "<=", "0.15", unit="fraction")],
                         {"counts": {"input": 100000, "kept": 84996, "rejected": 15004}})
    assert not r.passed and "measured 15.004%" in r.message  # never printed like its limit


def test_results_are_plain_data_with_the_declared_severity():
    [r] = evaluate_gates([gate("rows", ">=", "500", ("train",), unit="count", severity="warn")], STATS)
    assert r.as_dict() == {"id": "rows(train)", "line": 9, "label": "rows(train) >= 500", "metric": "rows",
                           "op": ">=", "limit": 500, "unit": "count", "severity": "warn", "measured": 135,
                           "passed": False, "message": "rows(train) >= 500: measured 135, limit 500", "details": {}}
    json.dumps(r.as_dict())


# ---------------------------------------------------------------------------------- the run and the CLI

runner = CliRunner()
# 20 near-duplicate questions (Jaccard 12/14 on word 5-grams), 40 distinct ones, 20 with one shared answer.
ROWS = ([{"q": f"please tell me how do I reset my password on my phone after the latest update number {i}",
          "a": f"settings {i}"} for i in range(20)]
        + [{"q": f"billing question {i}", "a": f"answer {i}"} for i in range(40)]
        + [{"q": f"shared answer question {i}", "a": "same"} for i in range(20)])


def write_spec(base: Path, gates: str) -> Path:
    (base / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    spec = base / "s.dspec"
    spec.write_text('source s {\n  files "rows.jsonl"\n}\n\nschema {\n  q : text\n  a : text\n}\n\n'
                    'clean {\n  dedupe exact on a\n}\n\nsplit by q {\n  train 0.5\n  validation 0.5\n}\n\n'
                    f'export jsonl "{{split}}.jsonl"\n\ngate {{\n{gates}}}\n', encoding="utf-8")
    return spec


def test_failed_error_gates_exit_3_after_writing_everything_and_list_all_failures(tmp_path):
    spec = write_spec(tmp_path, "  dropped <= 10%\n  rows(train) >= 1000 warn\n  rows(validation) >= 1\n"
                                "  leakage train, validation jaccard >= 0.5\n")
    result = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == EXIT_GATE_FAILED, result.output
    err = result.stderr
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    train = stats["splits"]["parts"][0]["rows"]
    pairs = stats["leakage"][0]["pairs"]
    assert pairs > 10  # the 20 near duplicates fall on both sides
    assert f"{spec}:22: error: gate dropped <= 10%: measured 23.75% (19 of 80 rows), limit 10%" in err
    assert f"{spec}:23: warning: gate rows(train) >= 1000: measured {train}, limit 1000" in err
    assert f"{spec}:25: error: gate leakage(train,validation) jaccard >= 0.5: {pairs} near-duplicate pairs across " \
           "train and validation, limit 0 (e.g. " in err
    assert "rows(validation)" not in err  # passed gates are not failures
    assert "gates: 1 passed, 2 failed, 1 warning" in result.stdout
    out = tmp_path / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    assert [g["passed"] for g in manifest["gates"]] == [False, False, True, False]
    assert all((out / name).exists() for name in ("train.jsonl", "validation.jsonl", "stats.json", "report.md",
                                                  "report.html"))
    assert [g["id"] for g in stats["gates"]] == [g["id"] for g in manifest["gates"]]


def test_only_warnings_exit_0_and_are_still_printed(tmp_path):
    spec = write_spec(tmp_path, "  dropped <= 30%\n  rows(train) >= 1000 warn\n")
    result = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == EXIT_OK, result.output
    assert "warning: gate rows(train) >= 1000: measured" in result.stderr
    assert "gates: 1 passed, 0 failed, 1 warning" in result.stdout
    assert "report.md" in result.stdout
