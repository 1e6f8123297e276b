"""The environment recorded in every manifest, and the note a run gives when it changed."""
import json
from importlib import metadata
from pathlib import Path

from babel.core import get_cldr_version
from typer.testing import CliRunner

from dsc.api import compile_file
from dsc.commands import app
from dsc.environment import ALWAYS, NOT_INSTALLED, changes, environment, used_by
from dsc.exitcodes import EXIT_OK

ROOT = Path(__file__).resolve().parents[1]


def plan_of(path: Path):
    return compile_file(path).plan


def test_environment_names_every_library_that_shapes_outputs():
    found = environment(["torch", "no-such-distribution-dsc"])
    assert found["cldr"] == get_cldr_version() and found["python"].count(".") == 2
    for name in ALWAYS:
        assert found[name] == metadata.version(name)
    assert found["torch"] == metadata.version("torch")
    assert found["no-such-distribution-dsc"] == NOT_INSTALLED


def test_optional_libraries_are_recorded_only_when_the_run_uses_them():
    assert used_by(plan_of(ROOT / "specs" / "common_gen.dspec")) == []
    assert used_by(plan_of(ROOT / "specs" / "common_gen.dspec"), engine="ray") == ["ray"]
    annotated = used_by(plan_of(ROOT / "specs" / "annotated.dspec"))
    assert "krippendorff" in annotated and "torch" not in annotated


def test_changes_lists_only_versions_that_differ():
    now = {"python": "3.11.7", "babel": "2.19.0", "cldr": "47"}
    assert changes(dict(now), now) is None
    assert changes(dict(now, babel="2.18.0", cldr="46"), now) == "babel 2.18.0 -> 2.19.0, cldr 46 -> 47"
    assert changes({"babel": 3}, now) == "babel 3 -> 2.19.0"  # a hand-edited manifest is no crash
    assert changes("garbage", now) is None


def test_a_run_records_the_environment_and_notes_a_change(tmp_path):
    spec = ROOT / "specs" / "common_gen.dspec"
    out = tmp_path / "out"
    first = CliRunner().invoke(app, ["run", str(spec), "--out", str(out)])
    assert first.exit_code == EXIT_OK, first.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["environment"]["babel"] == metadata.version("babel")
    assert "note:" not in first.output

    manifest["environment"]["babel"] = "2.0.0"
    (out / "manifest.json").write_text(json.dumps(manifest))
    second = CliRunner().invoke(app, ["run", str(spec), "--out", str(out)])
    assert second.exit_code == EXIT_OK
    notes = [line for line in second.output.splitlines() if line.startswith("note:")]
    assert notes == [f"note: {out}/ was last written under other versions "
                     f"(babel 2.0.0 -> {metadata.version('babel')}); outputs may differ for that alone"]
