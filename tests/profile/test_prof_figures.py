"""`dsc profile` figures on every real data file, checked against an independent pandas count.

The files are examples/data (always present) and ../shared/data (present beside a CI clone,
skipped when absent; files already in examples/data are not counted twice). pandas reads each
file itself; only the choice of key and target columns is shared with the profile.
"""
import json
from pathlib import Path

import pandas as pd
import pytest

from dsc.profile import build_profile, load_files

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "data"
SHARED = ROOT.parent / "shared" / "data"


def _data_files():
    files = sorted(p for p in EXAMPLES.glob("*.json*"))
    seen = {p.name for p in files}
    if SHARED.is_dir():
        files += sorted(p for p in SHARED.glob("*.json*") if p.name not in seen)
    return files


FILES = _data_files()


def key_and_target(columns):
    """The key and target each layout is deduplicated on (T0, Alpaca, self-instruct)."""
    if "prompt" in columns:
        return ["prompt"], "completion"
    if {"instruction", "input", "output"} <= set(columns):
        return ["instruction", "input"], "output"
    return ["instruction"], "name" if "name" in columns else "motivation_app"


def pandas_frame(path: Path) -> pd.DataFrame:
    """The file as pandas reads it, with no type guessing; nested values as canonical JSON text."""
    df = pd.read_json(path, lines=path.suffix == ".jsonl", dtype=False)
    for column in df.columns:
        if df[column].map(lambda v: isinstance(v, (list, dict))).any():
            df[column] = df[column].map(lambda v: json.dumps(v, sort_keys=True))
    return df


def folded(value):
    return " ".join(value.split()).casefold() if isinstance(value, str) else value


def pandas_figures(df: pd.DataFrame, key: list[str], target: str) -> dict:
    keyed = df.dropna(subset=key)
    distinct_targets = keyed.groupby(key, dropna=True)[target].nunique(dropna=False)
    conflicting = distinct_targets[distinct_targets > 1].index
    return {
        "rows": len(df),
        "exact_duplicate_rows": int(df.duplicated().sum()),
        "key_duplicate_rows": int(df.duplicated(subset=key).sum()),
        "normalized_key_duplicate_rows": int(df[key].apply(lambda col: col.map(folded)).duplicated().sum()),
        "key_target_duplicate_rows": int(df.duplicated(subset=[*key, target]).sum()),
        "conflict_groups": len(conflicting),
        "conflict_rows": int(keyed.set_index(key).index.isin(conflicting).sum()),
    }


@pytest.fixture(scope="module", params=FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def profiled(request):
    path = request.param
    df = pandas_frame(path)
    key, target = key_and_target(list(df.columns))
    profile = build_profile(load_files([path]), key=key, target=target, text=[])
    return path, df, key, target, profile


def test_row_figures_match_pandas(profiled):
    path, df, key, target, profile = profiled
    assert profile["rejected_rows"] == 0
    expected = pandas_figures(df, key, target)
    assert {k: profile[k] for k in expected} == expected


def test_column_figures_match_pandas(profiled):
    path, df, key, target, profile = profiled
    columns = {c["name"]: c for c in profile["columns"]}
    assert list(columns) == list(df.columns)
    for name, c in columns.items():
        values = df[name]
        assert c["nulls"] == int(values.isna().sum()), name
        strings = values[values.map(lambda v: isinstance(v, str))]
        if c["arrow_type"] == "string":
            assert c["empty"] == int((strings == "").sum()), name
            assert c["blank"] == int(((strings.str.strip() == "") & (strings != "")).sum()), name
            lengths = strings.str.len()
            assert (c["length"]["min"], c["length"]["max"]) == (int(lengths.min()), int(lengths.max())), name
            assert c["distinct"] == int(values.nunique(dropna=False)), name


def test_near_estimate_finds_injected_duplicates():
    from bench.corpus import make_corpus
    import pyarrow as pa
    from dsc.profile.duplicates import near_estimate

    corpus = make_corpus(3000, seed=5)
    injected = int((corpus["exact_of"] >= 0).sum() + (corpus["near_of"] >= 0).sum())
    found = near_estimate(pa.array(corpus["text"]))
    assert found["exact_rows"] == int((corpus["exact_of"] >= 0).sum())
    # LSH may miss a pair near the threshold, never invent one: every pair is verified.
    assert injected * 0.97 <= found["rows"] <= injected


def test_spec_source_is_profiled_with_its_rules_key():
    from dsc.profile import load_spec

    loaded = load_spec(ROOT / "specs" / "common_gen.dspec")
    profile = build_profile(loaded)
    df = pandas_frame(EXAMPLES / "common_gen_Example_prompt.jsonl")
    expected = pandas_figures(df, ["prompt"], "completion")
    assert profile["key"] == ["prompt"] and profile["target"] == "completion"
    assert {k: profile[k] for k in expected} == expected
    # No dedupe near rule: the estimate covers the columns that hold text.
    assert profile["near_duplicates"]["columns"] == ["prompt", "completion"]
    with_near = build_profile(load_spec(ROOT / "specs" / "code_alpaca.dspec"))
    assert with_near["near_duplicates"]["columns"] == ["instruction", "input"]
