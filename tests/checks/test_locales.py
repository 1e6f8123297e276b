from dsc.locale.locales import parse_locale, suggest_locale

SCHEMA = "schema {\n  prompt : text\n  day : date\n  price : money\n}\n"


def test_locales_babel_knows_pass(codes):
    text = SCHEMA + "clean {\n  standardize day as date from [de_DE, en_us, zh_Hant_TW]\n}\n"
    assert codes(text) == []


def test_unknown_locales_everywhere(diags):
    text = ("dataset d version 1 {\n  locale en_UX\n}\n" + 'source s {\n  files "a"\n}\n' + SCHEMA
            + "clean {\n  standardize day as date from [de_DEE]\n  standardize price as money EUR locale german\n}\n")
    found = diags(text, frame=False)
    assert [(d.code, d.message, d.hint) for d in found] == [
        ("DSC204", "unknown locale 'en_UX'", "did you mean 'en_US'?"),
        ("DSC204", "unknown locale 'de_DEE'", "did you mean 'de_DE'?"),
        ("DSC204", "unknown locale 'german'", "did you mean 'de' (German)?"),
    ]


def test_pivot_languages(diags):
    text = SCHEMA + 'split by prompt {\n  train 1\n}\naugment train {\n'
    text += '  backtranslate prompt via de, fr, pt_BR, xx ratio 0.1 using "m"\n}\n'
    assert [d.message for d in diags(text)] == ["unknown pivot language 'xx'"]


def test_locale_helpers():
    assert parse_locale("en-US") is None
    assert suggest_locale("en-US") == "did you mean 'en_US'? (locales are written with '_')"
    assert suggest_locale("qqqqqqq") is None


def test_currencies(diags):
    text = SCHEMA + "clean {\n  standardize price as money EUX\n}\n"
    assert [(d.code, d.hint) for d in diags(text)] == [("DSC205", "did you mean 'EUR'?")]


def test_rate_tables(diags):
    text = SCHEMA + "clean {\n  standardize price as money EUR rates {USD 0.9, EUR 1, USD 0.8, GBP 0, QQQ 1}\n}\n"
    assert [(d.code, d.message) for d in diags(text)] == [
        ("DSC214", "a rate for EUR, the target currency itself"),
        ("DSC214", "two rates for USD"),
        ("DSC209", "the rate for GBP must be in (0, 1000000000], not 0"),
        ("DSC205", "unknown currency code 'QQQ'"),
    ]


def test_rates_need_a_target(diags):
    (d,) = diags(SCHEMA + "clean {\n  standardize price as money rates {USD 0.9}\n}\n")
    assert (d.code, d.message) == ("DSC212", "a rate table needs a target currency to convert to")


def test_money_without_target_or_rates_keeps_its_currency(codes):
    assert codes(SCHEMA + "clean {\n  standardize price as money locale de_DE\n}\n") == []
