from dsc.diagnostics import WARNING

SCHEMA = """\
schema {
  id : string
  prompt : text
  c : label {a, b}
}
clean {
  dedupe exact on prompt
}
annotate c {
  from "a.jsonl"
  agreement krippendorff >= 0.6
  below_threshold drop
}
split by id {
  train 0.9
  validation 0.1
}
"""


def gate(*lines: str) -> str:
    return SCHEMA + "gate {\n" + "".join(f"  {x}\n" for x in lines) + "}\n"


def test_valid_gates(codes):
    assert codes(gate("dropped <= 20%", "kept >= 0.5", "rows(train) >= 1000 warn", "rows(validation) < 5000",
                      "drop_rate(dedupe_exact) <= 5% error", "agreement(c) >= 0.7",
                      "leakage train, validation jaccard >= 0.8")) == []


def test_metrics_and_arguments(diags):
    found = diags(gate("droped <= 5%", "kept(train) >= 5%", "rows >= 1", "rows(train, validation) >= 1",
                       "drop_rate(dedupe) <= 5%", "agreement(x) >= 0.5"))
    assert [(d.code, d.message) for d in found] == [
        ("DSC203", "unknown gate metric 'droped'"),
        ("DSC217", "'kept' takes no argument"),
        ("DSC212", "'rows' takes one split"),
        ("DSC217", "'rows' takes one split"),
        ("DSC203", "unknown rule kind 'dedupe'"),
        ("DSC203", "'x' has no annotate block"),
    ]


def test_a_drop_rate_of_an_absent_rule_is_a_warning(diags):
    (d,) = diags(gate("drop_rate(conflicts) <= 5%"))
    assert (d.code, d.severity) == ("DSC217", WARNING)


def test_comparisons(diags):
    found = diags(gate("rows(train) == 10", "dropped > 5%", "drop_rate(dedupe_exact) != 1%"))
    assert [(d.code, d.severity) for d in found] == [("DSC215", "error"), ("DSC215", WARNING), ("DSC215", "error")]


def test_values(diags):
    found = diags(gate("dropped <= 120%", "kept >= 2", "rows(train) >= 0.5", "agreement(c) >= 1.5"))
    assert [d.message for d in found] == [
        "'dropped' (a share of the rows) must be in [0%, 100%], not 120%",
        "'kept' (a share of the rows) must be in [0, 1], not 2",
        "a row count must be a whole number from 0 to 1000000000000, not 0.5",
        "krippendorff agreement must be in [-1, 1], not 1.5",
    ]


def test_leakage(diags):
    found = diags(gate("leakage train, train jaccard > 1.5", "leakage train, test jaccard >= 0.5"))
    assert [(d.code, d.message) for d in found] == [
        ("DSC214", "leakage is measured between two different splits, not 'train' twice"),
        ("DSC215", "a leakage similarity threshold is a minimum and is written with '>=', not '>'"),
        ("DSC209", "jaccard threshold must be in (0, 1], not 1.5"),
        ("DSC219", "unknown split 'test'"),
    ]
