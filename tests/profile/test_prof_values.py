"""Which formats and locales read a column, which values are ambiguous, and the other column figures."""
import pyarrow as pa
import pytest

from dsc.profile.columns import column_figures
from dsc.profile.infer import infer_type
from dsc.profile.placeholders import placeholder_counts
from dsc.profile.values import detect_values


def detect(values):
    return detect_values(pa.array(values))


def test_numeric_dates_settled_by_a_day_above_twelve():
    found = detect(["03/04/2019", "13/03/2014", "25/12/2020", "01/02/2021"])
    assert found["kind"] == "date" and found["suggest"] == {"locales": [], "order": "DMY"}
    assert "any locale, order DMY" in found["read_by"] and "any locale, order MDY" not in found["read_by"]
    assert [a["value"] for a in found["ambiguous"]] == ["03/04/2019", "01/02/2021"]
    assert "declare the order" in found["ambiguous"][0]["reason"]


def test_dates_that_no_value_settles_get_no_order():
    found = detect(["03/04/2019", "04/05/2019", "06/07/2020"])
    assert found["suggest"]["order"] is None and len(found["ambiguous"]) == 3


def test_money_in_german_and_the_dollar_that_locales_read_differently():
    german = detect(["1.099,98 €", "5,00 €", "12,50 €", "0,99 €"])
    assert german["kind"] == "money" and german["suggest"]["locales"] == ["de_DE"]
    assert german["formats"][0] == {"format": "9,99 €", "rows": 2}
    dollars = detect(["$5.00", "$1,099.98", "$12"])
    assert dollars["suggest"]["locales"] == ["en_US"]
    readings = dollars["disagreements"][0]["readings"]
    assert "es_MX" in readings["5.00 MXN"] and "en_US" in readings["5.00 USD"]


def test_numbers_whose_separators_depend_on_the_locale():
    found = detect(["1.099", "2.500", "12,5", "3"])
    assert found["standardize"] == "number" and found["suggest"]["locales"] == ["de_DE"]
    assert {"value": "1.099", "readings": found["disagreements"][0]["readings"]} == found["disagreements"][0]
    assert set(found["disagreements"][0]["readings"]) == {"1.099", "1099"}


@pytest.mark.parametrize("values, kind", [
    (["12", "-7", "9223372036854775807"], "int"),  # the largest int64
    (["12", "9223372036854775808"], "string"),  # one past it: no number column holds it exactly
    (["10000000000000000000000025", "10000000000000000000000026"], "string"),
    (["1.5", "2"], "float"),
])
def test_whole_numbers_are_int_only_within_64_bits(values, kind):
    assert detect(values)["kind"] == kind


@pytest.mark.parametrize("values, target", [
    (["2.5 kg", "3 lb", "500 g"], "kg"),
    (["2 m", "30 cm", "5 in"], "m"),
])
def test_measurements_get_a_target_of_their_dimension(values, target):
    found = detect(values)
    assert found["kind"] == "quantity" and found["suggest"]["target"] == target


@pytest.mark.parametrize("values", [
    ["Explain the water cycle to a child.", "Write a haiku about autumn leaves falling."],
    ["A12", "B13", "C14"],
    ["bug", "billing", "other"],
    ["yes", "no", "maybe"],
])
def test_prose_identifiers_and_words_are_not_values(values):
    assert detect(values) is None


@pytest.mark.parametrize("values, locales", [
    (["ja", "nein", "Ja"], ["de_DE"]),
    (["oui", "non"], ["fr_FR"]),
    (["kyllä", "ei"], ["fi"]),  # a language of the yes/no table beyond the 16 common locales
    (["yes", "no"], ["en_US"]),
    (["true", "false", "TRUE"], []),
])
def test_yes_no_words_are_booleans_in_their_language(values, locales):
    found = detect(values * 10)
    assert found["kind"] == "bool" and found["suggest"] == {"locales": locales}


def test_word_dates_need_their_language():
    found = detect(["10. Januar 2019", "3. März 2020", "1. Mai 2021"])
    assert found["kind"] == "date" and found["suggest"]["locales"] == ["de_DE"]


def test_column_types():
    labels = pa.array(["bug", "billing", "other", "bug"] * 10)
    assert infer_type(labels, column_figures(pa.chunked_array([labels])), None) == {
        "type": "label", "labels": ["billing", "bug", "other"]}
    # 13 of 60 empty and an "N/A": an optional free-text field, no vocabulary of labels
    notes = pa.array([("" if i < 13 else ["see ticket", "N/A", "called back", "ok per manager"][i % 4])
                      for i in range(60)])
    assert infer_type(notes, column_figures(pa.chunked_array([notes])), None, placeholder_counts(notes)) == {
        "type": "text"}
    # one "N/A" among 40 labels: not a label itself (the schema rejects its row, and init says so)
    marked = pa.array(["N/A"] + ["bug", "billing", "other", "bug"] * 10)
    assert infer_type(marked, column_figures(pa.chunked_array([marked])), None, placeholder_counts(marked)) == {
        "type": "label", "labels": ["billing", "bug", "other"]}
    ids = pa.array([f"user_{i}" for i in range(50)])
    assert infer_type(ids, column_figures(pa.chunked_array([ids])), None) == {"type": "string"}
    for arr, kind in ((pa.array([True, None]), "bool"), (pa.array([1.5]), "float"),
                      (pa.array([[1, 2]]), "list"), (pa.array([{"a": 1}]), "object"), (pa.array([None]), "null")):
        assert infer_type(arr, column_figures(pa.chunked_array([arr])), None)["type"] == kind


def test_figures_of_a_messy_text_column():
    col = pa.chunked_array([["ok", " padded", "", "   ", None, "zero\u200bwidth", "cafe\u0301", "ﬁne"]])
    f = column_figures(col)
    assert (f["nulls"], f["empty"], f["blank"], f["filled"]) == (1, 1, 1, 5)
    assert (f["untrimmed_rows"], f["control_rows"], f["non_nfc_rows"], f["nfkc_rows"]) == (2, 1, 1, 2)
    assert f["control_chars"] == {"U+200B": 1}
    assert f["length"]["buckets"] == {"0": 1, "1-9": 5, "10-99": 1}


def test_placeholders_are_whole_values():
    found = placeholder_counts(pa.array(["<noinput>", "No input", "N/A", "", "none of the above", "[none]", "{}"]))
    assert found == {"": 1, "<noinput>": 1, "N/A": 1, "No input": 1, "[none]": 1}
