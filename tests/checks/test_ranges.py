from decimal import Decimal

from dsc import ast
from dsc.checks.ranges import DEFAULT_PERMUTATIONS, FRACTION, Range, out_of_range
from dsc.diagnostics import WARNING

SCHEMA = "schema {\n  id : string\n  prompt : text\n  c : label {a, b}\n}\n"


def split(*parts: str) -> str:
    return SCHEMA + "split by id {\n" + "".join(f"  {p}\n" for p in parts) + "}\n"


def test_split_fractions_sum_exactly_to_one_in_decimal(codes):
    assert codes(split("train 0.7", "validation 0.2", "test 0.1")) == []  # 0.7+0.2+0.1 != 1 in floats
    assert codes(split("train 80%", "validation 0.2")) == []
    assert codes(split("all 1")) == []


def test_split_sum_says_what_it_is_and_suggests_a_fix(diags):
    (d,) = diags(split("train 0.8", "validation 0.1"))
    assert (d.code, d.message, d.hint) == ("DSC208", "split fractions sum to 0.9, not 1", "e.g. validation 0.2")
    (d,) = diags(split("train 0.9", "validation 0.9"))
    assert (d.message, d.hint) == ("split fractions sum to 1.8, not 1", "e.g. validation 0.1")
    (d,) = diags(split("train 1", "validation 0.5"))
    assert (d.message, d.hint) == ("split fractions sum to 1.5, not 1", "adjust the fractions so they add up to 1")


def test_a_fraction_out_of_range_is_not_also_a_sum_error(codes):
    assert codes(split("train 0", "validation 1")) == ["DSC209"]
    assert codes(split()) == ["DSC212"]


def test_percentages_are_fractions():
    assert out_of_range(ast.Num(Decimal(25), percent=True), "ratio", FRACTION) == []
    (d,) = out_of_range(ast.Num(Decimal(150), percent=True), "ratio", FRACTION)
    assert d.message == "ratio must be in (0%, 100%], not 150%"


def test_counts_refuse_percentages_and_fractions():
    count = Range(Decimal(1), Decimal(9), integer=True, percent=False)
    assert out_of_range(ast.Num(Decimal(3)), "n", count) == []
    assert out_of_range(ast.Num(Decimal(3), percent=True), "n", count)[0].message == (
        "n must be a whole number from 1 to 9, not a percentage")
    assert out_of_range(ast.Num(Decimal("2.5")), "n", count)[0].message == (
        "n must be a whole number from 1 to 9, not 2.5")


def test_dedupe_numbers(diags):
    text = SCHEMA + "clean {\n  dedupe near on prompt jaccard >= 0 ngram 0 permutations 8\n}\n"
    assert [d.message for d in diags(text)] == [
        "jaccard threshold must be in (0, 1], not 0",
        "n-gram size must be a whole number from 1 to 64, not 0",
        "permutations must be a whole number from 16 to 1024, not 8",
    ]


def test_bands_against_permutations_given_or_default(diags):
    found = diags(SCHEMA + "clean {\n  dedupe near on prompt bands 200\n"
                  "  dedupe near on prompt permutations 64 bands 5\n}\n")
    assert [(d.severity, d.message) for d in found] == [
        ("error", "200 bands need at least as many permutations, not 128 (the default)"),
        (WARNING, "5 bands do not divide 64 permutations"),
    ]


def test_default_permutations_match_the_operator():
    from dsc.ops.dedupe_near import DedupeNear

    assert DedupeNear.Params.model_fields["permutations"].default == DEFAULT_PERMUTATIONS


def test_seeds_and_version(diags):
    text = "dataset d version 1% {\n  seed 2.5\n}\n" + 'source s {\n  files "a"\n}\n' + SCHEMA
    text += "split by id seed 9223372036854775808 {\n  train 1\n}\n"
    assert [d.message.split(",")[0] for d in diags(text, frame=False)] == [
        "version must be in [0",
        "seed must be a whole number from 0 to 9223372036854775807",
        "seed must be a whole number from 0 to 9223372036854775807",
    ]


def test_minimums_are_written_with_at_least(diags):
    text = SCHEMA + "clean {\n  dedupe near on prompt jaccard > 0.8\n}\n"
    (d,) = diags(text)
    assert (d.code, d.hint) == ("DSC215", "use >=")


