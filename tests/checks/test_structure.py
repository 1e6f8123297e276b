from dsc.diagnostics import WARNING

SCHEMA = "schema {\n  prompt : text\n}\n"


def test_a_complete_frame_is_clean(codes):
    assert codes(SCHEMA) == []


def test_missing_source_is_an_error_and_missing_header_a_warning(diags):
    found = diags(SCHEMA, frame=False)
    assert [(d.code, d.severity) for d in found] == [("DSC212", "error"), ("DSC212", WARNING)]
    assert "no 'source' block" in found[0].message
    assert found[0].span.line == 0  # about the whole spec: reported at the top


def test_no_schema_is_one_warning_and_no_column_errors(diags):
    found = diags("clean {\n  drop where words(promt) < 3\n}\n")
    assert [(d.code, d.severity) for d in found] == [("DSC220", WARNING)]


def test_repeated_singleton_blocks_point_at_the_second_keyword(diags):
    found = diags(SCHEMA + "gate {\n}\ngate {\n}\n")
    assert [d.code for d in found] == ["DSC202"]
    assert found[0].message == "a second 'gate' block"
    assert (found[0].span.line, found[0].span.end_column - found[0].span.column) == (12, 4)


def test_source_needs_exactly_one_origin(codes):
    assert codes(SCHEMA + "source empty {\n  key prompt\n}\n") == ["DSC212"]
    both = 'source both {\n  files "a.jsonl"\n  hub "o/n" revision "abc"\n}\n'
    assert codes(SCHEMA + both) == ["DSC214"]


def test_an_unpinned_hub_dataset_is_a_warning(diags):
    found = diags(SCHEMA + 'source hub {\n  hub "org/name"\n}\n')
    assert [(d.code, d.severity) for d in found] == [("DSC212", WARNING)]
    assert "not pinned" in found[0].message


def test_source_statements_and_names(codes):
    assert codes(SCHEMA + 'source tickets {\n  files "b.jsonl"\n}\n') == ["DSC202"]
    assert codes(SCHEMA + 'source b {\n  files "b.jsonl"\n  format xml\n}\n') == ["DSC203"]
    assert codes(SCHEMA + 'source b {\n  files "b"\n  files "c"\n}\n') == ["DSC214"]
    assert codes(SCHEMA + 'source h {\n  hub "o/n" revision "r"\n  format csv\n}\n') == ["DSC217"]


def test_renames_that_lose_a_column(diags):
    text = SCHEMA + 'source b {\n  files "b"\n  rename a -> x\n  rename a -> y\n  rename c -> x\n}\n'
    assert [d.message for d in diags(text)] == ["column 'a' is renamed twice", "two columns are renamed to 'x'"]


def test_header_statements_are_given_once(diags):
    header = "dataset d version 1 {\n  locale en_US\n  locale de_DE\n}\n"
    found = diags(header + SCHEMA + 'source s {\n  files "a"\n}\n', frame=False)
    assert [(d.code, d.message) for d in found] == [("DSC214", "'locale' is given twice in the dataset header")]


def test_hub_options_are_given_once(diags):
    """Each repeat is reported at the repeated keyword; none collapses into the last value."""
    line = '  hub "org/name" split train split test revision "a" revision "b" config x config y'
    found = diags(SCHEMA + "source h {\n" + line + "\n}\n")
    assert [(d.code, d.message) for d in found] == [
        ("DSC214", "'split' is given twice in hub 'org/name'"),
        ("DSC214", "'revision' is given twice in hub 'org/name'"),
        ("DSC214", "'config' is given twice in hub 'org/name'"),
    ]
    assert [(d.span.line, d.span.column) for d in found] == [
        (11, line.index("split test") + 1), (11, line.index('revision "b"') + 1), (11, line.index("config y") + 1),
    ]
    assert [d.hint for d in found] == [
        "the first is earlier on this line; keep one, or declare a second source for the other split",
        "the first is earlier on this line; keep one: a hub dataset is read at one revision",
        "the first is earlier on this line; keep one, or declare a second source for the other config",
    ]


def test_a_hub_read_once_per_option_is_clean(codes):
    assert codes(SCHEMA + 'source h {\n  hub "o/n" config x revision "r" split test\n}\n') == []


def test_explode_is_given_once(diags):
    (d,) = diags(SCHEMA + 'source b {\n  files "b"\n  explode items\n  explode tags\n}\n')
    assert (d.code, d.message) == ("DSC214", "'explode' is given twice in source 'b'")
    assert (d.span.line, d.span.column) == (13, 3)
    assert d.hint == "the first is on line 12; a source explodes one list column; keep one"
