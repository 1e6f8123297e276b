SCHEMA = """\
schema {
  ticket_id : string
  prompt    : text
  score     : float
  category  : label {bug, billing}
}
"""


def test_unknown_columns_everywhere_with_suggestions(diags):
    text = SCHEMA + """\
clean {
  normalize promt: nfc
  drop where words(promt) < 3
  standardize scor as number
  dedupe exact on promt keep by scor
  conflicts on promt -> categry resolve first
}
annotate categry {
  from "a.jsonl"
}
split by ticket stratify categry {
  train 1
}
augment train {
  paraphrase promt ratio 0.1 using "m"
}
"""
    found = [d for d in diags(text) if d.code == "DSC201"]
    assert [d.message.split("'")[1] for d in found] == [
        "promt", "promt", "scor", "promt", "scor", "promt", "categry", "categry", "ticket", "categry", "promt"]
    assert found[0].hint == "did you mean 'prompt'?"
    assert found[8].hint == "did you mean 'ticket_id'?"


def test_span_is_the_name_itself(diags):
    (d,) = diags(SCHEMA + "clean {\n  drop where words(promt) < 3\n}\n")
    assert (d.span.line, d.span.column, d.span.end_column) == (14, 20, 25)


def test_rename_and_explode_name_source_columns_but_key_uses_new_names(diags):
    source = 'source more {\n  files "b"\n  rename body -> prompt\n  explode items\n  key body\n}\n'
    (d,) = diags(SCHEMA + source)
    assert d.message == "unknown column 'body'"
    assert d.hint == "'body' is renamed to 'prompt' in the source; use the new name"


def test_no_close_match_lists_the_columns(diags):
    (d,) = diags(SCHEMA + "clean {\n  drop where null(zzz)\n}\n")
    assert d.hint == "the schema declares: category, prompt, score, ticket_id"


def test_schema_types_and_duplicates(diags):
    text = "schema {\n  a : strng\n  a : text\n  b : number\n  c : label {x, y, x} required required\n}\n"
    assert [(d.code, d.hint) for d in diags(text)] == [
        ("DSC203", "did you mean 'string'?"),
        ("DSC202", "the first declaration is on line 8"),
        ("DSC203", "use 'int' or 'float'"),
        ("DSC202", "each allowed value is listed once"),
        ("DSC214", "remove the repeat"),
    ]


def test_names_that_must_be_unique(diags):
    text = SCHEMA + """\
annotate category {
  from "a.jsonl"
}
annotate category {
  from "a.jsonl"
}
split by ticket_id {
  train 0.5
  train 0.5
}
export jsonl "out/{split}.jsonl"
export parquet "out/{split}.jsonl"
clean {
  dedupe exact on prompt, prompt
}
"""
    assert [d.message for d in diags(text) if d.code == "DSC202"] == [
        "field 'category' has a second 'annotate' block",
        "split 'train' is declared twice",
        "two exports write to 'out/{split}.jsonl'",
        "'prompt' is listed twice",
    ]


def test_reserved_column_names(diags):
    (d,) = diags("schema {\n  _dsc_id : string\n}\n")
    assert (d.code, d.message) == ("DSC202", "column names starting with '_dsc_' are reserved")
