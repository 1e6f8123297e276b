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
