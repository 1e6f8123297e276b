"""`redact KINDS in COLS [with …]`: what each kind matches (valid and invalid cards, IBANs, phones,
addresses), the replacements, the flags and stats it leaves, the laws, and its check errors."""
import json

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.engines.local import run_plan
from dsc.kernels.pii import KINDS, _candidates, find, has_any, iban_ok, luhn_ok, redact
from hypothesis_budget import examples
from laws import apply, assert_laws, compile_spec, compiled, spec, table

SCHEMA = "a: text, b: text, n: int"


ALL = list(KINDS)


def kinds_in(text: str, region: str | None = "US") -> list[tuple[str, str]]:
    return [(kind, text[start:end]) for start, end, kind in find(text, ALL, region)]


# --------------------------------------------------------------------------- definitions


@pytest.mark.parametrize("number, valid", [
    ("4111 1111 1111 1111", True),  # Visa test number
    ("5555-5555-5555-4444", True),  # Mastercard
    ("378282246310005", True),  # Amex, 15 digits
    ("6011111111111117", True),  # Discover
    ("4111 1111 1111 1112", False),  # Luhn fails
    ("0000 0000 0000 0000", False),  # all one digit passes Luhn but is no card
    ("4111-1111 1111-1111", False),  # a mix of grouping characters
    ("411111111111", False),  # 12 digits: too short
    ("3782 822463 10005", True),  # Amex grouping 4-6-5
    ("4 8 12 16 20 24 28 32", False),  # a times table: digits, not groups of a card
])
def test_card_numbers_need_13_to_19_digits_and_the_luhn_check(number, valid):
    cards = [t for k, t in kinds_in(f"pay with {number} today") if k == "credit_card"]
    assert cards == ([number] if valid else [])


def test_the_luhn_and_mod97_checksums_themselves():
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and iban_ok("NO9386011117947")
    assert not iban_ok("GB82 WEST 1234 5698 7654 33")  # check digits wrong
    assert not iban_ok("GB82 WEST 1234 5698 7654 3")  # one character short for GB
    assert not iban_ok("ZZ82 WEST 1234 5698 7654 32")  # no such IBAN country


@pytest.mark.parametrize("text, found", [
    ("IBAN DE89 3704 0044 0532 0130 00.", [("iban", "DE89 3704 0044 0532 0130 00")]),
    ("IBAN DE89370400440532013000", [("iban", "DE89370400440532013000")]),
    ("IBAN FR14 2004 1010 0505 0001 3M02 606 please", [("iban", "FR14 2004 1010 0505 0001 3M02 606")]),
    ("IBAN DE89 3704 0044 0532 0130 01", []),  # mod 97 fails
    ("ref DE89 3704 0044 0532 0130", []),  # too short for DE
])
def test_ibans_need_their_countrys_length_and_mod97(text, found):
    assert [k for k in kinds_in(text) if k[0] == "iban"] == found


@pytest.mark.parametrize("text, found", [
    ("from 192.168.0.1, then 10.0.0.255.", ["192.168.0.1", "10.0.0.255"]),
    ("not 999.1.1.1 nor 01.2.3.4 nor 1.2.3", []),  # out of range; leading zero; three parts
    ("v6 2001:db8::8a2e:370:7334 and fe80:0:0:0:200:f8ff:fe21:67cf", ["2001:db8::8a2e:370:7334",
                                                                    "fe80:0:0:0:200:f8ff:fe21:67cf"]),
    ("code x[1::2] and std::map at 12:30:45", []),  # slices, scopes and times are not addresses
    ("version 1.2.3.4.5", []),  # a dotted run longer than an address
])
def test_ip_addresses_are_validated_by_ipaddress(text, found):
    assert [t for k, t in kinds_in(text) if k == "ip"] == found


@pytest.mark.parametrize("text, found", [
    ("mail Bob.Smith+tag@mail.example.co.uk now", ["Bob.Smith+tag@mail.example.co.uk"]),
    ("a@b.c is too short a tld; me@localhost has none", []),
    ("<alice@example.org>", ["alice@example.org"]),
])
def test_email_addresses(text, found):
    assert [t for k, t in kinds_in(text) if k == "email"] == found


