"""`drop where lang(COL) [not] in {…} [confidence >= P]`: the detected language of hand-made texts,
`und` for texts too short to judge or judged below the confidence, the reasons, the laws, the
plan's one spelling, the checks and printing the rule back."""
from decimal import Decimal

import pyarrow as pa
import pytest

from dsc.fmt import format_spec
from dsc.kernels import lang
from dsc.ops import OPERATORS
from laws import apply, assert_laws, compile_spec, compiled, spec, table

SCHEMA = "a: text, n: int"

TEXTS = [
    "The committee will publish its annual report on the state of the economy next week.",   # r0 en
    "Der Ausschuss wird seinen Jahresbericht über die Lage der Wirtschaft nächste Woche veröffentlichen.",  # r1 de
    "Le comité publiera la semaine prochaine son rapport annuel sur l'état de l'économie.",  # r2 fr
    "ok thanks",                                                                              # r3: 8 letters
    None,                                                                                     # r4
    "1234 5678 90 -- !!",                                                                     # r5: no letters
    "El comité publicará la próxima semana su informe anual sobre el estado de la economía.",  # r6 es
]


def rule(values, negate=False, confidence=Decimal(0)):
    return {"kind": "lang", "column": "a", "values": values, "negate": negate, "confidence": confidence}


def test_the_code_list_is_the_models():
    assert tuple(lang.identifier().labels) == lang.LANGUAGES
    assert lang.UNDETERMINED not in lang.LANGUAGES


def test_languages_of_hand_made_texts():
    langs, confs = lang.detect(pa.array(TEXTS))
    assert langs == ["en", "de", "fr", "und", "und", "und", "es"]
    assert all(c > 0.9 for c in confs[:3]) and confs[3:6] == [0.0, 0.0, 0.0]


def test_the_confidence_is_py3langids_normalised_probability():
    identifier = lang.identifier()
    for text in TEXTS[:3] + TEXTS[6:]:
        (got,), (conf,) = lang.detect([text])
        want, want_conf = identifier.classify(text)
        assert got == want and conf == pytest.approx(want_conf, rel=1e-6)


def test_below_the_confidence_is_und():
    text = "Bonjour mon ami, merci"  # 18 letters, but a weak guess
    (guess,), (conf,) = lang.detect([text])
    assert lang.MIN_LETTERS <= 18 and 0 < conf < 1
    assert lang.detect([text], confidence=conf)[0] == [guess]
    assert lang.detect([text], confidence=min(1.0, conf + 1e-6))[0] == ["und"]


@pytest.mark.parametrize("params, removed", [
    (rule(["en", "und"], negate=True), ["r1", "r2", "r6"]),     # not in {en, und}: keeps the short ones
    (rule(["en"], negate=True), ["r1", "r2", "r3", "r4", "r5", "r6"]),
    (rule(["fr"]), ["r2"]),
    (rule(["und"]), ["r3", "r4", "r5"]),
    (rule(["de", "en"], confidence=Decimal("0.999")), ["r1"]),   # de is judged 0.99994, en only 0.998
    (rule(["es"], confidence=Decimal("0.95")), []),              # es is judged 0.91: und
])
def test_rows_are_removed_by_language_with_the_laws(monkeypatch, params, removed):
    out = assert_laws("drop", table(a=TEXTS), params, monkeypatch)
    assert out.removed.column("_dsc_id").to_pylist() == removed


def test_the_reason_names_the_rule_the_language_and_the_confidence():
    out = apply("drop", table(a=TEXTS), rule(["en", "und"], negate=True, confidence=Decimal("0.5")))
    reasons = out.removed.column("_dsc_reason").to_pylist()
    assert [r.split(" (")[0] for r in reasons] == ["drop where not lang(a) in {en, und} confidence >= 0.5"] * 3
    assert [r.split("(detected ")[1].split(",")[0] for r in reasons] == ["de", "fr", "es"]
    short = apply("drop", table(a=TEXTS), rule(["und"])).removed.column("_dsc_reason").to_pylist()
    assert short[0] == "drop where lang(a) in {und} (detected und, too short to judge)"


def test_repeated_texts_and_more_workers_give_the_same_bytes(monkeypatch):
    texts = (TEXTS + ["Ein kurzer deutscher Satz über das Wetter.", "A short English sentence about the weather."]) * 5
    out = assert_laws("drop", table(a=texts), rule(["en"], negate=True, confidence=Decimal("0.6")), monkeypatch)
    assert out.table.num_rows == 10


# --------------------------------------------------------------------------- compile, check, print
@pytest.mark.parametrize("written, values, negate, confidence", [
    ("lang(a) not in {en, de}", ["de", "en"], True, "0"),
    ("lang(a) not in {de, en, de} confidence >= 0", ["de", "en"], True, "0"),
    ("lang(a) in {fr} confidence >= 80%", ["fr"], False, "0.8"),
    ("not lang(a) in {\"fr\"} confidence >= 0.80", ["fr"], True, "0.8"),
])
def test_one_plan_per_meaning(written, values, negate, confidence):
    got = compiled(spec(SCHEMA, f"drop where {written}"))
    params = got.plan.steps[0].params
    assert (params["kind"], params["values"], params["negate"], params["confidence"]) == \
        ("lang", values, negate, Decimal(confidence))
    assert "tokenizer" not in params
    assert OPERATORS["drop"].describe(params).startswith("drop rows where ")


@pytest.mark.parametrize("rule_text, message, hint", [
    ("drop where lang(a) in {eng}", "unknown language code 'eng'", "did you mean 'en'?"),
    ("drop where lang(a) in {fr, 2}", "'2' is not a language code",
     "write ISO 639 codes such as en, de, zh, or und for undetermined"),
    ("drop where lang(a) in {fr} confidance >= 0.5", "unknown lang() option 'confidance'", "did you mean 'confidence'?"),
    ("drop where lang(a) in {fr} confidence > 0.5",
     "a lang() confidence is a minimum and is written with '>=', not '>'", "use >="),
    ("drop where lang(a) in {fr} confidence >= 1.5", "a lang() confidence must be in [0, 1], not 1.5",
     "write a fraction like 0.25, or a percentage like 25%"),
    ("drop where lang(n) in {fr}", "lang() needs a text column, but 'n' is int",
     "declare 'n' as text or string, or use another column"),
    ("drop where lnag(a) in {fr}", "unknown function 'lnag'", "did you mean 'lang'?"),
    ("drop where words(a) in {fr}", "words() takes no set of values",
     "only lang() is compared with a set, e.g. drop where lang(text) not in {en, und}"),
])
def test_check_errors_point_at_the_word(rule_text, message, hint):
    got = compile_spec(spec(SCHEMA, rule_text))
    assert [(d.message, d.hint) for d in got.diagnostics] == [(message, hint)]
    assert got.diagnostics[0].span.line == 12 and got.diagnostics[0].span.column > 12


@pytest.mark.parametrize("written", [
    "drop where lang(a) not in {en, und} confidence >= 0.8",
    "drop where not lang(a) in {\"fr\", de}",
    "drop where lang(a) in {zh} confidence >= 75%",
])
def test_a_rule_prints_back_as_written(written):
    got = compiled(spec(SCHEMA, written))
    assert f"  {written}\n" in format_spec(got.spec)


def test_more_languages_drop_more_rows():
    drop = OPERATORS["drop"]
    old = {"kind": "lang", "column": "a", "values": ["fr"], "negate": False, "confidence": "0"}
    assert drop.strictness(old, {**old, "values": ["de", "fr"]}) == 1
    assert drop.strictness(old, {**old, "confidence": "0.5"}) is None
