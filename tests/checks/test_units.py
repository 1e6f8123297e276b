from dsc.locale.units import parse_unit, suggest_unit

SCHEMA = "schema {\n  w : quantity\n}\n"


def rule(target: str) -> str:
    return SCHEMA + f"clean {{\n  standardize w as quantity {target}\n}}\n"


def test_known_units_and_unit_expressions(codes):
    assert codes(rule("kg")) == []
    assert codes(rule('"km/h"')) == []
    assert codes(rule('"m/s^2"')) == []


def test_unknown_unit_with_suggestion(diags):
    (d,) = diags(rule("kgg"))
    assert (d.code, d.message, d.hint) == ("DSC206", "unknown unit 'kgg'", "did you mean 'kg'?")


def test_dimensionless_target(diags):
    (d,) = diags(rule("percent"))
    assert d.code == "DSC206" and "no dimension" in d.message
    assert [x.code for x in diags(rule('"1000"'))] == ["DSC206"]


def test_missing_target(codes):
    assert codes(SCHEMA + "clean {\n  standardize w as quantity\n}\n") == ["DSC212"]


def test_helpers_never_raise_on_junk():
    for junk in ["", " ", "((", "kg/", "**", "1/0", "__import__", "a" * 200]:
        parse_unit(junk)  # pint raises many kinds of errors on bad text; none may escape
        suggest_unit(junk)
