"""`drop where has_pii(COL)`: a row holding any kind of personal data `redact` finds is dropped,
found exactly as `redact` finds it (dsc.kernels.pii), national phone numbers read in the region of
the dataset's locale."""
import pytest

from laws import apply, assert_laws, compiled, spec, table

ROWS = ["mail me at ada@example.org", "no personal data here", None, "call +44 20 7946 0958 today",
        "call 030 901820 tomorrow", "card 4111 1111 1111 1111", "IBAN GB82 WEST 1234 5698 7654 32"]


def _params(pred="has_pii(text)", locale="de_DE"):
    return compiled(spec("text: text", f"drop where {pred}", locale=locale)).plan.steps[0].params


def test_the_region_comes_from_the_locale():
    assert _params()["region"] == "DE"
    assert _params(locale=None)["region"] is None


@pytest.mark.parametrize("locale, dropped", [
    ("de_DE", [True, False, False, True, True, True, True]),
    (None, [True, False, False, True, False, True, True]),  # 030 … is a national number: no region, no match
])
def test_rows_with_personal_data_are_dropped(locale, dropped):
    out = apply("drop", table(text=ROWS), _params(locale=locale))
    assert sorted(out.removed.column("_dsc_id").to_pylist()) == [f"r{i}" for i, d in enumerate(dropped) if d]
    assert set(out.removed.column("_dsc_reason").to_pylist()) <= {"drop where has_pii(text)"}


def test_not_has_pii_keeps_only_those_rows():
    out = apply("drop", table(text=ROWS), _params("not has_pii(text)"))
    assert out.table.column("_dsc_id").to_pylist() == ["r0", "r3", "r4", "r5", "r6"]


def test_laws(monkeypatch):
    assert_laws("drop", table(text=ROWS * 3), _params(), monkeypatch)
