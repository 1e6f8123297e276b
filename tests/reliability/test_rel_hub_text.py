"""Hub dataset text that is not UTF-8: the run stops with exit 4 naming the dataset, the first bad row
and its column, never a traceback.

`datasets` loads a parquet (or arrow) file without checking its text, as pyarrow does; the first
Python value made of such bytes raised UnicodeDecodeError while the row ids were computed (exit 1,
"internal error"). The check is the parquet reader's (`dsc.io.formats.rows_not_text`). A hub
source hands the reader one table with no rejects of its own, so the whole dataset is refused.
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dsc.commands import app
from dsc.exitcodes import EXIT_INPUT_ERROR
from dsc.io import HubRef, SourceError, SourceSpec, read_source

SPEC = 'dataset h version 1 {\n  seed 7\n}\nsource s {\n  hub "ds" revision "r"\n}\n' \
       "schema {\n  prompt : text required\n}\n"


def unchecked(values: list[bytes]) -> pa.Array:
    """Strings made of `values` as they are: Arrow does not check them here either."""
    return pa.array(values, pa.binary()).view(pa.string())


@pytest.fixture
def hub_folder(tmp_path, monkeypatch):
    """Writes `table` as the local dataset folder `ds` (read with `datasets`, offline, cache in tmp)."""
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "cache")
    (tmp_path / "dsc.toml").write_text("")
    (tmp_path / "ds").mkdir()

    def write(table: pa.Table) -> None:
        pq.write_table(table, tmp_path / "ds" / "train.parquet")
    return write


TAGS = pa.ListArray.from_arrays(pa.array([0, 1, 2, 3], pa.int32()), unchecked([b"x", b"\xc3(", b"z"]))


@pytest.mark.parametrize("table, message", [
    (pa.table({"prompt": unchecked([b"good", b"bad \xff here", b"fine"])}),
     "text that is not UTF-8 in 1 of its 3 rows, the first hub:ds:train@r#1 (column 'prompt')"),
    (pa.table({"prompt": ["a", "b", "c"], "tags": TAGS}),
     "text that is not UTF-8 in 1 of its 3 rows, the first hub:ds:train@r#1 (column 'tags')"),
    (pa.table({"prompt": unchecked([b"\xfe", b"ok", b"\xff"])}),
     "text that is not UTF-8 in 2 of its 3 rows, the first hub:ds:train@r#0 (column 'prompt')"),
])
def test_hub_text_that_is_not_utf8_stops_the_run_with_exit_4(tmp_path, hub_folder, table, message):
    hub_folder(table)
    with pytest.raises(SourceError) as error:
        read_source(SourceSpec("s", hub=HubRef("ds", revision="r")), tmp_path)
    assert str(error.value) == f"cannot load hub:ds:train@r: {message}"
    (tmp_path / "h.dspec").write_text(SPEC, encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(tmp_path / "h.dspec"), "--out", str(tmp_path / "out")])
    assert result.exit_code == EXIT_INPUT_ERROR, result.output
    assert message in result.output
    assert "internal error" not in result.output and "Traceback" not in result.output


def test_hub_text_that_is_utf8_loads_as_before(tmp_path, hub_folder):
    hub_folder(pa.table({"prompt": ["a", "ü", "c"], "tags": pa.array([["x"], [], ["z"]])}))
    result = read_source(SourceSpec("s", hub=HubRef("ds", revision="r")), tmp_path)
    assert result.table.column("prompt").to_pylist() == ["a", "ü", "c"] and result.rejects == []