def test_phones_are_read_in_the_region_of_the_locale():
    text = "call 030 1234567 or (650) 253-0000 or +44 20 7946 0958"
    assert [t for k, t in kinds_in(text, "DE") if k == "phone"] == ["030 1234567", "+44 20 7946 0958"]
    assert [t for k, t in kinds_in(text, "US") if k == "phone"] == ["(650) 253-0000", "+44 20 7946 0958"]
    assert [t for k, t in kinds_in(text, None) if k == "phone"] == ["+44 20 7946 0958"]  # no region: international only
    assert kinds_in("the answer is 12345 and 3.14159", "US") == []  # not valid numbers


def test_an_overlap_goes_to_the_earlier_kind():
    # A Luhn-valid 16-digit number is a card even where a phone matcher might read digits in it.
    assert kinds_in("4111111111111111") == [("credit_card", "4111111111111111")]


def test_redact_replaces_and_counts_and_keeps_nulls_and_type():
    arr = pa.array(["a@b.org and c@d.org", None, "nothing", "+1 650-253-0000"], pa.large_string())
    out, counts = redact(arr, ["email", "phone"], "US", {"email": "[mail]"})
    assert out.type == pa.large_string()
    assert out.to_pylist() == ["[mail] and [mail]", None, "nothing", "<PHONE>"]
    assert counts == [{"email": 2}, {}, {}, {"phone": 1}]


def test_has_any_is_a_row_mask():
    mask = has_any(pa.chunked_array([["x 10.1.2.3", None], ["clean", "4111 1111 1111 1111"]]), ["ip", "credit_card"],
                   None)
    assert mask.tolist() == [True, False, False, True]
    assert has_any(pa.array(["10.1.2.3"]), ["email"], None).tolist() == [False]


def test_an_unknown_kind_is_refused_by_the_kernel():
    with pytest.raises(ValueError, match="unknown kinds"):
        has_any(pa.array(["x"]), ["ssn"], None)


# --------------------------------------------------------------------------- the operator


PARAMS = {"columns": ["a", "b"], "kinds": ["email", "ip"], "replacements": {}, "region": "US"}


def test_the_operator_keeps_the_laws_and_flags_each_changed_row(monkeypatch):
    tbl = table(a=["write to x@y.com", "none here", None, "x@y.com from 1.2.3.4"],
                b=["host 8.8.8.8", "", "z@q.io", "ok"], n=[1, 2, 3, 4])
    out = assert_laws("redact", tbl, PARAMS, monkeypatch)
    assert out.table.column("a").to_pylist() == ["write to <EMAIL>", "none here", None, "<EMAIL> from <IP>"]
    assert out.table.column("b").to_pylist() == ["host <IP>", "", "<EMAIL>", "ok"]
    assert out.removed.num_rows == 0
    assert out.flags == [
        {"row_id": "r0", "reason": "redacted 1 email in a, 1 ip in b", "redactions": {"a": {"email": 1}, "b": {"ip": 1}}},
        {"row_id": "r2", "reason": "redacted 1 email in b", "redactions": {"b": {"email": 1}}},
        {"row_id": "r3", "reason": "redacted 1 email in a, 1 ip in a", "redactions": {"a": {"email": 1, "ip": 1}}},
    ]


def test_the_flags_are_the_same_with_two_workers(monkeypatch):
    from dsc.ops import runtime

    tbl = table(a=[f"user{i}@example.com" if i % 3 == 0 else "plain" for i in range(10)],
                b=["x"] * 10, n=list(range(10)))
    one = apply("redact", tbl, PARAMS)
    monkeypatch.setattr(runtime, "PARALLEL_MIN_ROWS", 2)
    two = apply("redact", tbl, PARAMS, workers=2)
    assert one.flags == two.flags and len(one.flags) == 4


