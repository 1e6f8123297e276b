from dsc.diagnostics import WARNING

SCHEMA = "schema {\n  id : string\n  c : label {a, b}\n}\n"


def annotate(*lines: str, field: str = "c") -> str:
    return SCHEMA + f"annotate {field} {{\n" + "".join(f"  {x}\n" for x in lines) + "}\n"


def test_a_complete_block_is_clean(codes):
    assert codes(annotate('from "a.jsonl" format label_studio', "annotators >= 2", "experts >= 1 role doc",
                          "agreement krippendorff ordinal >= 0.7", "resolve expert tie first",
                          "below_threshold fail")) == []


def test_only_label_columns_are_annotated(diags):
    (d,) = diags(annotate('from "a.jsonl"', field="id"))
    assert (d.code, d.message) == ("DSC210", "'id' is string, but only a label column can be annotated")


def test_required_settings(diags):
    found = diags(annotate("experts >= 1", "item_agreement >= 0.5", "resolve expert"))
    assert [(d.code, d.message) for d in found] == [
        ("DSC212", "annotate 'c' does not say where the annotations are"),
        ("DSC212", "'experts' needs the role that marks an expert"),
        ("DSC212", "an agreement floor needs a 'below_threshold' policy"),
        ("DSC212", "'resolve expert' needs to know who the experts are"),
    ]


def test_metrics_and_levels(diags):
    found = diags(annotate('from "a.jsonl"', "agreement fleiss nominal >= 0.5", "below_threshold drop"))
    assert [(d.code, d.message) for d in found] == [("DSC217", "fleiss agreement takes no level")]
    found = diags(annotate('from "a.jsonl"', "agreement krippendorff nominall >= 0.5", "below_threshold drop"))
    assert [(d.message, d.hint) for d in found] == [
        ("unknown krippendorff level 'nominall'", "did you mean 'nominal'?")]
    found = diags(annotate('from "a.jsonl"', "agreement kappa >= 0.5", "below_threshold drop"))
    assert [d.message for d in found] == ["unknown agreement metric 'kappa'"]


def test_policies_and_formats(diags):
    found = diags(annotate('from "a.jsonl" format csv', "resolve vote prefer x tie coin", "below_threshold skip"))
    assert [d.message for d in found] == [
        "unknown annotation format 'csv'",
        "unknown resolve policy 'vote'",
        "unknown tie policy 'coin'",
        "unknown below_threshold policy 'skip'",
    ]


def test_preferring_another_role_than_the_experts_is_a_warning(diags):
    found = diags(annotate('from "a.jsonl"', "experts >= 1 role doctor", "resolve majority prefer docter tie drop"))
    assert [(d.severity, d.hint) for d in found] == [(WARNING, "did you mean 'doctor'?")]


def test_cohen_with_more_than_two_annotators_is_a_warning(diags):
    found = diags(annotate('from "a.jsonl"', "annotators >= 3", "agreement cohen >= 0.6", "below_threshold drop"))
    assert [(d.code, d.severity) for d in found] == [("DSC217", WARNING)]


def test_settings_are_given_once(codes):
    assert codes(annotate('from "a.jsonl"', 'from "b.jsonl"')) == ["DSC214"]


def test_interval_and_ratio_agreement_need_numeric_labels(diags):
    """The label set is in the schema: the run's own rule is applied at the spec (the run failed)."""
    found = diags(annotate('from "a.jsonl"', "agreement krippendorff interval >= 0.5", "below_threshold drop"))
    assert [(d.code, d.message) for d in found] == [
        ("DSC217", "interval agreement needs numeric labels; 'a' is not a number")]
    assert found[0].hint == "use nominal, or ordinal for labels that come in an order"
    for level in ("nominal", "ordinal"):
        assert diags(annotate('from "a.jsonl"', f"agreement krippendorff {level} >= 0.5", "below_threshold drop")) == []


def test_numeric_labels_take_an_interval_agreement(diags):
    spec = annotate('from "a.jsonl"', "agreement krippendorff ratio >= 0.5", "below_threshold drop")
    assert diags(spec.replace("label {a, b}", "label {1, 2, 5}")) == []
    assert [d.message for d in diags(spec.replace("label {a, b}", "label {-1, 2}"))] == [
        "ratio agreement needs labels of zero or more; '-1' is negative"]
