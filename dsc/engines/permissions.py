"""What the operator lets a run reach beyond its project: endpoints, and files outside it.

A spec is data policy that anyone who can open a pull request may change; the operator (the
person or the CI job running `dsc run`) decides what that policy may reach. Before a run reads
anything, `enforce` checks the plan against the operator's `Permissions` and stops the run
(exit 2), listing every refusal at once, when

- an augmentation sends rows to an endpoint the operator has not allowed
  (`--allow-endpoint URL`, repeatable, or `DSC_ALLOW_ENDPOINTS="URL URL…"`; none by default);
  an allowance is a URL prefix at a path boundary (`https://api.example.com` allows
  `https://api.example.com/v1`); `URL#VAR` also pins the API key: the rule's `key_env` must be
  `VAR`, so a changed spec cannot send another environment variable to an allowed server;
- a hub source would download from the hub (`HF_ENDPOINT`, by default https://huggingface.co)
  without that allowance — unless `HF_HUB_OFFLINE` / `HF_DATASETS_OFFLINE` keep the loader off
  the network;
- a file the run reads (a data file a pattern matches, a hub dataset folder, a labelled-pairs,
  annotation or template file, a local model folder) resolves — through a symlink — outside the
  project (`dsc.checks.context.CheckContext.project_root`), unless the operator passes
  `--allow-outside-project`. (`..` and absolute paths are already DSC218 at check time.)

The check runs on what the file system holds when the run starts; a file swapped for a symlink
while the run is going is outside its reach (the operator owns the machine).
"""
from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dsc.checks.context import CheckContext
from dsc.ops.runtime import RunError
from dsc.plan import Plan

ENV_ENDPOINTS = "DSC_ALLOW_ENDPOINTS"
_DEFAULT_PORT = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Allowance:
    """One allowed endpoint prefix, and the one key variable it may receive (None: any)."""

    scheme: str
    host: str
    port: int
    path: str
    key_env: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Allowance":
        """`https://host[:port][/path][#KEY_ENV]`; raise ValueError when it is not such a URL.

        >>> Allowance.parse("HTTPS://Api.Example.com/v1/#OPENAI_KEY")
        Allowance(scheme='https', host='api.example.com', port=443, path='/v1', key_env='OPENAI_KEY')
        """
        parts = _split(text)
        if parts is None:
            raise ValueError(f"'{text}' is not an http(s) URL (write it as https://host[:port][/path][#KEY_ENV])")
        scheme, host, port, path = parts
        return cls(scheme, host, port, path, urlsplit(text.strip()).fragment or None)

    def admits(self, url: str, key_env: str | None) -> bool:
        """True when `url` lies under this prefix and `key_env` is the pinned key (if one is).

        >>> a = Allowance.parse("http://127.0.0.1:8000/v1")
        >>> a.admits("http://127.0.0.1:8000/v1/", None), a.admits("http://127.0.0.1:8000/v10", None)
        (True, False)
        >>> Allowance.parse("https://h#K").admits("https://h/v1", "OTHER")
        False
        """
        return self.covers(url) and (self.key_env is None or key_env == self.key_env)

    def covers(self, url: str) -> bool:
        """True when `url` lies under this prefix (same scheme, host and port; the path at a boundary)."""
        parts = _split(url)
        if parts is None or parts[:3] != (self.scheme, self.host, self.port):
            return False
        return not self.path or parts[3] == self.path or parts[3].startswith(self.path + "/")


def _split(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, path without a trailing /) of an http(s) URL, or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORT or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORT[scheme], parts.path.rstrip("/")


@dataclass(frozen=True)
class Permissions:
    """The operator's grants for one run; the default grants nothing."""

    endpoints: tuple[Allowance, ...] = ()
    outside_project: bool = False
    hub_offline: bool = False  # HF_HUB_OFFLINE / HF_DATASETS_OFFLINE: the hub loader cannot go online

    @classmethod
    def from_operator(cls, allow_endpoint: list[str] | tuple[str, ...] = (), outside_project: bool = False,
                      environ: Mapping[str, str] | None = None) -> "Permissions":
        """Grants from the command line and the environment; raise RunError (exit 2) on a bad URL.

        >>> Permissions.from_operator(["http://localhost:8000"], environ={ENV_ENDPOINTS: "https://a, https://b"}
        ...                           ).endpoints[2].host
        'b'
        """
        env = os.environ if environ is None else environ
        texts = [*allow_endpoint, *env.get(ENV_ENDPOINTS, "").replace(",", " ").split()]
        try:
            endpoints = tuple(Allowance.parse(t) for t in texts)
        except ValueError as err:
            raise RunError(f"allowed endpoint {err}", exit_code=2) from None
        offline = any(env.get(v, "").strip().lower() in ("1", "true", "yes", "on")
                      for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))
        return cls(endpoints, outside_project, offline)

    def allows(self, url: str, key_env: str | None = None) -> bool:
        return any(a.admits(url, key_env) for a in self.endpoints)