def test_annotation_numbers(diags):
    text = SCHEMA + """\
annotate c {
  from "a.jsonl"
  annotators >= 0
  experts >= 2 role e
  agreement cohen none >= 1.5
  item_agreement >= 101%
  below_threshold drop
}
annotate c2 {
  from "a.jsonl"
  annotators >= 2
  experts >= 3 role e
  agreement percent >= 90%
  below_threshold drop
}
"""
    found = [d for d in diags(text) if d.code == "DSC209"]
    assert [d.message for d in found] == [
        "the number of annotators must be a whole number from 1 to 1000, not 0",
        "cohen agreement threshold must be in [-1, 1], not 1.5",
        "item agreement must be in [0%, 100%], not 101%",
        "3 experts are more than the 2 annotators per item",
    ]


def test_augment_numbers(diags):
    text = SCHEMA + 'split by id {\n  train 1\n}\n'
    text += 'augment train {\n  paraphrase prompt ratio 0 using "m" concurrency 0\n}\n'
    assert [d.message for d in diags(text)] == [
        "ratio must be in (0, 1], not 0", "concurrency must be a whole number from 1 to 64, not 0"]


def test_a_century_window_is_100_years_first_year_first(diags):
    rules = ["standardize d as date years 2049..1950", "standardize e as date years 1950..2000",
             "standardize f as date years 1950.5..0", "standardize g as datetime years 1950..2049"]
    text = "schema {\n  d : date\n  e : date\n  f : date\n  g : datetime\n}\nclean {\n" + \
        "".join(f"  {r}\n" for r in rules) + "}\n"
    found = diags(text)
    assert [(d.code, d.span.line, d.span.column, d.message, d.hint) for d in found] == [
        ("DSC209", 14, 25, "years 2049..1950 runs backwards", "write the first year first: years 1950..2049"),
        ("DSC209", 15, 25, "years 1950..2000 spans 51 years, not 100",
         "a two-digit year is one year of each century: e.g. years 1950..2049"),
        ("DSC209", 16, 31, "the first year must be a whole number from 1 to 9999, not 1950.5", None),
        ("DSC209", 16, 39, "the last year must be a whole number from 1 to 9999, not 0", None),
    ]


def test_counts_and_sizes_have_upper_bounds(codes, diags):
    """A number a run would turn into work or memory is bounded by its meaning: `ngram 1000000000`
    allocated 8 GB, `words(x) > 1e20` overflowed pyarrow's int64."""
    text = SCHEMA + ("clean {\n  dedupe near on prompt ngram 1000000000\n  drop where words(prompt) > 1e20\n"
                     "  drop where chars(prompt) > 1000000001\n}\n")
    text += 'split by id {\n  train 1\n}\naugment train {\n  paraphrase prompt ratio 0.1 using "m" concurrency 65\n}\n'
    assert [(d.code, d.span.line, d.message) for d in diags(text)] == [
        ("DSC209", 13, "n-gram size must be a whole number from 1 to 64, not 1000000000"),
        ("DSC209", 14, "a words() count must be a whole number from 0 to 1000000000, not 100000000000000000000"),
        ("DSC209", 15, "a chars() count must be a whole number from 0 to 1000000000, not 1000000001"),
        ("DSC209", 21, "concurrency must be a whole number from 1 to 64, not 65"),
    ]
    assert codes(SCHEMA + "clean {\n  dedupe near on prompt ngram 64 chars\n"
                          "  drop where words(prompt) > 1000000000\n}\n") == []


def test_split_fractions_are_summed_exactly(codes, diags):
    """At 28 digits, 0.9999999999999999999999999999 + 0.0000000000000000000000000002 rounded to 1."""
    (d,) = diags(split("train 0.9999999999999999999999999999", "validation 0.0000000000000000000000000002"))
    assert (d.code, d.message, d.hint) == ("DSC208", "split fractions sum to 1.0000000000000000000000000001, not 1",
                                           "e.g. validation 0.0000000000000000000000000001")
    assert codes(split("train 99.99999999999999999999999999%", "validation 0.0000000000000000000000000001")) == []
    assert codes(split(*(f"s{i} 0.0000000000000000000000000001" for i in range(3)),
                       "rest 0.9999999999999999999999999997")) == []


def test_a_rate_is_a_plain_positive_number(diags):
    """`rates {USD 92%}` compiled as 92: a rate is no percentage, and is at most 1e9."""
    text = "schema {\n  fee : money\n}\nclean {\n  standardize fee as money EUR rates {USD 92%, GBP 1e10}\n}\n"
    assert [(d.code, d.message) for d in diags(text)] == [
        ("DSC209", "the rate for USD must be in (0, 1000000000], not a percentage"),
        ("DSC209", "the rate for GBP must be in (0, 1000000000], not 10000000000"),
    ]