def test_it_compiles_with_the_locales_region_and_replacements_by_kind():
    got = compiled(spec(SCHEMA, 'redact phone, email in a, b with "<tel>", "<mail>"', locale="en_GB"))
    step = got.plan.steps[0]
    assert step.id == "redact[a,b]"
    assert step.params == {"columns": ["a", "b"], "kinds": ["email", "phone"],
                           "replacements": {"phone": "<tel>", "email": "<mail>"}, "region": "GB"}
    one = compiled(spec(SCHEMA, 'redact iban, ip in a with "X"')).plan.steps[0]
    assert one.params["replacements"] == {"iban": "X", "ip": "X"} and one.params["region"] is None


@pytest.mark.parametrize("rule, code, words", [
    ("redact email, ssn in a", "DSC203", "unknown kind of personal data 'ssn'"),
    ('redact email, phone, ip in a with "x", "y"', "DSC214", "2 replacements for 3 kinds"),
    ("redact email in n", "DSC207", "redact needs a text column"),
    ("redact email in c", "DSC201", "unknown column 'c'"),
    ("redact email, email in a", "DSC202", "email"),
    ("redact email in a, a", "DSC202", "a"),
])
def test_bad_rules_are_check_errors(rule, code, words):
    got = compile_spec(spec(SCHEMA, rule, locale="en_US"))
    errors = [d for d in got.diagnostics if d.is_error]
    assert [(d.code, words in d.message) for d in errors] == [(code, True)], errors
    assert errors[0].span.line == 14 and errors[0].hint


def test_an_unknown_kind_hint_lists_the_kinds():
    [d] = compile_spec(spec(SCHEMA, "redact mail in a", locale="en_US")).diagnostics
    assert d.hint == "the kinds are email, iban, credit_card, ip, phone"


def test_a_run_counts_redactions_per_column_and_kind_in_stats(tmp_path):
    rows = [{"a": "mail me: ann@example.com", "b": "card 4111 1111 1111 1111", "n": 1},
            {"a": "two: x@y.org, z@y.org", "b": "nothing", "n": 2},
            {"a": "clean", "b": "clean", "n": 3}]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    got = compiled(spec(SCHEMA, "redact email, credit_card in a, b", locale="en_US"))
    result = run_plan(got.plan, tmp_path, tmp_path / "out")
    assert result.kept.num_rows == 3 and result.rejects.num_rows == 0
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["redactions"] == [
        {"rule": "redact[a,b]", "line": 14, "column": "a", "kind": "email", "matches": 3, "rows": 2},
        {"rule": "redact[a,b]", "line": 14, "column": "b", "kind": "credit_card", "matches": 1, "rows": 1},
    ]
    [rule] = [r for r in stats["rules"] if r["id"] == "redact[a,b]"]
    assert (rule["removed"], rule["flagged"]) == (0, 2)
    flags = [json.loads(line) for line in (tmp_path / "out" / "flags.jsonl").read_text().splitlines()]
    assert "ann@example.com" not in json.dumps(flags)  # the flags count, they never copy the data
    assert [f["row_id"] for f in flags] == result.kept.column("_dsc_id").to_pylist()[:2]


@settings(max_examples=examples(1), deadline=None)
@given(text=st.one_of(
    st.text(alphabet="0123456789０١ +＋()-./x", max_size=24),
    st.builds(lambda lead, digits, seps: lead + "".join(d + s for d, s in zip(digits, seps + [""] * len(digits))),
              st.sampled_from(["", "+", "+1 ", "+44 ", "＋49", "00", "011 ", "(", "tel "]),
              st.text(alphabet="0123456789", min_size=3, max_size=14),
              st.lists(st.sampled_from(["", "", "", " ", "-", ".", ") ", "/"]), max_size=14))),
    region=st.sampled_from([None, "US", "DE", "GB", "JP"]))
def test_the_phone_screen_never_hides_a_number_libphonenumber_finds(text, region):
    import phonenumbers

    found = any(True for _ in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID))
    screened = _candidates(pa.array([text]), ["phone"], region)[0]
    assert screened or not found, (text, region)


def test_full_width_plus_and_other_digits_are_phone_numbers_too():
    assert [k for k, _ in kinds_in("call ＋44 20 7946 0958", None)] == ["phone"]
