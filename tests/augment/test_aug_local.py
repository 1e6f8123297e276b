"""Local models through the real code path: tiny random T5 and MarianMT folders built in the test."""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from aug_support import LENIENT, build_marian, build_t5

from dsc.augment import AugmentContext, augment
from dsc.augment.cache import CACHE_FILE
from dsc.ops.runtime import RunError
from dsc.plan import AugmentRule
from dsc.reserved import AUG_PROVENANCE

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["the cat sat on the mat", "what is red", "how do i make bread", "the quick brown fox jumps over the lazy dog",
         "we make water blue", "a dog on the road"]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    build_t5(root / "t5")
    for src, tgt in (("en", "de"), ("de", "en"), ("en", "fr"), ("fr", "en")):
        build_marian(root / f"opus-{src}-{tgt}", seed=len(src + tgt) + ord(tgt[0]), languages=())
    build_marian(root / "multi", seed=3)  # >>en<< >>de<< >>fr<<
    return root


def table(n: int = 24) -> pa.Table:
    return pa.table({"q": [TEXTS[i % len(TEXTS)] for i in range(n)], "n": list(range(n)),
                     "_dsc_id": [f"row{i}" for i in range(n)],
                     "_dsc_split": ["train" if i % 3 else "validation" for i in range(n)]})


def rule(method="paraphrase", model="t5", pivots=(), ratio="0.5", splits=("train",), column="q") -> AugmentRule:
    return AugmentRule(id=f"{method}[{column}]", line=7, splits=list(splits), method=method, column=column,
                       pivots=list(pivots), ratio=Decimal(ratio), backend="local", model=model)


def run(models: Path, out: Path, *rules: AugmentRule, bounds=LENIENT, data: pa.Table | None = None):
    return augment(data if data is not None else table(), list(rules), AugmentContext(models, seed=5, bounds=bounds),
                   out)


def test_paraphrases_copy_their_source_row_and_say_where_they_came_from(models, tmp_path):
    outcome = run(models, tmp_path, rule())
    (stats,) = outcome.stats
    rows = outcome.generated.to_pylist()
    assert stats.selected == len(rows) + stats.rejected > 0
    source = {r["_dsc_id"]: r for r in table().to_pylist()}
    for row in rows:
        src = source[row["_dsc_aug_source"]]
        assert row["_dsc_id"] == f"{src['_dsc_id']}+paraphrase[q]"
        assert row["_dsc_split"] == src["_dsc_split"] == "train"
        assert row["n"] == src["n"]
        assert (row["_dsc_aug_method"], row["_dsc_aug_model"], row["_dsc_aug_pivot"], row["_dsc_aug_template"]) == \
            ("paraphrase", "t5", None, None)
    assert outcome.generated.column_names == table().column_names + list(AUG_PROVENANCE)


def test_the_same_input_gives_the_same_generations_and_a_rerun_makes_no_call(models, tmp_path):
    first = run(models, tmp_path / "a", rule())
    other = run(models, tmp_path / "b", rule())
    assert first.generated.equals(other.generated) and first.rejected.equals(other.rejected)
    again = run(models, tmp_path / "a", rule())
    (s,) = again.stats
    assert (s.calls, s.cache_hits) == (0, s.requests) and s.requests > 0
    assert again.generated.equals(first.generated)


def test_identical_texts_cost_one_call(models, tmp_path):
    (s,) = run(models, tmp_path, rule(ratio="1")).stats
    distinct_train_texts = len({r["q"] for r in table().to_pylist() if r["_dsc_split"] == "train"})
    assert s.requests == 16 and s.calls == distinct_train_texts


def test_back_translation_with_one_model_per_language_pair(models, tmp_path):
    outcome = run(models, tmp_path, rule("backtranslate", "opus-{src}-{tgt}", ("de", "fr")))
    (s,) = outcome.stats
    picked = s.selected
    assert s.requests == 2 * 2 * picked  # there and back, per pivot
    pivots = [r["_dsc_aug_pivot"] for r in outcome.generated.to_pylist()]
    assert pivots == ["de", "fr"] * picked
    assert outcome.generated.column("_dsc_id")[0].as_py().endswith("+backtranslate[q]@de")


def test_back_translation_with_a_multilingual_model_uses_language_tokens(models, tmp_path):
    from dsc.augment.generate import Request
    from dsc.augment.local import LocalBackend

    backend = LocalBackend(rule("backtranslate", "multi", ("de",)), models, "en")
    backend.prepare()
    assert backend.key_parts(Request("translate", "the cat", "en", "de", "forward"))["input"] == ">>de<< the cat"
    (s,) = run(models, tmp_path, rule("backtranslate", "multi", ("de", "fr"))).stats
    assert s.generated + s.rejected == 2 * s.selected


def test_the_default_guard_rejects_noise_with_reasons(models, tmp_path):
    outcome = run(models, tmp_path, rule(ratio="1"), bounds=AugmentContext(models).bounds)
    reasons = outcome.rejected.column("_dsc_reason").to_pylist()
    assert len(reasons) == 16 - outcome.generated.num_rows and all(reasons)
    assert set(outcome.rejected.column("_dsc_rule").to_pylist()) == {"paraphrase[q]"}


