"""Regenerate the generated docs: `python -m dsc.gendocs` writes docs/plan.schema.json and
docs/diagnostics.md (tests fail when either is out of date)."""
import json
from pathlib import Path

from dsc import errors
from dsc.diagnostics import CODES
from dsc.plan import json_schema


def plan_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def _table(codes: dict[str, str]) -> str:
    return "| code | meaning |\n|---|---|\n" + "".join(f"| `{code}` | {what} |\n" for code, what in sorted(codes.items()))


def diagnostics_text() -> str:
    return ("# Diagnostic codes\n\nStable codes: `DSC1xx` syntax, `DSC2xx` meaning (`dsc check`, and every command "
            "that compiles a spec), `DSC3xx` run-time errors. Generated from `dsc.diagnostics.CODES` and "
            "`dsc.errors.CODES` by `python -m dsc.gendocs`.\n\n" + _table(CODES)
            + "\n## Run-time errors\n\nA problem found once the spec compiles (in the data, the files it names, "
            "the output folder, an endpoint or model, or what the operator allows) stops the command with a "
            "`DSC3xx` code, printed like a diagnostic: at the line of the spec whose rule, block or source it is "
            "about, or without a line when no line of the spec is at fault (the output folder in use, a Ray address). "
            "Its exit code says whose it is: 2 the spec's, 4 the input's (README.md lists them).\n\n"
            "```text\nspec.dspec:12:3: error[DSC308]: rule drop[prompt] names column 'prompt', which the data lacks\n"
            "  12 |   drop where words(prompt) < 3\n     |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n```\n\n"
            + _table(errors.CODES))


if __name__ == "__main__":
    docs = Path("docs")
    (docs / "plan.schema.json").write_text(plan_schema_text(), encoding="utf-8")
    (docs / "diagnostics.md").write_text(diagnostics_text(), encoding="utf-8")
    print("wrote docs/plan.schema.json, docs/diagnostics.md")
