"""`export … shape SHAPE` finds the columns the shape reads among the schema's, at `dsc check` time."""
from __future__ import annotations

SCHEMA = "schema {\n  question : text\n  answer : text\n}\n"


def test_declared_columns_pass(codes):
    for shape in ("instruction", "chat", "prompt_completion", "chat_prompt_completion"):
        assert codes(SCHEMA + f'export jsonl "out/all.jsonl" shape {shape}\n') == []


def test_a_missing_column_names_it_and_what_each_shape_reads(diags):
    [found] = diags(SCHEMA + 'export jsonl "out/all.jsonl" shape preference\n')
    assert (found.code, found.message, found.span.line, found.span.column) == (
        "DSC201", "shape preference needs columns 'chosen' and 'rejected', which the schema does not declare", 11, 36)
    assert found.hint.startswith("declare them (or rename a source column to them), or pick another shape; "
                                 "the shapes read: instruction: instruction, output, input?; ")
    assert "preference: instruction, chosen, rejected, input?, system?" in found.hint


def test_one_missing_field_with_its_columns(diags):
    [found] = diags("schema {\n  question : text\n}\n" + 'export jsonl "out/all.jsonl" shape chat\n')
    assert found.message == ("shape chat needs a column 'output' (one of output, response, completion, answer), "
                             "which the schema does not declare")


def test_a_messages_column_is_enough_for_chat(codes):
    assert codes("schema {\n  messages : string\n}\n" + 'export jsonl "out/all.jsonl" shape chat\n') == []


def test_other_export_mistakes_are_reported_once(codes):
    # an unknown shape, a repeated shape, a shape with a template: check_exports' (DSC203, DSC214) alone
    assert codes(SCHEMA + 'export jsonl "out/a.jsonl" shape alpaca\n') == ["DSC203"]
    assert codes(SCHEMA + 'export jsonl "out/b.jsonl" shape preference shape chat\n') == ["DSC214"]
    assert codes(SCHEMA + 'export jsonl "out/c.jsonl" shape preference template "t.j2"\n') == ["DSC214"]


def test_without_a_schema_the_run_checks_the_data(codes):
    assert "DSC201" not in codes('export jsonl "out/all.jsonl" shape preference\n')