def test_a_rules_bounds_replace_the_contexts_field_by_field_and_rejudge_without_a_call(models, tmp_path):
    from dataclasses import replace

    from dsc.augment.cache import GenerationCache
    from dsc.augment.guard import DEFAULT_BOUNDS
    from dsc.augment.jobs import RuleJob
    from dsc.augment.rows import SourceRows

    def bounded(**bounds) -> AugmentRule:
        return rule(ratio="1").model_copy(update={"bounds": {k: Decimal(v) for k, v in bounds.items()}})

    strict = bounded(min_similarity="0.99")
    job = RuleJob(strict, SourceRows(table(), strict), AugmentContext(models, bounds=LENIENT), GenerationCache(tmp_path))
    assert job.bounds == replace(LENIENT, min_similarity=0.99)
    # The default guard rejects the tiny model's noise as too dissimilar …
    noise = run(models, tmp_path, rule(ratio="1"), bounds=DEFAULT_BOUNDS)
    assert noise.generated.num_rows == 0 and noise.stats[0].calls > 0
    assert set(noise.rejected.column("_dsc_reason").to_pylist()) >= {
        "too dissimilar to the source: similarity 0.00, below min_similarity 0.1"}
    # … a rule that sets min_similarity 0 keeps it (the other defaults still apply), from the cache …
    loose = run(models, tmp_path, bounded(min_similarity="0"), bounds=DEFAULT_BOUNDS)
    (kept,) = loose.stats
    assert (kept.calls, kept.cache_hits) == (0, kept.requests)
    assert kept.generated == 16 - kept.rejected > 0
    assert not any("similarity" in r for r in loose.rejected.column("_dsc_reason").to_pylist())
    # … and over a lenient context, the rule's own bound still rejects, saying which bound.
    strict_run = run(models, tmp_path, strict)
    (s,) = strict_run.stats
    assert (s.calls, s.generated, s.rejected) == (0, 0, 16)
    assert all(r.endswith("below min_similarity 0.99") for r in strict_run.rejected.column("_dsc_reason").to_pylist())


def test_new_weights_mean_new_generations(models, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(models / "t5", folder / "t5")
    run(folder, tmp_path / "out", rule())
    build_t5(folder / "t5", seed=99)
    (s,) = run(folder, tmp_path / "out", rule()).stats
    assert s.calls > 0 and s.cache_hits == 0


def error(models: Path, out: Path, *rules: AugmentRule, data=None) -> RunError:
    with pytest.raises(RunError) as caught:
        run(models, out, *rules, data=data)
    assert not (out / ".dsc-cache" / "augment" / CACHE_FILE).exists()  # nothing was generated
    return caught.value


def test_a_model_path_that_does_not_exist(models, tmp_path):
    err = error(models, tmp_path, rule(), rule(model="no/such-folder"))
    assert str(err).startswith("paraphrase[q]: the model 'no/such-folder' was not found")
    assert (err.exit_code, err.code, err.line) == (4, "DSC306", 7)


def test_a_missing_model_is_an_error_even_when_no_row_is_picked(models, tmp_path):
    assert "was not found" in str(error(models, tmp_path, rule(model="nope"), data=table(0)))


def test_a_hub_model_that_was_never_fetched(models, tmp_path):
    err = error(models, tmp_path, rule(model="nobody/tiny-t5@0123abc"))
    assert "the model 'nobody/tiny-t5@0123abc' is not in the local Hugging Face cache" in str(err)
    assert "huggingface-cli download nobody/tiny-t5 --revision 0123abc" in str(err)


def test_a_model_that_is_not_sequence_to_sequence(models, tmp_path):
    shutil.copytree(ROOT / "examples" / "models" / "tiny-gpt2", tmp_path / "gpt2")
    err = error(tmp_path, tmp_path / "out", rule(model="gpt2"))
    assert "(gpt2) is not a sequence-to-sequence model" in str(err) and err.exit_code == 2


def test_a_model_folder_without_weights(models, tmp_path):
    shutil.copytree(models / "t5", tmp_path / "t5")
    (tmp_path / "t5" / "model.safetensors").unlink()
    assert "has no weights" in str(error(tmp_path, tmp_path / "out", rule()))


def test_a_pivot_the_model_does_not_support(models, tmp_path):
    err = error(models, tmp_path, rule("backtranslate", "multi", ("de", "es")))
    assert "has no target-language token >>es<< (its language tokens: de, en, fr)" in str(err)
    assert err.exit_code == 2
    err = error(models, tmp_path, rule("backtranslate", "opus-{src}-{tgt}", ("es",)))
    assert "the model 'opus-en-es' was not found" in str(err)


def test_one_translation_model_cannot_go_both_ways(models, tmp_path):
    err = error(models, tmp_path, rule("backtranslate", "opus-en-de", ("de",)))
    assert "name one model per language pair with {src} and {tgt}" in str(err)


def test_the_pivot_cannot_be_the_source_language(models, tmp_path):
    assert "the pivot 'en' is the source language" in str(error(models, tmp_path, rule("backtranslate", "multi", ("en",))))


def test_columns_that_are_missing_or_not_text(models, tmp_path):
    assert "names column 'nope', which the data lacks" in str(error(models, tmp_path, rule(column="nope")))
    assert "holds int64 values, not text" in str(error(models, tmp_path, rule(column="n")))


def test_empty_sources_are_rejected_without_a_call(models, tmp_path):
    data = table().set_column(0, "q", pa.array([None, "  "] * 12, pa.string()))
    outcome = run(models, tmp_path, rule(ratio="1"), data=data)
    (s,) = outcome.stats
    assert (s.generated, s.rejected, s.requests) == (0, 16, 0)
    assert set(outcome.rejected.column("_dsc_reason").to_pylist()) == {"the source text is empty"}


def test_without_transformers_the_rule_stops_naming_the_extra(models, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "transformers", None)  # what `import transformers` then fails on
    err = error(models, tmp_path, rule())
    assert err.exit_code == 4
    assert "needs the package transformers, which is not installed here" in str(err)
    assert "pip install 'dsc[train]'" in str(err)
