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
