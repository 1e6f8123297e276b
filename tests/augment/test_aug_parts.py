"""The small parts: cache keys and files, the guard's bounds, prompt templates."""
from __future__ import annotations

import pytest

from dsc.augment.cache import CACHE_FILE, GenerationCache, cache_key
from dsc.augment.guard import Bounds, judge, similarity
from dsc.augment.prompts import DEFAULT_TEMPLATE, PromptTemplate, TemplateProblem

BASE = {"task": "paraphrase", "model": "sha256:aa", "settings": {"num_beams": 1}, "template": None, "input": "x"}


@pytest.mark.parametrize("change", [{"task": "translate"}, {"model": "sha256:ab"}, {"settings": {"num_beams": 2}},
                                    {"template": "sha256:01"}, {"input": "y"}, {"pair": ["en", "de"]}])
def test_every_part_of_a_generation_changes_its_key(change):
    assert cache_key(dict(BASE, **change)) != cache_key(BASE)


def test_damaged_lines_are_skipped_and_the_next_entry_starts_on_a_new_line(tmp_path):
    good = '{"k": "%s", "t": "kept"}\n' % ("a" * 64)
    (tmp_path / CACHE_FILE).write_text(good + "not json\n" + '{"k": "short", "t": "x"}\n' + '[1, 2]\n'
                                       + '{"k": "' + "b" * 64 + '", "t": "cut sho', encoding="utf-8")
    cache = GenerationCache(tmp_path)
    assert len(cache) == 1 and cache.get("a" * 64) == "kept"
    cache.put("c" * 64, "new")
    cache.close()
    lines = (tmp_path / CACHE_FILE).read_text(encoding="utf-8").splitlines()
    assert lines[-1] == '{"k":"' + "c" * 64 + '","t":"new"}'
    assert GenerationCache(tmp_path).get("c" * 64) == "new"


def test_texts_round_trip_exactly(tmp_path):
    text = 'line one\nline "two"\t\\ — ünïcode 🙂 \u2028'
    cache = GenerationCache(tmp_path)
    cache.put("d" * 64, text)
    cache.close()
    assert GenerationCache(tmp_path).get("d" * 64) == text


def test_a_missing_cache_is_empty_and_created_on_first_store(tmp_path):
    cache = GenerationCache(tmp_path / "deep" / "folder")
    assert len(cache) == 0 and not (tmp_path / "deep").exists()
    cache.put("e" * 64, "x")
    cache.close()
    assert (tmp_path / "deep" / "folder" / CACHE_FILE).exists()


SOURCE = "Write a function that returns the sum of two numbers."
LONG = "Write a Python function that returns the sum of two numbers, then explain each step of it in plain words."


@pytest.mark.parametrize("source, generated, reason", [
    (SOURCE, None, "empty generation"),
    (SOURCE, "Write a function.", "too short: 0.32 of the source's length, below min_length_ratio 0.33"),
    (SOURCE, SOURCE * 4, "too long: 4.00 times the source's length, above max_length_ratio 3"),
    (LONG, LONG.replace("numbers,", "numbers"), "too similar to the source: similarity 0.96, above max_similarity 0.95"),
    (SOURCE, "The weather is nice today, so we went to the park too.",
     "too dissimilar to the source: similarity 0.03, below min_similarity 0.1"),
    (SOURCE, "Create a function which gives back the total of two numbers.", None),
    (LONG, LONG.replace("plain words", "simple terms"), None),
])
def test_the_guard(source, generated, reason):
    assert judge(source, generated) == reason


def test_bounds_can_be_loosened():
    assert judge("a b c", "x y z", Bounds(min_similarity=0.0)) is None
    assert similarity("", "") == 1.0


def test_the_default_template_reads_well():
    t = PromptTemplate(DEFAULT_TEMPLATE, "default")
    assert t.render({"task": "translate", "source_name": "English", "target_name": "German", "text": "Hi."}) == (
        "Translate the text below from English to German. Keep names, numbers and code exactly as they are. "
        "Reply with the translation only.\n\nHi.")
    assert t.render({"task": "paraphrase", "text": "Hi."}).endswith("Reply with the paraphrase only.\n\nHi.")


@pytest.mark.parametrize("source, message", [
    ("{% for %}", "t.j2:1:"),
    ("{{ os.environ }}", "t.j2 uses os, which a prompt template is not given"),
    ("{{ row.__class__.__subclasses__() }}", "the sandbox refused an operation"),
    ("{{ row.update({'a': 1}) }}", "the sandbox refused an operation"),
])
def test_templates_are_sandboxed(source, message):
    with pytest.raises(TemplateProblem, match=message.replace("(", r"\(")):
        PromptTemplate(source, "t.j2").render({"row": {"a": 0}, "text": "x"})
