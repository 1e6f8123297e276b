"""The optional extras of dsc: packages `pip install dsc` leaves out, and the rules that need them.

`dedupe fuzzy` trains with the `dedupe` library, a local augmentation model (`using`) runs on
torch and transformers, a `finetune` block's comparison loads the model with transformers and
PEFT, and `drop where tokens(COL) …` counts with the base model's tokenizer (transformers). Each
rule's packages and the extra that installs them are one line of `EXTRAS`. `dsc check` warns at
such a rule (`dsc.checks.extras`, DSC221), and the run stops with the same words (`missing`).
Whether a package is there is asked of the import system (`importlib.util.find_spec`), which
imports nothing, so checking stays fast however heavy the package.
"""
from __future__ import annotations

import importlib.util
from typing import NamedTuple


class Extra(NamedTuple):
    modules: tuple[str, ...]  # what the rule imports
    name: str                 # the extra of dsc that installs them: pip install 'dsc[NAME]'


# A rule, as messages name it -> the packages it imports and the extra (pyproject.toml) with them.
EXTRAS: dict[str, Extra] = {
    "dedupe fuzzy": Extra(("dedupe",), "fuzzy"),
    "a local model (using)": Extra(("torch", "transformers"), "train"),
    "finetune": Extra(("torch", "transformers", "peft"), "train"),
    "tokens()": Extra(("transformers",), "train"),
}


def installed(module: str) -> bool:
    """Whether `module` can be imported here, found without importing it.

    >>> installed("json"), installed("no_such_module_for_dsc")
    (True, False)
    """
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a dotted name's parent is missing; a loaded module has no spec
        return False


def missing(rule: str) -> tuple[str, str] | None:
    """What `rule` (a key of `EXTRAS`) lacks on this machine, and how to install it: e.g.
    `("dedupe fuzzy needs the package dedupe, which is not installed here", "pip install 'dsc[fuzzy]'")`;
    None when nothing is missing."""
    extra = EXTRAS[rule]
    absent = [m for m in extra.modules if not installed(m)]
    if not absent:
        return None
    if len(absent) == 1:
        needs = f"the package {absent[0]}, which is"
    else:
        needs = f"the packages {', '.join(absent[:-1])} and {absent[-1]}, which are"
    return f"{rule} needs {needs} not installed here", f"pip install 'dsc[{extra.name}]'"
