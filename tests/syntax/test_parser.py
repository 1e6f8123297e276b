"""Parse and build, construct by construct: each snippet of .dspec gives exactly this AST."""
from __future__ import annotations

from decimal import Decimal

import pytest

from dsc import ast
from dsc.diagnostics import render_all
from dsc.syntax.build import unescape
from dsc.syntax.load import parse
from dsc.syntax.source import SourceFile

N, S = ast.Name, ast.Str


def num(text: str, percent: bool = False) -> ast.Num:
    return ast.Num(Decimal(text), percent)


def names(*values: str) -> tuple[ast.Name, ...]:
    return tuple(N(v) for v in values)


def parse_ok(text: str) -> ast.Spec:
    spec, diags = parse(SourceFile("t.dspec", text))
    assert diags == [], render_all(diags, SourceFile("t.dspec", text))
    return spec


def block(text: str):
    (only,) = parse_ok(text).blocks
    return only


def stmt(keyword: str, line: str):
    """The one statement of a block `keyword { line }`."""
    body = block(f"{keyword} {{\n  {line}\n}}\n")
    (only,) = next(v for v in vars(body).values() if isinstance(v, tuple))
    return only


def errors(text: str) -> list[tuple[str, int, str]]:
    spec, diags = parse(SourceFile("t.dspec", text))
    assert spec is None
    return [(d.code, d.span.line, d.message) for d in diags]


# ── header and source ───────────────────────────────────────────────────────────────────
def test_dataset_header():
    assert block("dataset support version 4 {\n  seed 1234\n  locale en_US\n}\n") == ast.DatasetBlock(
        N("support"), num("4"), (ast.Seed(num("1234")), ast.Locale(N("en_US")))
    )


@pytest.mark.parametrize("line, expected", [
    ('files "a/*.jsonl", "b.json"', ast.Files((S("a/*.jsonl"), S("b.json")))),
    ('hub "org/ds"', ast.Hub(S("org/ds"))),
    ('hub "org/ds" split train revision "abc" config en', ast.Hub(S("org/ds"), (
        ast.HubOption("split", N("train")), ast.HubOption("revision", S("abc")), ast.HubOption("config", N("en"))))),
    ('hub "org/ds" config en split train', ast.Hub(S("org/ds"), (
        ast.HubOption("config", N("en")), ast.HubOption("split", N("train"))))),
    # A repeat is kept, not collapsed to the last value, so the checks can report it (DSC214).
    ('hub "org/ds" split train split test', ast.Hub(S("org/ds"), (
        ast.HubOption("split", N("train")), ast.HubOption("split", N("test"))))),
    ("format jsonl", ast.Format(N("jsonl"))),
    ("key ticket_id, turn", ast.Key(names("ticket_id", "turn"))),
    ("rename body -> prompt", ast.Rename(N("body"), N("prompt"))),
    ("explode instances", ast.Explode(N("instances"))),
])
def test_source_statements(line, expected):
    assert stmt("source s", line) == expected


# ── schema ──────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("line, expected", [
    ("id : string required unique", ast.ColumnDecl(N("id"), N("string"), None, names("required", "unique"))),
    ("id: int", ast.ColumnDecl(N("id"), N("int"))),
    ('cat : label {a, "b c", 3} required',
     ast.ColumnDecl(N("cat"), N("label"), (N("a"), S("b c"), num("3")), names("required"))),
])
def test_schema_columns(line, expected):
    assert stmt("schema", line) == expected


def test_a_keyword_is_a_name_where_only_a_name_can_stand():
    assert [c.name.value for c in block("schema {\n  id : int\n  matches : text\n  not : text\n}\n").columns] == [
        "id", "matches", "not"]


