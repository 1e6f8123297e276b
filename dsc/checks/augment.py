"""`augment SPLIT, … { … }` blocks: declared splits, and a complete, consistent model reference.

Each augmentation runs either a local model (`using "path or hub id"`) or an LLM endpoint
(`endpoint "https://…" model "name"`, optionally `key_env VAR` and a prompt `template`);
options of the other kind do not apply.
"""
from __future__ import annotations

import re

from dsc import ast
from dsc.checks.common import error, first_seen, head, split_names
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic, closest, suggestion

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
# Options read only when the model is an endpoint.
_ENDPOINT_ONLY = ("model", "key_env", "template")


def check_augment_splits(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Augmented splits are declared in the split block (DSC219), so augmentation never
    crosses splits: a row is augmented only within the split its key assigns it to."""
    declared = split_names(spec)
    out: list[Diagnostic] = []
    for block in spec.of(ast.AugmentBlock):
        for name in block.splits:
            if name.value not in declared:
                out.append(unknown_split(name, declared))
    return out


def unknown_split(name: ast.Name, declared: list[str]) -> Diagnostic:
    """DSC219 for a split name the split block does not declare."""
    if not declared:
        return error("DSC219", f"unknown split '{name.value}': the spec declares no splits", name.span,
                     f"add a split block, e.g. split by id {{ {name.value} 0.9 … }}")
    hint = suggestion(closest(name.value, declared)) or "declared splits: " + ", ".join(declared)
    return error("DSC219", f"unknown split '{name.value}'", name.span, hint)


def check_augment_options(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Each augmentation has a `ratio` and exactly one of `using` / `endpoint` (DSC212,
    DSC214); an endpoint has a `model` and is an http(s) URL; `model`, `key_env` and
    `template` apply to endpoints only (DSC217); `key_env` names an environment variable,
    never a key itself (DSC203); each option is given once (DSC214). The numbers — `ratio`,
    `concurrency` and the guard bounds (`min_similarity` …) — are checked by `check_ranges`.
    """
    out: list[Diagnostic] = []
    for block in spec.of(ast.AugmentBlock):
        for rule in block.rules:
            out += _rule(rule)
    return out


def _rule(rule: ast.Augmentation) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    method = rule.method.value
    opts = {o.key: o for o in rule.options}
    for repeat, _ in first_seen((o.key, o) for o in rule.options):
        out.append(error("DSC214", f"'{repeat.key}' is given twice", head(repeat, repeat.key), "keep one"))
    where = head(rule, method)
    if "ratio" not in opts:
        out.append(error("DSC212", f"{method} needs a ratio: the share of rows to augment", where,
                         "add e.g. ratio 0.25"))
    if "using" not in opts and "endpoint" not in opts:
        out.append(error("DSC212", f"{method} needs a model", where,
                         'add using "models/NAME" (a local model) or endpoint "https://…" model "NAME"'))
    if "using" in opts and "endpoint" in opts:
        out.append(error("DSC214", "'using' and 'endpoint' both name the model", head(opts["endpoint"], "endpoint"),
                         "keep 'using' for a local model, or 'endpoint' and 'model' for an LLM endpoint"))
    endpoint = opts.get("endpoint")
    if endpoint is not None:
        if "model" not in opts:
            out.append(error("DSC212", "an endpoint needs a 'model'", head(endpoint, "endpoint"),
                             'add model "NAME": the model the endpoint serves'))
        url = endpoint.value
        if isinstance(url, ast.Str) and not re.match(r"https?://[^/\s]", url.value):
            out.append(error("DSC203", f"'{url.value}' is not an http(s) URL", url.span,
                             'write the base URL, e.g. "http://localhost:8000/v1"'))
    else:
        for key in _ENDPOINT_ONLY:
            if key in opts:
                out.append(error("DSC217", f"'{key}' applies only to an endpoint", head(opts[key], key),
                                 "a local model ('using') takes no model name, key or prompt template"))
    key_env = opts.get("key_env")
    if key_env is not None and isinstance(key_env.value, ast.Name) and not _ENV_NAME.fullmatch(key_env.value.value):
        out.append(error("DSC203", f"'{key_env.value.value}' does not look like an environment variable name",
                         key_env.value.span, "name the variable that holds the key, e.g. OPENAI_API_KEY — "
                                             "never the key itself"))
    return out
