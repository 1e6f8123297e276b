"""Regenerate the generated docs: `python -m dsc.gendocs` writes docs/plan.schema.json and
docs/diagnostics.md (tests fail when either is out of date)."""
import json
from pathlib import Path

from dsc.diagnostics import CODES
from dsc.plan import json_schema


def plan_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def diagnostics_text() -> str:
    rows = "\n".join(f"| `{code}` | {what} |" for code, what in sorted(CODES.items()))
    return ("# Diagnostic codes\n\nStable codes: `DSC1xx` syntax, `DSC2xx` meaning. Generated from "
            "`dsc.diagnostics.CODES` by `python -m dsc.gendocs`.\n\n| code | meaning |\n|---|---|\n" + rows + "\n")


if __name__ == "__main__":
    docs = Path("docs")
    (docs / "plan.schema.json").write_text(plan_schema_text(), encoding="utf-8")
    (docs / "diagnostics.md").write_text(diagnostics_text(), encoding="utf-8")
    print("wrote docs/plan.schema.json, docs/diagnostics.md")