# ── clean ───────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("line, expected", [
    ("normalize prompt, response: nfkc, strip", ast.Normalize(names("prompt", "response"), names("nfkc", "strip"))),
    ("drop where words(response) < 3", ast.Drop(ast.MeasurePred(N("words"), N("response"), N("<"), num("3")))),
    ("drop where not not empty(prompt)", ast.Drop(ast.TestPred(N("empty"), N("prompt")), 2)),
    ('drop where prompt matches "^\\\\s*$"', ast.Drop(ast.MatchesPred(N("prompt"), S("^\\s*$")))),
    ('drop where cat not in {bug, "other", 1}',
     ast.Drop(ast.InPred(N("cat"), (N("bug"), S("other"), num("1")), negated=True))),
    ("standardize opened as date", ast.Standardize(N("opened"), N("date"), None)),
    ("standardize opened as date from [de_DE, en_US] order DMY on_error reject",
     ast.Standardize(N("opened"), N("date"), None, (
         ast.StdOption("from", names("de_DE", "en_US")), ast.StdOption("order", names("DMY")),
         ast.StdOption("on_error", names("reject"))))),
    ('standardize amount as money EUR locale de_DE base "r.json" rates {USD 0.92, GBP 1.17}',
     ast.Standardize(N("amount"), N("money"), N("EUR"), (
         ast.StdOption("locale", names("de_DE")), ast.StdOption("base", (S("r.json"),)),
         ast.StdOption("rates", (ast.Rate(N("USD"), num("0.92")), ast.Rate(N("GBP"), num("1.17"))))))),
    ('standardize w as quantity "kg/m^2"', ast.Standardize(N("w"), N("quantity"), S("kg/m^2"))),
    ("standardize d as date years 1950..2049", ast.Standardize(N("d"), N("date"), None, (
        ast.StdOption("years", (num("1950"), num("2049"))),))),
    ("standardize d as date years 1950 .. 2049 order DMY", ast.Standardize(N("d"), N("date"), None, (
        ast.StdOption("years", (num("1950"), num("2049"))), ast.StdOption("order", names("DMY"))))),
    ("dedupe exact on a, b ignoring case, whitespace",
     ast.Dedupe(N("exact"), names("a", "b"), (ast.DedupeOption("ignoring", names("case", "whitespace")),))),
    ("dedupe near on a jaccard >= 0.85 ngram 5 words permutations 128 bands 16 keep longest",
     ast.Dedupe(N("near"), names("a"), (
         ast.DedupeOption("jaccard", (N(">="), num("0.85"))), ast.DedupeOption("ngram", (num("5"), N("words"))),
         ast.DedupeOption("permutations", (num("128"),)), ast.DedupeOption("bands", (num("16"),)),
         ast.DedupeOption("keep", (N("longest"),))))),
    ("dedupe near on a ngram 3", ast.Dedupe(N("near"), names("a"), (ast.DedupeOption("ngram", (num("3"), None)),))),
    ('dedupe fuzzy on a pairs "p.json" threshold 0.5 keep by score desc',
     ast.Dedupe(N("fuzzy"), names("a"), (
         ast.DedupeOption("pairs", (S("p.json"),)), ast.DedupeOption("threshold", (num("0.5"),)),
         ast.DedupeOption("keep_by", (N("score"), N("desc")))))),
    ("dedupe fuzzy on a keep by score", ast.Dedupe(N("fuzzy"), names("a"), (
        ast.DedupeOption("keep_by", (N("score"), None)),))),
    ("conflicts on prompt -> category resolve majority",
     ast.Conflicts(names("prompt"), N("category"), N("majority"))),
    ("conflicts on a, b -> c resolve majority else drop",
     ast.Conflicts(names("a", "b"), N("c"), N("majority"), N("drop"))),
])
def test_clean_rules(line, expected):
    assert stmt("clean", line) == expected


# ── annotate ────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("line, expected", [
    ('from "a.jsonl" format long', ast.AnnSetting("from", (S("a.jsonl"), N("long")))),
    ("annotators >= 3", ast.AnnSetting("annotators", (num("3"),), N(">="))),
    ("experts >= 1", ast.AnnSetting("experts", (num("1"), None), N(">="))),
    ("experts >= 1 role domain_expert", ast.AnnSetting("experts", (num("1"), N("domain_expert")), N(">="))),
    ("agreement fleiss >= 0.6", ast.AnnSetting("agreement", (N("fleiss"), None, num("0.6")), N(">="))),
    ("agreement krippendorff ordinal >= 0.67",
     ast.AnnSetting("agreement", (N("krippendorff"), N("ordinal"), num("0.67")), N(">="))),
    ("item_agreement == 1", ast.AnnSetting("item_agreement", (num("1"),), N("=="))),
    ('from "a.jsonl"', ast.AnnSetting("from", (S("a.jsonl"), None))),
    ("resolve majority prefer expert tie drop", ast.AnnSetting("resolve", (N("majority"), N("expert"), N("drop")))),
    ("resolve majority", ast.AnnSetting("resolve", (N("majority"), None, None))),
    ("resolve majority tie drop", ast.AnnSetting("resolve", (N("majority"), None, N("drop")))),
    ("below_threshold flag", ast.AnnSetting("below_threshold", (N("flag"),))),
    ('tasks "todo.jsonl"', ast.AnnSetting("tasks", (S("todo.jsonl"),))),
])
def test_annotate_settings(line, expected):
    assert stmt("annotate category", line) == expected


