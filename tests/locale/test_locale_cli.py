"""`dsc standardize KIND VALUE …`: a spec author tries one value; JSON for scripts."""
import json

from typer.testing import CliRunner

from dsc.commands import app
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR

runner = CliRunner()


def dsc(*args):
    result = runner.invoke(app, ["standardize", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_a_value_that_reads_prints_its_canonical_form():
    assert dsc("date", "10.1.2019", "--locale", "de", "--order", "DMY").stdout == "2019-01-10\n"
    assert dsc("money", "1.099,98 €", "-l", "de_DE").stdout == "1099.98 EUR\n"
    assert dsc("money", "$10", "-l", "en_US", "--currency", "EUR").exit_code == EXIT_INPUT_ERROR  # no rate
    assert dsc("quantity", "2 1/2 in", "--unit", "cm").stdout == "6.35 cm\n"
    assert dsc("date", "yesterday", "-l", "en", "--base", "2024-03-01").stdout == "2024-02-29\n"


def test_json_has_input_value_status_and_reason():
    result = dsc("date", "03/04/2019", "--json")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert json.loads(result.stdout) == {
        "input": "03/04/2019", "value": None, "status": "ambiguous",
        "reason": "ambiguous: 2019-03-04 (MDY) or 2019-04-03 (DMY); declare the order"}
    ok = json.loads(dsc("bool", "ja", "-l", "de", "--json").stdout)
    assert ok == {"input": "ja", "value": True, "status": "ok", "reason": None}


def test_rejected_and_ambiguous_values_say_why():
    result = dsc("money", "kr 20")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert result.stdout == "ambiguous: the symbol kr is used for DKK, EEK, NOK, SEK; declare a locale\n"
    assert dsc("number", "2,109,998", "-l", "de").stdout == "rejected: not a number in de\n"


def test_bad_options_are_the_callers_error():
    for args in (["date", "x", "--order", "DYM"], ["date", "x", "-l", "en_UX"], ["quantity", "5 kg"],
                 ["quantity", "5 kg", "--unit", "kgg"], ["colour", "red"], ["money", "5", "--currency", "EURO"]):
        result = dsc(*args)
        assert result.exit_code == EXIT_SPEC_ERROR, args
        assert result.stdout == "", args


def test_a_value_may_start_with_a_minus():
    # defect 9: `-42,8°C` was taken for the options -4, -2, …; `-1 lb` for `-l` with the value `b`
    assert dsc("quantity", "-42,8°C", "--unit", "K", "--locale", "de").stdout == "230.35 K\n"
    assert dsc("quantity", "-1 lb", "--unit", "kg").stdout == "-0.45359237 kg\n"
    assert dsc("number", "-1.5", "--json").stdout.startswith('{"input": "-1.5", "value": "-1.5"')
    assert dsc("number", "--locale", "de", "-1,5").stdout == "-1.5\n"
    assert dsc("number", "-Infinity", "-l", "en").stdout == "rejected: not a number in en\n"
    result = dsc("date", "-1")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert result.stdout == "rejected: not a date (no day, month and year found)\n"
    assert dsc("number", "-lde", "-1,5").stdout == "-1.5\n"   # a short option with its value glued on
    assert dsc("number", "--", "-3").stdout == "-3\n"         # `--` still works


def test_years_sets_the_century_window():
    assert dsc("date", "18.10.14", "-l", "de_DE").stdout.endswith("declare the century window, e.g. years 1950..2049\n")
    assert dsc("date", "18.10.14", "--order", "DMY", "--years", "1950..2049").stdout == "2014-10-18\n"
    for window in ("2049..1950", "1950..2000", "1950-2049"):
        result = dsc("date", "18.10.14", "--order", "DMY", "--years", window)
        assert (result.exit_code, result.stdout) == (EXIT_SPEC_ERROR, ""), window
