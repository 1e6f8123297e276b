SCHEMA = """\
schema {
  prompt : text
  day    : date
  price  : money
  score  : float
  label  : label {a, b}
}
"""


def clean(*rules: str) -> str:
    return SCHEMA + "clean {\n" + "".join(f"  {r}\n" for r in rules) + "}\n"


def test_normalize_steps(diags):
    found = diags(clean("normalize prompt: nfkd, strip, strip, nfc, nfkc"))
    assert [(d.code, d.message) for d in found] == [
        ("DSC203", "unknown normalisation step 'nfkd'"),
        ("DSC214", "step 'strip' is listed twice"),
        ("DSC214", "'nfc' and 'nfkc' are two different normal forms"),
    ]


def test_drop_functions(diags):
    found = diags(clean("drop where lenght(prompt) > 3", "drop where words(prompt)", "drop where null(prompt) > 1",
                        "drop where nul(prompt)"))
    assert [(d.code, d.hint) for d in found] == [
        ("DSC203", "expected 'words', 'chars', 'tokens', 'alpha_ratio', 'mean_word_length', 'symbol_ratio', "
                   "'stop_words', 'dup_line_ratio', 'top_2gram_ratio', 'top_3gram_ratio', 'top_4gram_ratio', "
                   "'line_punct_ratio', 'empty', 'null' or 'has_pii'"),
        ("DSC212", "e.g. drop where words(prompt) < 3"),
        ("DSC217", "write: drop where null(prompt)"),
        ("DSC203", "did you mean 'null'?"),
    ]


def test_standardize_options(diags):
    found = diags(clean("standardize day as date order DM on_error ignore",
                        "standardize price as money EUR order DMY",
                        "standardize prompt as dat",
                        "standardize score as number \"x\" from [de_DE] locale en_US"))
    assert [(d.code, d.message) for d in found] == [
        ("DSC203", "unknown date order 'DM'"),
        ("DSC203", "unknown on_error policy 'ignore'"),
        ("DSC217", "'order' does not apply to money"),
        ("DSC203", "unknown standardize kind 'dat'"),
        ("DSC217", "standardizing as number takes no target"),
        ("DSC214", "'from' and 'locale' both say which locale to read"),
    ]


def test_years_applies_to_dates_once(diags):
    found = diags(clean("standardize score as number years 1950..2049",
                        "standardize day as date years 1950..2049 years 1900..1999"))
    assert [(d.code, d.message) for d in found] == [
        ("DSC217", "'years' does not apply to number"),
        ("DSC214", "'years' is given twice"),
    ]


def test_a_column_standardized_twice(codes):
    assert codes(clean("standardize day as date", "standardize day as date order DMY")) == ["DSC202"]


def test_dedupe_options_apply_by_mode(diags):
    found = diags(clean('dedupe exact on prompt jaccard >= 0.9 pairs "p.json"',
                        "dedupe near on prompt threshold 0.5 ignoring case",
                        'dedupe fuzzy on prompt pairs "p.json" ignoring case bands 4'))
    assert [(d.code, d.message) for d in found] == [
        ("DSC217", "'jaccard' does not apply to dedupe exact"),
        ("DSC217", "'pairs' does not apply to dedupe exact"),
        ("DSC217", "'threshold' does not apply to dedupe near"),
        ("DSC217", "'ignoring' does not apply to dedupe near"),
        ("DSC217", "'ignoring' does not apply to dedupe fuzzy"),
        ("DSC217", "'bands' does not apply to dedupe fuzzy"),
    ]


def test_dedupe_option_values(diags):
    found = diags(clean("dedupe exact on prompt ignoring cases, case, case keep newest",
                        "dedupe near on prompt ngram 3 tokens keep by score descending"))
    assert [(d.code, d.message) for d in found] == [
        ("DSC203", "unknown 'ignoring' value 'cases'"),
        ("DSC214", "'case' is listed twice"),
        ("DSC203", "unknown 'keep' policy 'newest'"),
        ("DSC203", "unknown n-gram unit 'tokens'"),
        ("DSC203", "unknown sort direction 'descending'"),
    ]


