r"""What the operator lets a run reach beyond its project: endpoints, and files outside it.

A spec is data policy that anyone who can open a pull request may change; the operator (the
person or the CI job running `dsc run`) decides what that policy may reach. Before a run reads
anything, `enforce` checks the plan against the operator's `Permissions` and stops the run
(exit 2), listing every refusal at once, when

- an augmentation sends rows to an endpoint the operator has not allowed
  (`--allow-endpoint URL`, repeatable, or `DSC_ALLOW_ENDPOINTS="URL URL…"`; none by default);
  an allowance is a URL prefix at a path boundary (`https://api.example.com` allows
  `https://api.example.com/v1`), compared after both URLs are normalised (`endpoint_url`), and
  the client sends to exactly the normalised URL that was compared; an endpoint whose path a
  server could resolve otherwise (`..`, `%2e%2e`, `..%2f`, `\`, …) is refused outright;
  `URL#VAR` also pins the API key: the rule's `key_env` must be `VAR`, so a changed spec cannot
  send another environment variable to an allowed server;
- a hub source would download from the hub (`HF_ENDPOINT`, by default https://huggingface.co)
  without that allowance — unless `HF_HUB_OFFLINE` / `HF_DATASETS_OFFLINE` keep the loader off
  the network;
- a file the run reads (a data file a pattern matches, a hub dataset folder, a labelled-pairs,
  eval, annotation or template file, a local model folder) resolves — through a symlink — outside the
  project (`dsc.project.project_root`), unless the operator passes
  `--allow-outside-project`. (`..` and absolute paths are already DSC218 at check time.)

The check runs on what the file system holds when the run starts; a file swapped for a symlink
while the run is going is outside its reach (the operator owns the machine).
"""
from __future__ import annotations

import glob
import ipaddress
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes, urlsplit

from dsc.exitcodes import EXIT_SPEC_ERROR
from dsc.ops.runtime import RunError
from dsc.plan import Plan
from dsc.project import project_root

ENV_ENDPOINTS = "DSC_ALLOW_ENDPOINTS"
_DEFAULT_PORT = {"http": 80, "https": 443}
_NOT_A_URL = "is not an http(s) URL (write it as https://host[:port][/path])"
_OUTSIDE = "a server may resolve it outside the allowed prefix; write the path as the server should see it"
_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_STEPPING = {ord("."), ord("/"), ord("\\"), ord("%")}  # what an encoded path may not hold
_PATH_KEPT = "/%!$&'()*+,;=:@-._~"  # RFC 3986 pchar and "/": the rest of a path is percent-encoded


