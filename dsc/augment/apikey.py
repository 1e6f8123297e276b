"""The API key: read once, checked, sent in one header, and redacted from every text in any spelling.

**Reading.** The key comes from the environment variable `key_env` names. Keys read from files
and secret stores (a Kubernetes secret, `$(cat key.txt)`) end with a line break: the whitespace
around a key is dropped, silently. What is left must be visible ASCII (`!` to `~`); anything else
inside it — a line break, a tab or another control character, a space, a non-ASCII letter —
cannot travel in an HTTP header as it is, so the run stops (exit 4) with a message that names the
variable and never the value.

**Redacting.** `ApiKey.redact` is the one function through which a text loses the key. A server
may echo the key in an error body, a reply or a redirect, spelt however its software writes
it, so every character of the key is matched in each of its spellings, mixed freely:

| spelling | `/` matches |
|---|---|
| itself, after the backslashes JSON (`\\/`, `\\"`, `\\\\`), Python's repr and JSON inside JSON put before it | `/`, `\\/`, `\\\\\\/` |
| a `\\u`, `\\U` or `\\x` escape (JSON, Python's repr), hex in any case, any zero padding | `\\u002f`, `\\U0000002F`, `\\x2f` |
| URL-encoding, once or more | `%2F`, `%252f` |
| an HTML character reference | `&#47;`, `&#x2F;` (and `&quot;` `&amp;` `&lt;` `&gt;` `&apos;`) |

— escapes nested up to 4 deep — and the key's base64, standard or URL-safe, at any of the three
alignments (so also inside the base64 of a longer text, such as `Bearer KEY`), for keys of 8
characters or more. The pattern is compiled once per key, and every repetition in it is bounded:
its time is linear in the text (the constant grows with the `%`, `&` and `\\` a key holds, and
keys as providers issue them hold none).
"""
from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Mapping

from dsc.errors import DscError

REDACTED = "[redacted]"
_AROUND = " \t\r\n\f\v"  # the whitespace dropped around a key
_HTML_NAMES = {'"': "&quot;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;"}
_URLSAFE = str.maketrans("+/", "-_")
_MIN_BASE64_RUN = 8  # shorter runs would redact ordinary words
_NESTING = 4  # escapes inside escapes: JSON inside JSON puts 2**depth - 1 backslashes before a '/'
_BACKSLASHES = 2**_NESTING - 1


class KeyProblem(DscError, ValueError):
    """Why a key cannot be used; the message names where the key came from, never the key."""

    default_code = "DSC306"


class ApiKey:
    """A checked API key. `str` and `repr` hide it; `header` is the one way it leaves.

    >>> key = ApiKey("sk-a/b\\n")
    >>> key, key.header
    (ApiKey([redacted]), 'Bearer sk-a/b')
    >>> key.redact('{"echo": "Bearer sk-a\\\\/b", "url": "?k=sk-a%2Fb", "u": "\\\\u0073k-a\\\\u002fb"}')
    '{"echo": "Bearer [redacted]", "url": "?k=[redacted]", "u": "[redacted]"}'
    """

    __slots__ = ("_value", "_pattern")

    def __init__(self, value: str, origin: str = "the API key"):
        value = value.strip(_AROUND)
        problem = _problem(value)
        if problem is not None:
            raise KeyProblem(f"{origin} {problem}")
        self._value = value
        self._pattern = _pattern(value)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], name: str) -> "ApiKey":
        """The key in the environment variable `name`; raise KeyProblem when it is unset or unusable.

        >>> ApiKey.from_environ({"K": "sk-1\\r\\n"}, "K").header
        'Bearer sk-1'
        >>> ApiKey.from_environ({"K": "sk-1\\n2"}, "K")
        Traceback (most recent call last):
        dsc.augment.apikey.KeyProblem: the environment variable K (key_env) holds a control character (a line \
break, a tab, …) inside the key; an API key is letters, digits and punctuation (whitespace around it is ignored)
        """
        origin = f"the environment variable {name} (key_env)"
        if not environ.get(name):
            raise KeyProblem(f"{origin} is not set; export the API key in it before the run")
        return cls(environ[name], origin)

    @property
    def header(self) -> str:
        """The `Authorization` header's value."""
        return f"Bearer {self._value}"

    def redact(self, text: str) -> str:
        """`text` with every spelling of the key (see the module docstring) replaced by `[redacted]`."""
        return self._pattern.sub(REDACTED, text)

    def __repr__(self) -> str:
        return f"ApiKey({REDACTED})"

    __str__ = __repr__


def _problem(value: str) -> str | None:
    """What makes a (stripped) key unusable in a header, in words that do not show it."""
    if not value:
        return "holds no key (only whitespace)"
    bad = next((c for c in value if not "!" <= c <= "~"), None)
    if bad is None:
        return None
    what = ("a space" if bad == " " else "a non-ASCII character" if ord(bad) > 0x7F
            else "a control character (a line break, a tab, …)")
    return (f"holds {what} inside the key; an API key is letters, digits and punctuation "
            "(whitespace around it is ignored)")


def _pattern(key: str) -> re.Pattern:
    """The pattern matching `key` (visible ASCII) in each spelling of the module docstring."""
    parts = []
    for c, run in itertools.groupby(key):
        n = len(list(run))
        if c == "\\":  # a run of n backslashes: as they are, doubled once per level of escaping, or escaped
            literal = [rf"\\{{{n << depth}}}" for depth in range(_NESTING + 1)]
            parts.append(f"(?:{'|'.join(literal)}|(?:{'|'.join(_escapes(c))}){{{n}}})")
        else:
            backslashes = rf"\\{{0,{_BACKSLASHES}}}" if c in "/\"'" else ""
            parts += [f"(?:{'|'.join([*_escapes(c), backslashes + re.escape(c)])})"] * n
    return re.compile("|".join(["".join(parts), *map(re.escape, sorted(_base64_runs(key.encode())))]))


def _escapes(c: str) -> list[str]:
    """The spellings of `c` other than itself."""
    code = ord(c)
    escapes = [rf"\\{{1,{_BACKSLASHES}}}(?i:[ux]0{{0,6}}{code:02x})",  # \u002f \U0000002F \x2f
               rf"%(?:25){{0,{_NESTING}}}(?i:{code:02x})",  # %2F %252f
               rf"&#0{{0,6}}{code};", rf"&#(?i:x0{{0,6}}{code:x});"]  # &#47; &#x2F;
    if c in _HTML_NAMES:
        escapes.append(_HTML_NAMES[c])
    return escapes


def _base64_runs(key: bytes) -> set[str]:
    """The base64 characters that depend on `key` alone, wherever in a text it starts (3 alignments).

    >>> base64.b64encode(b"Bearer sk-0123456789")
    b'QmVhcmVyIHNrLTAxMjM0NTY3ODk='
    >>> [run for run in sorted(_base64_runs(b"sk-0123456789")) if run in "QmVhcmVyIHNrLTAxMjM0NTY3ODk="]
    ['NrLTAxMjM0NTY3OD']
    """
    runs = set()
    for lead in range(3):
        encoded = base64.b64encode(bytes(lead) + key).decode("ascii")
        run = encoded[-(-4 * lead // 3):4 * (lead + len(key)) // 3]
        runs |= {run, run.translate(_URLSAFE)}
    return {run for run in runs if len(run) >= _MIN_BASE64_RUN}