def test_keep_and_keep_by_exclude_each_other(diags):
    (d,) = diags(clean("dedupe exact on prompt keep first keep by score"))
    assert (d.code, d.message) == ("DSC214", "'keep' is given twice")


def test_fuzzy_needs_pairs(diags):
    (d,) = diags(clean("dedupe fuzzy on prompt threshold 0.5"))
    assert (d.code, d.message) == ("DSC211", "dedupe fuzzy needs a labelled-pairs file")
    assert "pairs" in d.hint


def test_conflict_policies(diags):
    found = diags(clean("conflicts on prompt -> label resolve mjority",
                        "conflicts on prompt -> label resolve first else drop",
                        "conflicts on prompt -> label resolve majority else keep",
                        "conflicts on prompt -> prompt resolve majority else flag"))
    assert [(d.code, d.message) for d in found] == [
        ("DSC203", "unknown conflict policy 'mjority'"),
        ("DSC217", "'else' only applies to 'resolve majority', not 'first'"),
        ("DSC203", "unknown 'else' policy 'keep'"),
        ("DSC214", "'prompt' is both a key column and the target"),
    ]


def test_exports(diags):
    text = SCHEMA + """\
split by prompt {
  train 1
}
export csv "out/{split}.csv"
export jsonl "out/all.jsonl" shape chat template "t.j2"
export parquet "out/{split}/{date}.parquet" shape alpaca
"""
    assert [(d.code, d.message) for d in diags(text)] == [
        ("DSC203", "unknown export format 'csv'"),
        ("DSC212", "the export path has no '{split}'"),
        ("DSC214", "an export has either a 'shape' or a 'template', not both"),
        ("DSC203", "unknown placeholder '{date}' in the export path"),
        ("DSC203", "unknown export shape 'alpaca'"),
    ]


def test_without_splits_an_export_path_needs_no_placeholder(codes):
    assert codes(SCHEMA + 'export jsonl "out/all.jsonl"\n') == []


def test_export_options_are_given_once(diags):
    text = ('export jsonl "out/a.jsonl" shape chat shape alpaca\n'
            'export jsonl "out/b.jsonl" template "a.j2" template "b.j2"\n')
    found = diags(SCHEMA + text)
    assert [(d.code, d.message, d.span.line, d.span.column) for d in found] == [
        ("DSC214", "'shape' is given twice", 14, 39),
        ("DSC203", "unknown export shape 'alpaca'", 14, 45),
        ("DSC214", "'template' is given twice", 15, 44),
    ]
    assert found[0].hint == found[2].hint == "the first is earlier on this line; keep one"


def test_split_header_options_are_given_once(diags):
    text = SCHEMA + "split by prompt stratify label seed 1 stratify label seed 2 {\n  train 1\n}\n"
    found = diags(text)
    assert [(d.code, d.message, d.span.column, d.hint) for d in found] == [
        ("DSC214", "'stratify' is given twice in the split header", 39, "the first is earlier on this line; keep one"),
        ("DSC214", "'seed' is given twice in the split header", 54, "the first is earlier on this line; keep one"),
    ]


def test_every_repeated_value_is_still_checked(codes):
    """A repeat is kept in the AST, so the second value is checked too, not only reported."""
    text = SCHEMA + "split by prompt stratify label stratify lable seed 1 seed -1 {\n  train 1\n}\n"
    assert codes(text) == ["DSC214", "DSC201", "DSC214", "DSC209"]


def test_a_repeated_split_name_is_a_duplicate(diags):
    found = diags(SCHEMA + "split by prompt {\n  train 0.5\n  train 0.5\n}\n")
    assert [(d.code, d.message, d.span.line) for d in found] == [("DSC202", "split 'train' is declared twice", 16)]