@dataclass(frozen=True)
class EndpointUrl:
    """An http(s) URL in the one form dsc compares and sends: scheme and host lower-case, the port
    spelt out, the path normalised (see `endpoint_url`) and without a trailing `/`."""

    scheme: str
    host: str
    port: int
    path: str

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == _DEFAULT_PORT[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"

    def covers(self, other: "EndpointUrl") -> bool:
        """True when `other` lies under this prefix: same scheme, host and port, the path at a boundary."""
        if (other.scheme, other.host, other.port) != (self.scheme, self.host, self.port):
            return False
        return not self.path or other.path == self.path or other.path.startswith(self.path + "/")


def endpoint_url(text: str, *, resolve_dots: bool = False) -> EndpointUrl:
    r"""`text` normalised as RFC 3986 §6 says — escapes of unreserved characters decoded (`%7E` is
    `~`), the others upper-cased, what a path cannot hold percent-encoded, `.` segments removed —
    or ValueError, whose message completes "the URL …".

    An endpoint (the default) must leave nothing for a server to resolve otherwise than dsc does:
    it is refused when its path has a segment that starts with `..`, an encoded `.`, `/`, `\` or
    `%` (`%2E`, `%2F`, `%5C`, `%25`: a server that decodes them may step out of the allowed
    prefix), or escapes that are not UTF-8; and so is a URL with a backslash, a space or a control
    character, a user name or password, a query or a fragment. An operator's allowance
    (`resolve_dots`) has its dot segments resolved instead (RFC 3986 `remove_dot_segments`, after
    decoding `%2E`).

    >>> str(endpoint_url("HTTP://Api.Example.com:80/v1/./%7ealice/%3a/"))
    'http://api.example.com/v1/~alice/%3A'
    >>> endpoint_url("http://h/v1/tenantA/..%2fadmin")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: has an encoded '.', '/', '\' or '%' in its path (%2E, %2F, %5C or %25): a server may resolve it ...
    >>> str(endpoint_url("http://h/v1/tenantA/%2e%2e/../admin", resolve_dots=True))
    'http://h/admin'
    """
    text = text.strip()
    if any(c.isspace() or not c.isprintable() or c == "\\" for c in text):
        raise ValueError("holds a space, a control character or a backslash; write the URL without them")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(_NOT_A_URL) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORT or not parts.hostname:
        raise ValueError(_NOT_A_URL)
    if "@" in parts.netloc:
        raise ValueError("has a user name or password before the host; the key goes in key_env")
    if "?" in text or "#" in text:
        raise ValueError("has a query or a fragment (?… or #…); write the base URL, e.g. https://host/v1")
    host = parts.hostname.lower()
    if not (_HOST.fullmatch(host) or _ipv6(host)):
        raise ValueError("has a host that is neither a host name nor an IP address "
                         "(write an international name in its xn-- form)")
    return EndpointUrl(scheme, host, port or _DEFAULT_PORT[scheme], _path(parts.path, resolve_dots))


def _path(path: str, resolve_dots: bool) -> str:
    """The normalised path (see `endpoint_url`)."""
    if _BAD_PERCENT.search(path):
        raise ValueError("has a '%' in its path that starts no %XX escape; write a '%' as %25")
    try:
        unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("has %XX escapes in its path that are not UTF-8") from None
    if not resolve_dots and any(int(m[1], 16) in _STEPPING for m in _ESCAPE.finditer(path)):
        raise ValueError(r"has an encoded '.', '/', '\' or '%' in its path (%2E, %2F, %5C or %25): " + _OUTSIDE)
    decoded = _ESCAPE.sub(lambda m: chr(int(m[1], 16)) if chr(int(m[1], 16)) in _UNRESERVED else m[0].upper(), path)
    if not resolve_dots and any(segment.startswith("..") for segment in decoded.split("/")):
        raise ValueError("has a segment that starts with '..' in its path: " + _OUTSIDE)
    return _remove_dot_segments(quote(decoded, safe=_PATH_KEPT)).rstrip("/")


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, for an absolute path or the empty one.

    >>> _remove_dot_segments("/a/b/./c/../../d/"), _remove_dot_segments("/../a/.")
    ('/a/d/', '/a')
    """
    kept: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    return "".join("/" + segment for segment in kept)


def _ipv6(host: str) -> bool:
    """True for an IPv6 address without a zone index (`%eth0` names an interface of this machine only)."""
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return "%" not in host


@dataclass(frozen=True)
class Allowance:
    """One allowed endpoint prefix, and the one key variable it may receive (None: any)."""

    url: EndpointUrl
    key_env: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Allowance":
        """`https://host[:port][/path][#KEY_ENV]`; raise ValueError when it is not such a URL.

        >>> Allowance.parse("HTTPS://Api.Example.com/v1/#OPENAI_KEY")
        Allowance(url=EndpointUrl(scheme='https', host='api.example.com', port=443, path='/v1'), key_env='OPENAI_KEY')
        """
        prefix, _, key_env = text.strip().partition("#")
        try:
            return cls(endpoint_url(prefix, resolve_dots=True), key_env or None)
        except ValueError as err:
            raise ValueError(f"'{text}' {err}") from None

    def admits(self, url: EndpointUrl, key_env: str | None) -> bool:
        """True when `url` lies under this prefix and `key_env` is the pinned key (if one is).

        >>> a, url = Allowance.parse("http://127.0.0.1:8000/v1"), endpoint_url
        >>> a.admits(url("http://127.0.0.1:8000/v1/"), None), a.admits(url("http://127.0.0.1:8000/v10"), None)
        (True, False)
        >>> Allowance.parse("https://h#K").admits(url("https://h/v1"), "OTHER")
        False
        """
        return self.url.covers(url) and (self.key_env is None or key_env == self.key_env)


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
        ...                           ).endpoints[2].url.host
        'b'
        """
        env = os.environ if environ is None else environ
        texts = [*allow_endpoint, *env.get(ENV_ENDPOINTS, "").replace(",", " ").split()]
        try:
            endpoints = tuple(Allowance.parse(t) for t in texts)
        except ValueError as err:
            raise RunError(f"allowed endpoint {err}", exit_code=EXIT_SPEC_ERROR, code="DSC314") from None
        offline = any(env.get(v, "").strip().lower() in ("1", "true", "yes", "on")
                      for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))
        return cls(endpoints, outside_project, offline)

    def allows(self, url: str, key_env: str | None = None) -> bool:
        """True when dsc may send to `url` (see `endpoint_url`) and an allowance admits it with `key_env`."""
        try:
            target = endpoint_url(url)
        except ValueError:
            return False
        return any(a.admits(target, key_env) for a in self.endpoints)