# ── split, augment, export ──────────────────────────────────────────────────────────────
def test_split_block():
    assert block("split by id stratify cat seed 7 {\n  train 90%\n  validation 0.1\n}\n") == ast.SplitBlock(
        N("id"), (ast.SplitOption("stratify", N("cat")), ast.SplitOption("seed", num("7"))),
        (ast.SplitPart(N("train"), num("90", True)), ast.SplitPart(N("validation"), num("0.1"))))
    assert block("split by id {\n}\n") == ast.SplitBlock(N("id"), (), ())
    assert block("split by id seed 1 seed 2 {\n}\n") == ast.SplitBlock(
        N("id"), (ast.SplitOption("seed", num("1")), ast.SplitOption("seed", num("2"))), ())


def test_augment_block():
    got = block('augment train, dev {\n  paraphrase prompt ratio 0.25 using "t5"\n'
                '  backtranslate prompt via de, fr ratio 10% endpoint "http://x" model "m" key_env K '
                'template "t.j2" concurrency 4\n}\n')
    assert got == ast.AugmentBlock(names("train", "dev"), (
        ast.Augmentation(N("paraphrase"), N("prompt"), (), (ast.AugOption("ratio", num("0.25")),
                                                             ast.AugOption("using", S("t5")))),
        ast.Augmentation(N("backtranslate"), N("prompt"), names("de", "fr"), (
            ast.AugOption("ratio", num("10", True)), ast.AugOption("endpoint", S("http://x")),
            ast.AugOption("model", S("m")), ast.AugOption("key_env", N("K")), ast.AugOption("template", S("t.j2")),
            ast.AugOption("concurrency", num("4")))),
    ))


def test_augment_guard_bounds_are_numbers():
    (rule,) = block('augment train {\n  paraphrase prompt ratio 0.25 using "t5" min_similarity 0.3 '
                    'max_similarity 90% min_length_ratio 0.5 max_length_ratio 2\n}\n').rules
    assert rule.options[2:] == (ast.AugOption("min_similarity", num("0.3")),
                                ast.AugOption("max_similarity", num("90", True)),
                                ast.AugOption("min_length_ratio", num("0.5")), ast.AugOption("max_length_ratio", num("2")))


def test_a_misspelt_guard_bound_gets_a_suggestion():
    text = 'augment train {\n  backtranslate prompt via de ratio 0.1 using "m" min_similarty 0.3\n}\n'
    spec, (d,) = parse(SourceFile("t.dspec", text))
    assert (d.code, d.message, d.hint) == ("DSC103", "unknown keyword 'min_similarty' in 'augment' block",
                                           "did you mean 'min_similarity'?")


@pytest.mark.parametrize("line, expected", [
    ('export parquet "out/{split}.parquet"', ast.Export(N("parquet"), S("out/{split}.parquet"))),
    ('export jsonl "o.jsonl" shape chat template "a.j2"', ast.Export(N("jsonl"), S("o.jsonl"), (
        ast.ExportOption("shape", N("chat")), ast.ExportOption("template", S("a.j2"))))),
    ('export jsonl "o.jsonl" shape chat shape instruction', ast.Export(N("jsonl"), S("o.jsonl"), (
        ast.ExportOption("shape", N("chat")), ast.ExportOption("shape", N("instruction"))))),
])
def test_export(line, expected):
    assert block(line + "\n") == expected


# ── gate, finetune ──────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("line, expected", [
    ("dropped <= 20%", ast.MetricGate(N("dropped"), (), N("<="), num("20", True))),
    ("rows(train) >= 1000 warn", ast.MetricGate(N("rows"), names("train"), N(">="), num("1000"), N("warn"))),
    ("kappa(a, b) > 0.5 error", ast.MetricGate(N("kappa"), names("a", "b"), N(">"), num("0.5"), N("error"))),
    ("leakage train, validation jaccard >= 0.8", ast.LeakageGate(N("train"), N("validation"), N(">="), num("0.8"))),
])
def test_gates(line, expected):
    assert stmt("gate", line) == expected


def test_finetune_settings():
    got = block('finetune lora {\n  base "m@main"\n  r 16\n  target q_proj, v_proj\n  lr 2e-4\n}\n')
    assert got == ast.FinetuneBlock(N("lora"), (
        ast.Setting(N("base"), (S("m@main"),)), ast.Setting(N("r"), (num("16"),)),
        ast.Setting(N("target"), names("q_proj", "v_proj")), ast.Setting(N("lr"), (num("0.0002"),)),
    ))


