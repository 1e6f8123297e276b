"""The versions of what shapes a run's outputs, recorded in every manifest.

"Same spec + same input = same bytes" holds under the same libraries: babel's CLDR data decides
whether `1'234.50` reads as a Swiss number, pyarrow how parquet is laid out, xxhash and numpy the
row ids and the split. So the manifest records them, and a run into a folder written under other
versions says which differ (`changes`): the outputs may differ for that reason alone.

Versions are read from the installed distributions' metadata; nothing is imported but babel
(for its CLDR version, which its package version does not tell).
"""
from __future__ import annotations

import platform
from importlib import metadata
from typing import Iterable

from dsc import __version__

# Distributions whose version can change a run's bytes, whatever the spec. Regexes run on pyarrow's
# own RE2, so pyarrow's version covers them.
ALWAYS = ("pyarrow", "datasets", "numpy", "xxhash", "orjson", "babel", "dateparser", "pint", "jinja2")
NOT_INSTALLED = "not installed"


def used_by(plan, engine: str = "local") -> list[str]:
    """The optional distributions this run uses, beyond `ALWAYS`: the packages of each optional
    extra a rule of the plan needs (`dsc.extras.EXTRAS`), the agreement metrics, and Ray."""
    from dsc.extras import EXTRAS

    needs = [("dedupe fuzzy", any(step.op == "dedupe_fuzzy" for step in plan.steps)),
             ("a local model (using)", any(rule.backend == "local" for rule in plan.augment)),
             ("finetune", bool(plan.finetune)),
             ("tokens()", any(step.op == "drop" and step.params.get("func") == "tokens" for step in plan.steps))]
    used = [module for rule, needed in needs if needed for module in EXTRAS[rule].modules]
    if plan.finetune:  # transformers' tokenizer library counts tokens() and the report's token lengths
        used.append("tokenizers")
    if plan.annotations:
        used += ["krippendorff", "statsmodels", "scikit-learn"]
    if engine == "ray":
        used.append("ray")
    return list(dict.fromkeys(used))


def environment(extra: Iterable[str] = ()) -> dict[str, str]:
    """Python, dsc, babel's CLDR data and each distribution of `ALWAYS` and `extra`, by name."""
    from babel.core import get_cldr_version

    found = {"python": platform.python_version(), "dsc": __version__, "cldr": get_cldr_version()}
    for name in (*ALWAYS, *extra):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = NOT_INSTALLED
    return found


def changes(before: dict[str, str] | None, now: dict[str, str]) -> str | None:
    """One line naming what differs between two environments, or None when nothing recorded differs.

    >>> changes({"babel": "2.18.0", "numpy": "2.4.6"}, {"babel": "2.19.0", "numpy": "2.4.6", "ray": "2.60.0"})
    'babel 2.18.0 -> 2.19.0'
    >>> changes(None, {"babel": "2.19.0"}) is None
    True
    """
    if not isinstance(before, dict):
        return None
    differ = [f"{name} {before[name]} -> {version}" for name, version in now.items()
              if name in before and before[name] != version]
    return ", ".join(differ) or None