def enforce(plan: Plan, base_dir: Path, permissions: Permissions, environ: Mapping[str, str] | None = None) -> None:
    """Raise RunError (exit 2) listing everything `plan` would reach that `permissions` does not allow."""
    base = Path(base_dir)
    env = os.environ if environ is None else environ
    refusals = [*_endpoint_refusals(plan, base, permissions, env)]
    if not permissions.outside_project:
        root = CheckContext(base_dir=base).project_root
        for line, what, path in _files_read(plan, base):
            real = path.resolve()
            if not real.is_relative_to(root):
                refusals.append((line, f"{what} {_shown(path, base)}, which resolves to {real}, outside the "
                                       f"project {root}; move it into the project, or pass --allow-outside-project"))
    if refusals:
        raise RunError("the run needs what the operator has not allowed; nothing was read or sent:\n  "
                       + "\n  ".join(f"line {line}: {text}" for line, text in sorted(refusals, key=lambda r: r[0])),
                       exit_code=2)


def _endpoint_refusals(plan: Plan, base: Path, permissions: Permissions,
                       env: Mapping[str, str]) -> Iterator[tuple[int, str]]:
    for rule in plan.augment:
        if rule.backend != "endpoint" or not rule.endpoint or permissions.allows(rule.endpoint, rule.key_env):
            continue
        pinned = sorted({a.key_env for a in permissions.endpoints if a.covers(rule.endpoint)})
        if pinned:
            yield rule.line, (f"{rule.id} would send {rule.key_env or 'no key'} (key_env) to {rule.endpoint}, "
                              f"which is allowed only with the key in {', '.join(pinned)}")
        else:
            yield rule.line, (f"{rule.id} sends rows to {rule.endpoint}, which is not allowed; "
                              f"if you trust it, pass --allow-endpoint {rule.endpoint} (or list it in {ENV_ENDPOINTS})")
    from dsc.io.hub import local_folder

    hub = env.get("HF_ENDPOINT", "https://huggingface.co")
    for src in plan.sources:
        if src.hub is None or local_folder(src.hub.id, base) or permissions.hub_offline or permissions.allows(hub):
            continue
        yield src.line, (f"source {src.name} would download {src.hub.id} from {hub}, which is not allowed; "
                         f"pass --allow-endpoint {hub}, or set HF_HUB_OFFLINE=1 to read the local cache only")


def _files_read(plan: Plan, base: Path) -> Iterator[tuple[int, str, Path]]:
    """(line, what, path) for every local file or folder the run reads, as the spec's patterns find them."""
    from dsc.io.hub import local_folder
    from dsc.io.model import SourceError
    from dsc.io.sources import expand

    for src in plan.sources:
        folder = local_folder(src.hub.id, base) if src.hub is not None else None
        if folder is not None:
            yield src.line, "hub dataset folder", folder
        for pattern in src.files:
            try:
                matches = expand((pattern,), base)
            except SourceError:
                continue  # the reader reports a pattern that matches nothing
            yield from ((src.line, f"file pattern '{pattern}' matches", path) for path, _ in matches)
    for step in plan.steps:
        if isinstance(step.params.get("pairs"), str):
            yield step.line, "labelled-pairs file", base / step.params["pairs"]
    for ann in plan.annotations:
        yield ann.line, "annotation file", base / ann.source
    for rule in plan.augment:
        if rule.template:
            yield rule.line, "prompt template", base / rule.template
        if rule.backend == "local":
            yield from ((rule.line, "model folder", base / ref) for ref in _model_refs(rule, base)
                        if (base / ref).exists())
    for export in plan.exports:
        if export.template:
            yield export.line, "export template", base / export.template


def _model_refs(rule, base: Path) -> list[str]:
    """The model folders a local augmentation may read: its path, or, when the path names one model
    per language pair with `{src}` / `{tgt}`, every folder that fits it."""
    if "{src}" not in rule.model and "{tgt}" not in rule.model:
        return [rule.model]
    pattern = glob.escape(rule.model).replace("{src}", "*").replace("{tgt}", "*")
    return sorted(glob.glob(pattern, root_dir=base))


def _shown(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:
        return str(path)