def enforce(plan: Plan, base_dir: Path, permissions: Permissions, environ: Mapping[str, str] | None = None) -> None:
    """Raise RunError (exit 2) listing everything `plan` would reach that `permissions` does not allow."""
    base = Path(base_dir)
    env = os.environ if environ is None else environ
    refusals = [*_endpoint_refusals(plan, base, permissions, env)]
    if not permissions.outside_project:
        root = project_root(base)
        for line, what, path in files_read(plan, base):
            real = Path(os.path.realpath(path))  # a link loop stays as it is: its reader says so
            if not real.is_relative_to(root):
                refusals.append((line, f"{what} {_shown(path, base)}, which resolves to {real}, outside the "
                                       f"project {root}; move it into the project, or pass --allow-outside-project"))
    if refusals:
        raise RunError("the run needs what the operator has not allowed; nothing was read or sent:\n  "
                       + "\n  ".join(f"line {line}: {text}" for line, text in sorted(refusals, key=lambda r: r[0])),
                       exit_code=EXIT_SPEC_ERROR, code="DSC309")


def _endpoint_refusals(plan: Plan, base: Path, permissions: Permissions,
                       env: Mapping[str, str]) -> Iterator[tuple[int, str]]:
    for rule in plan.augment:
        if rule.backend != "endpoint" or not rule.endpoint:
            continue
        try:
            url = endpoint_url(rule.endpoint)
        except ValueError as err:
            yield rule.line, f"{rule.id} would send rows to {rule.endpoint}, which {err}"
            continue
        if permissions.allows(rule.endpoint, rule.key_env):
            continue
        pinned = sorted({a.key_env for a in permissions.endpoints if a.url.covers(url)})
        if pinned:
            yield rule.line, (f"{rule.id} would send {rule.key_env or 'no key'} (key_env) to {rule.endpoint}, "
                              f"which is allowed only with the key in {', '.join(pinned)}")
        else:
            yield rule.line, (f"{rule.id} sends rows to {rule.endpoint}, which is not allowed; "
                              f"if you trust it, pass --allow-endpoint {url} (or list it in {ENV_ENDPOINTS})")
    from dsc.io.hub import local_folder

    hub = env.get("HF_ENDPOINT", "https://huggingface.co")
    for src in plan.sources:
        if src.hub is None or local_folder(src.hub.id, base) or permissions.hub_offline or permissions.allows(hub):
            continue
        yield src.line, (f"source {src.name} would download {src.hub.id} from {hub}, which is not allowed; "
                         f"pass --allow-endpoint {hub}, or set HF_HUB_OFFLINE=1 to read the local cache only")


def files_read(plan: Plan, base: Path) -> Iterator[tuple[int, str, Path]]:
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
        for pattern in step.params.get("against") or ():  # decontaminate's eval sets
            try:
                matches = expand((pattern,), base)
            except SourceError:
                continue  # the rule reports a pattern that matches nothing
            yield from ((step.line, f"eval set '{pattern}' matches", path) for path, _ in matches)
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
