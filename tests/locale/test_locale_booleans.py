"""Booleans: the declared word table per language, never a guess."""
import pytest

from dsc.locale import parse_bool
from dsc.locale.booleans import WORDS

CASES = [
    ("yes", ["en_US"], True), ("No", ["en_GB"], False), ("ja", ["de_DE"], True), ("NEIN", ["de"], False),
    ("oui", ["fr_FR"], True), ("non", ["fr_CA"], False), ("sí", ["es_ES"], True), ("si", ["es_MX"], True),
    ("não", ["pt_BR"], False), ("nee", ["nl"], False), ("kyllä", ["fi"], True), ("да", ["ru"], True),
    ("いいえ", ["ja"], False), ("true", [], True), ("0", [], False), (" FALSE ", ["de"], False),
]


@pytest.mark.parametrize("text, locales, expected", CASES)
def test_words_of_the_declared_languages(text, locales, expected):
    result = parse_bool(text, locales)
    assert (result.status, result.value) == ("ok", expected), result.reason


def test_words_of_undeclared_languages_are_not_read():
    assert parse_bool("ja", ["en"]).reason == "not a yes/no word in en"
    assert parse_bool("oui").status == "rejected"
    assert parse_bool("maybe", ["en"]).status == "rejected"
    assert parse_bool("ja", ["sw"]).reason == "not a yes/no word in sw (no words are declared for sw)"


def test_the_table_has_no_word_that_means_yes_in_one_language_and_no_in_another():
    meaning = {}
    for lang, (yes, no) in WORDS.items():
        for word, value in [(w, True) for w in yes] + [(w, False) for w in no]:
            assert meaning.setdefault(word, value) == value, (word, lang)


def test_values_that_are_already_booleans():
    assert parse_bool(True).value is True and parse_bool(0).value is False
    assert parse_bool(2).reason == "the number 2 is not a yes/no value"
    assert parse_bool(None).value is None and parse_bool(None).ok
