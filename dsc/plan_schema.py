"""Write the plan's JSON schema to docs/plan.schema.json: `python -m dsc.plan_schema [PATH]`."""
import json
import sys
from pathlib import Path

from dsc.plan import json_schema

if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/plan.schema.json")
    target.write_text(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {target}")