def test_the_first_statement_of_a_block_may_start_with_a_keyword_of_another_block():
    assert block("finetune full {\n  seed 42\n}\n").settings == (ast.Setting(N("seed"), (num("42"),)),)
    assert block("gate {\n  agreement(category) >= 0.6\n}\n").gates == (
        ast.MetricGate(N("agreement"), names("category"), N(">="), num("0.6")),)


def test_a_keyword_of_another_block_is_a_name_after_the_first_statement():
    got = block("gate {\n  dropped <= 5%\n  agreement(category) >= 0.6\n}\n").gates[1]
    assert got == ast.MetricGate(N("agreement"), names("category"), N(">="), num("0.6"))


# ── lexical details ─────────────────────────────────────────────────────────────────────
def test_numbers_keep_their_decimal_and_percent():
    parts = block("split by id {\n  a 0.10\n  b 20 %\n  c 1E+3\n}\n").parts
    assert [(p.fraction.value, p.fraction.percent) for p in parts] == [
        (Decimal("0.10"), False), (Decimal("20"), True), (Decimal("1000"), False)]
    assert str(parts[0].fraction.value) == "0.10"
    assert parts[1].fraction.fraction == Decimal("0.2")


def test_negative_numbers():
    assert block("finetune f {\n  shift -0.5, -3e2\n}\n").settings[0].values == (num("-0.5"), num("-300"))


def test_string_escapes_are_resolved_and_unknown_ones_kept():
    assert unescape(r'"a\"b\\c\nd\te"') == 'a"b\\c\nd\te'
    assert unescape(r'"^\d+\s"') == "^\\d+\\s"
    assert stmt("source s", r'files "say \"hi\"\t#1"') == ast.Files((S('say "hi"\t#1'),))


def test_comments_blank_lines_and_continuations_are_layout():
    text = "# head\n\nclean {  # c\n\n  # inside\n  drop where \\\n    empty(x)  # t\n}\n# tail"
    assert parse_ok(text) == parse_ok("clean {\n  drop where empty(x)\n}\n")


def test_crlf_line_ends_are_accepted():
    assert parse_ok("gate {\r\n  dropped <= 5%\r\n}\r\n") == parse_ok("gate {\n  dropped <= 5%\n}\n")


def test_spans_point_at_the_source():
    rule = stmt("clean", "drop where words(response) < 3")
    assert (rule.span.line, rule.span.column) == (2, 3)
    column = rule.predicate.column
    assert (column.span.line, column.span.column, column.span.end_column) == (2, 20, 28)


def test_spans_are_not_part_of_equality():
    assert parse_ok("gate {\n  dropped <= 5%\n}\n") == parse_ok("\n\ngate   {\n      dropped<=5%\n}")


# ── syntax errors ───────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("text, expected", [
    ("clean {\n  drop were empty(x)\n}\n", [("DSC103", 2, "unknown keyword 'were' in 'clean' block")]),
    ("claen {\n}\n", [("DSC103", 1, "unknown keyword 'claen' at top level")]),
    ("gate {\n  dropped <=\n}\n", [("DSC105", 2, "this line ends too early: expected a number")]),
    ("gate {\n  dropped <= 5%\n", [("DSC104", 1, "block 'gate' opened on line 1 is not closed before the end of "
                                               "the file")]),
    ("source s {\n  files 'a.json'\n}\n", [("DSC101", 2, "unexpected character \"'\"")]),
    ("gate {\n  dropped <= 5% warn error\n}\n", [("DSC102", 2, "unexpected 'error' in 'gate' block")]),
    # a keyword of the language in the wrong block is out of place, not unknown
    ("clean {\n  seed 3\n}\n", [("DSC102", 2, "unexpected 'seed' in 'clean' block")]),
    ("clean {\n  dedupe exact on q keep first first\n}\n", [("DSC102", 2, "'first' is written twice in 'clean' block")]),
])
def test_syntax_errors(text, expected):
    assert errors(text) == expected


def test_every_independent_error_is_reported():
    text = "clean {\n  drop were empty(x)\n  dedupe nearly on a\n}\ngate {\n  dropped <=\n}\n"
    assert [(code, line) for code, line, _ in errors(text)] == [("DSC103", 2), ("DSC103", 3), ("DSC105", 6)]


def test_a_flood_of_errors_stops_at_the_limit():
    got = errors("gate {\n" + "  x >=\n" * 40 + "}\n")
    assert len(got) == 26 and got[-1][0] == "DSC106"
