"""The compiler and the fingerprint laws: layout and comments never change a plan; rules always do."""
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.api import compile_text
from dsc.plan import canonical_json
from dsc.syntax.source import SourceFile
from hypothesis_budget import examples

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.dspec")) + [ROOT / "tests" / "fixtures" / "full.dspec"]
TEXTS = {p.name: p.read_text(encoding="utf-8") for p in SPECS}


def plan(text: str):
    result = compile_text(SourceFile("t.dspec", text))
    return result.plan


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_examples_compile(name):
    assert plan(TEXTS[name]) is not None


def loosen(text: str, draws) -> str:
    """Add comments, blank lines and indentation at legal places, per `draws`."""
    out = []
    for i, line in enumerate(text.split("\n")):
        comment, blank, indent = draws[i % len(draws)]
        if blank:
            out.append("")
        if comment and line.strip() and not line.rstrip().endswith("\\"):
            out.append(" " * indent + "# " + comment)
            line = line + "   # " + comment
        out.append(" " * indent + line.strip() if line.strip() else line)
    return "\n".join(out)


draws = st.lists(st.tuples(st.text(alphabet="abc #{}\"é", max_size=8), st.booleans(), st.integers(0, 6)),
                 min_size=1, max_size=12)


@settings(max_examples=examples(2), deadline=None)
@given(name=st.sampled_from(sorted(TEXTS)), draws=draws)
def test_fingerprint_ignores_comments_and_layout(name, draws):
    original = plan(TEXTS[name])
    loosened = plan(loosen(TEXTS[name], draws))
    assert loosened is not None
    assert loosened.fingerprint == original.fingerprint
    assert canonical_json(loosened, lines=False) == canonical_json(original, lines=False)


def rule_lines(text: str) -> list[int]:
    """Lines inside clean / gate / split blocks that hold one rule each."""
    lines, inside = [], False
    for i, line in enumerate(text.split("\n")):
        code = line.split("#")[0].strip()
        if re.match(r"^(clean|gate|split\b.*)\s*\{$", code):
            inside = True
        elif code == "}":
            inside = False
        elif inside and code:
            lines.append(i)
    return lines


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_fingerprint_changes_when_any_rule_changes(name):
    text = TEXTS[name]
    base = plan(text).fingerprint
    changed = 0
    for i in rule_lines(text):
        lines = text.split("\n")
        # Deleting a rule, or nudging one of its numbers, must change the plan (when it still checks).
        variants = ["\n".join(lines[:i] + lines[i + 1:])]
        if re.search(r"\d", lines[i].split("#")[0]):
            code, hash_, comment = lines[i].partition("#")  # a number in a trailing comment is not the rule's
            nudged = re.sub(r"(\d+)(?!.*\d)", lambda m: str(int(m[1]) + 1), code) + hash_ + comment
            variants.append("\n".join(lines[:i] + [nudged] + lines[i + 1:]))
        for variant in variants:
            other = plan(variant)
            if other is not None:
                assert other.fingerprint != base, lines[i]
                changed += 1
    assert changed >= len(rule_lines(text)) // 2  # most variants still check (split sums may not)


def test_augment_guard_bounds_compile_to_fractions_and_only_those_set():
    from decimal import Decimal

    text = ("schema {\n  id : string\n  q : text\n}\nsplit by id {\n  train 1\n}\naugment train {\n"
            '  paraphrase q ratio 0.5 using "m" max_similarity 90% min_length_ratio 0.50\n'
            '  backtranslate q via de ratio 0.5 endpoint "http://x/v1" model "m" min_similarity 0.3 max_length_ratio 2\n'
            '  paraphrase q ratio 0.5 using "m"\n}\n')
    from dsc.compiler import compile_spec
    from dsc.syntax.load import parse

    spec, diags = parse(SourceFile("t.dspec", text))
    assert not diags
    rules = compile_spec(spec).augment
    assert [r.bounds for r in rules] == [
        {"max_similarity": Decimal("0.9"), "min_length_ratio": Decimal("0.5")},
        {"min_similarity": Decimal("0.3"), "max_length_ratio": Decimal("2")},
        None,
    ]
    assert [str(rules[0].bound(k)) for k in ("min_similarity", "max_similarity")] == ["1/10", "9/10"]


def test_a_century_window_compiles_into_the_plan_only_when_set():
    text = ('dataset t version 1 {\n  seed 1\n}\nsource s {\n  files "d.jsonl"\n}\nschema {\n  d : date\n}\n'
            "clean {\n  standardize d as date locale de_DE%s\n}\n")
    without, windowed = plan(text % ""), plan(text % " years 1950..2049")
    assert "years" not in without.steps[0].params and '"years"' not in canonical_json(without)
    assert windowed.steps[0].params["years"] == (1950, 2049)
    assert '"years":[1950,2049]' in canonical_json(windowed)
    assert windowed.fingerprint != without.fingerprint
    assert plan(text % " years 1900..1999").fingerprint != windowed.fingerprint
