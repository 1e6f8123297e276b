from dsc.diagnostics import WARNING

SCHEMA = """\
schema {
  prompt   : text
  code     : string
  count    : int
  score    : float
  day      : date
  ok       : bool
  amount   : money
  category : label {billing, bug}
}
"""


def clean(*rules: str) -> str:
    return SCHEMA + "clean {\n" + "".join(f"  {r}\n" for r in rules) + "}\n"


def test_text_operators_need_text_columns(diags):
    text = clean("normalize count: nfc", "drop where chars(score) > 3", "drop where empty(ok)",
                 "drop where amount matches \"x\"", "dedupe near on day")
    assert [d.message for d in diags(text)] == [
        "normalize needs a text column, but 'count' is int",
        "chars() needs a text column, but 'score' is float",
        "empty() needs a text column, but 'ok' is bool",
        "matches needs a text column, but 'amount' is money",
        "dedupe near needs a text column, but 'day' is date",
    ]


def test_text_operators_accept_text_and_string_and_null_takes_anything(codes):
    assert codes(clean("normalize prompt, code: nfc", "drop where null(amount)", "dedupe exact on count")) == []


def test_standardize_writes_the_declared_type(diags):
    found = diags(clean("standardize code as date", "standardize count as number", "standardize score as number",
                        "standardize ok as bool", "standardize amount as money EUR"))
    assert [d.message for d in found] == ["'code' is declared string, but is standardized as date"]
    assert found[0].hint == "declare it 'code : date' in the schema"


def test_in_values_fit_the_column(diags):
    found = diags(clean("drop where category in {bug, bugg}", "drop where count in {1, 2.5, x}",
                        "drop where score in {1, 2.5}", "drop where code in {404, \"x\", y}",
                        "drop where ok in {true, yes}", 'drop where day in {"2024-01-31", "31.01.2024"}'))
    assert [(d.message, d.hint) for d in found] == [
        ("'bugg' is not a label of 'category'", "did you mean 'bug'?"),
        ("'2.5' is not a valid value for 'count' (int)", "write a whole number"),
        ("'x' is not a valid value for 'count' (int)", "write a whole number"),
        ("'404' is not a valid value for 'code' (string)", 'quote it to compare as text: "404"'),
        ("'yes' is not a valid value for 'ok' (bool)", "write true or false"),
        ('"31.01.2024" is not a valid value for \'day\' (date)',
         'write an ISO 8601 value in quotes, e.g. "2024-01-31"'),
    ]


def test_stratify_on_a_continuous_column_is_a_warning(diags):
    text = SCHEMA + "split by code stratify score {\n  train 1\n}\n"
    assert [(d.code, d.severity) for d in diags(text)] == [("DSC207", WARNING)]


def test_augmenting_a_non_text_column(codes):
    text = SCHEMA + 'split by code {\n  train 1\n}\naugment train {\n  paraphrase count ratio 0.1 using "m"\n}\n'
    assert codes(text) == ["DSC207"]


def test_unknown_columns_are_not_reported_twice(codes):
    assert codes(clean("normalize nope: nfc", "standardize nope as date")) == ["DSC201", "DSC201"]
