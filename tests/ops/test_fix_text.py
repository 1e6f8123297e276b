"""`normalize COLS: fix_text`: ftfy's repair of mojibake and HTML entities, and nothing else —
correct text, in any script, is left as it is; the step runs first, before any normal form."""
import pyarrow as pa
import pytest

from dsc.kernels.repair import fix_text
from dsc.kernels.text import normalize
from laws import assert_laws, compile_spec, compiled, spec, table


@pytest.mark.parametrize("broken, fixed", [
    ("Ã©", "é"),
    ("cafÃ©", "café"),
    ("SchÃ¶ne GrÃ¼ÃŸe", "Schöne Grüße"),
    ("Donâ€™t", "Don’t"),
    ("â€œquotedâ€\x9d", "“quoted”"),
    ("The Mona Lisa doesnÃƒÂ¢Ã¢â€šÂ¬Ã¢â€žÂ¢t have eyebrows.", "The Mona Lisa doesn’t have eyebrows."),  # twice
    ("fish &amp; chips", "fish & chips"),
    ("caf&eacute; &lt;3", "café <3"),
])
def test_mojibake_and_entities_are_repaired(broken, fixed):
    assert fix_text(pa.array([broken])).to_pylist() == [fixed]


@pytest.mark.parametrize("text", [
    "naïve café, Straße",
    "日本語のテキスト",
    "Ελληνικά και русский",
    "“curly” quotes and the ﬁ ligature and ＦＵＬＬ width",  # style, not breakage: left alone
    "<p>&amp; in markup stays</p>",  # text with markup keeps its entities
    "line one\r\nline two",  # line breaks are not rewritten
    "AT&T and R&D",
    "e\u0301",  # not composed: that is the nfc step's job
])
def test_correct_text_is_left_alone(text):
    arr = pa.array([text])
    assert fix_text(arr) is arr  # nothing changed: the very same array


def test_nulls_types_and_chunks_are_kept():
    arr = pa.chunked_array([pa.array(["cafÃ©", None], pa.large_string()), pa.array(["ok"], pa.large_string())])
    out = fix_text(arr)
    assert out.type == pa.large_string() and out.num_chunks == 2
    assert out.to_pylist() == ["café", None, "ok"]


def test_it_comes_before_the_other_steps():
    # The repaired text is then normalised and folded: fix_text first, whatever the order written.
    arr = pa.array(["  CAFÃ‰  "])
    assert normalize(arr, ["casefold", "strip", "fix_text"]).to_pylist() == ["café"]


def test_as_a_normalize_step_it_keeps_the_laws(monkeypatch):
    tbl = table(a=["cafÃ©", "plain", None, "a &amp; b"], b=["cafÃ©", "x", "y", "z"])
    out = assert_laws("normalize", tbl, {"columns": ["a"], "steps": ["fix_text"]}, monkeypatch)
    assert out.table.column("a").to_pylist() == ["café", "plain", None, "a & b"]
    assert out.table.column("b").to_pylist() == ["cafÃ©", "x", "y", "z"]  # not the rule's column


SCHEMA = "a: text"


def test_it_compiles_first_in_the_canonical_order():
    got = compiled(spec(SCHEMA, "normalize a: nfc, fix_text"))
    assert got.plan.steps[0].params == {"columns": ["a"], "steps": ["fix_text", "nfc"]}


def test_a_misspelt_step_is_a_check_error():
    [d] = compile_spec(spec(SCHEMA, "normalize a: fixtext")).diagnostics
    assert (d.code, d.span.line, d.hint) == ("DSC203", 11, "did you mean 'fix_text'?")
