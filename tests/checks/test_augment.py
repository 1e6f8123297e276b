SCHEMA = "schema {\n  id : string\n  prompt : text\n}\nsplit by id {\n  train 0.9\n  validation 0.1\n}\n"


def augment(*rules: str, splits: str = "train") -> str:
    return SCHEMA + f"augment {splits} {{\n" + "".join(f"  {r}\n" for r in rules) + "}\n"


def test_local_and_endpoint_models_are_clean(codes):
    assert codes(augment('paraphrase prompt ratio 0.1 using "models/t5"',
                         'backtranslate prompt via de ratio 5% endpoint "https://x.example/v1" model "m" '
                         'key_env MY_KEY template "t.j2" concurrency 8')) == []


def test_unknown_splits(diags):
    found = diags(augment('paraphrase prompt ratio 0.1 using "m"', splits="trian, test"))
    assert [(d.code, d.hint) for d in found] == [
        ("DSC219", "did you mean 'train'?"), ("DSC219", "declared splits: train, validation")]


def test_no_split_block(diags):
    text = "schema {\n  prompt : text\n}\naugment train {\n  paraphrase prompt ratio 0.1 using \"m\"\n}\n"
    (d,) = diags(text)
    assert d.message == "unknown split 'train': the spec declares no splits"


def test_ratio_and_model_are_required(diags):
    assert [d.message for d in diags(augment("paraphrase prompt"))] == [
        "paraphrase needs a ratio: the share of rows to augment", "paraphrase needs a model"]


def test_model_references(diags):
    found = diags(augment('paraphrase prompt ratio 0.1 using "m" endpoint "http://h/v1" model "x"',
                          'paraphrase prompt ratio 0.1 endpoint "ftp://h"',
                          'paraphrase prompt ratio 0.1 using "m" key_env K template "t.j2"',
                          'paraphrase prompt ratio 0.1 endpoint "http://h" model "x" key_env sk_abc123'))
    assert [(d.code, d.message) for d in found] == [
        ("DSC214", "'using' and 'endpoint' both name the model"),
        ("DSC212", "an endpoint needs a 'model'"),
        ("DSC203", "'ftp://h' is not an http(s) URL"),
        ("DSC217", "'key_env' applies only to an endpoint"),
        ("DSC217", "'template' applies only to an endpoint"),
        ("DSC203", "'sk_abc123' does not look like an environment variable name"),
    ]


def test_repeats(diags):
    found = diags(augment('backtranslate prompt via de, de ratio 0.1 ratio 0.2 using "m"', splits="train, train"))
    assert [d.message for d in found] == ["'train' is listed twice", "'de' is listed twice", "'ratio' is given twice"]


# ── guard bounds ────────────────────────────────────────────────────────────────────────────
def test_guard_bounds_on_both_backends_are_clean(codes):
    assert codes(augment('paraphrase prompt ratio 0.1 using "m" min_similarity 0 max_similarity 1 '
                         'min_length_ratio 0.5 max_length_ratio 2',
                         'backtranslate prompt via de ratio 0.1 endpoint "https://x.example/v1" model "m" '
                         'min_similarity 30% max_similarity 30%',
                         'paraphrase prompt ratio 0.2 using "m" min_similarity 0.95 min_length_ratio 3')) == []


def test_guard_bounds_out_of_range(diags):
    found = diags(augment('paraphrase prompt ratio 0.1 using "m" min_similarity 1.5 max_similarity -0.1',
                          'paraphrase prompt ratio 0.2 using "m" min_length_ratio 0 max_length_ratio 200%'))
    assert [(d.code, d.span.line, d.span.column, d.message, d.hint) for d in found] == [
        ("DSC209", 16, 56, "min_similarity must be in [0, 1], not 1.5",
         "write a fraction like 0.25, or a percentage like 25%"),
        ("DSC209", 16, 75, "max_similarity must be in [0, 1], not -0.1",
         "a similarity is a fraction: 0 shares no character trigram, 1 is the same text"),
        ("DSC209", 17, 58, "min_length_ratio must be in (0, 100], not 0",
         "a multiple of the source's length, e.g. 0.5 (half as long)"),
        ("DSC209", 17, 77, "max_length_ratio must be in (0, 100], not a percentage", "write it without '%'"),
    ]


def test_a_bound_past_the_default_of_its_pair_is_an_error_naming_the_default(diags):
    found = diags(augment('paraphrase prompt ratio 0.1 using "m" min_similarity 0.97',
                          'backtranslate prompt via de ratio 0.1 endpoint "http://h/v1" model "x" max_length_ratio 0.3',
                          'paraphrase prompt ratio 0.1 using "m" min_similarity 0.97 max_similarity 1'))
    assert [(d.code, d.span.line, d.span.column, d.message, d.hint) for d in found] == [
        ("DSC209", 16, 56, "min_similarity 0.97 is above the default max_similarity 0.95",
         "no generation could pass the guard (the default max_similarity is 0.95): lower min_similarity, "
         "or also write max_similarity 0.97 or more"),
        ("DSC209", 17, 91, "max_length_ratio 0.3 is below the default min_length_ratio 1/3",
         "no generation could pass the guard (the default min_length_ratio is 1/3): raise max_length_ratio, "
         "or also write min_length_ratio 0.3 or less"),
    ]


def test_a_minimum_above_its_maximum(diags):
    (d,) = diags(augment('paraphrase prompt ratio 0.1 using "m" max_similarity 0.5 min_similarity 0.9'))
    assert (d.code, d.span.column, d.message, d.hint) == (
        "DSC209", 75, "min_similarity 0.9 is above max_similarity 0.5",
        "no generation could pass the guard: lower min_similarity or raise max_similarity")


def test_an_out_of_range_bound_is_not_compared_again_and_a_repeat_is_dsc214(diags):
    found = diags(augment('paraphrase prompt ratio 0.1 using "m" min_similarity 2 max_similarity 0.5',
                          'paraphrase prompt ratio 0.2 using "m" min_length_ratio 0.5 min_length_ratio 0.6'))
    assert [(d.code, d.message) for d in found] == [
        ("DSC209", "min_similarity must be in [0, 1], not 2"),
        ("DSC214", "'min_length_ratio' is given twice"),
    ]
