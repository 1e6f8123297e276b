"""A small client for OpenAI-compatible chat-completions endpoints (stdlib `urllib`, no new dependency).

`POST {endpoint}/chat/completions` with `{"model", "messages", "temperature": 0, "seed"}`; the reply's
`choices[0].message.content` is the generation. The request goes to the endpoint's normalised URL
(`dsc.engines.permissions.endpoint_url`: the form the operator's allowance was checked against),
never to the spelling in the spec. The API key (`dsc.augment.apikey`), when the spec names an
environment variable for it, goes in the `Authorization: Bearer` header and nowhere else:
everything `complete` returns or raises — replies, error bodies, redirect targets — has passed
through the key's redaction, which knows the key in every spelling a server may echo it in.

Failures, and what each costs:

| failure | handling |
|---|---|
| HTTP 429 or 5xx, a timeout, a dropped connection | retried up to `retries` times, waiting `backoff × 2^n` seconds (at most `max_backoff`; a 429's `Retry-After` wins when it says more) |
| still failing after the retries | that request's generation is rejected, with the reason |
| no connection at all after the retries | the endpoint is marked down: the requests still waiting are rejected at once ("endpoint unreachable") instead of each waiting out its retries |
| HTTP 401, 403 or 404 | the run stops (a wrong key or URL fails every request alike) |
| a redirect (HTTP 3xx) | the run stops: redirects are never followed, so rows and the key go only to the URL the spec declares and the operator allowed |
| another 4xx (e.g. a text over the model's context) | that request is rejected with the server's message |
| a reply that is not JSON, has no `choices[0].message.content`, holds text that is not valid Unicode, or stopped at the length limit | rejected as malformed (or truncated), not retried |
"""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from dsc.augment.apikey import ApiKey
from dsc.augment.generate import Result
from dsc.engines.permissions import endpoint_url

FATAL_STATUS = {401: "the endpoint refused the API key", 403: "the endpoint refused access",
                404: "the endpoint has no chat-completions route"}
_EXCERPT = 160


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Hand a redirect back as the HTTP error it is instead of following it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class EndpointSettings:
    """Timeouts and retry policy (seconds)."""

    timeout: float = 60.0
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    connect_timeout: float = 5.0


class EndpointFatal(Exception):
    """A failure that every request would share (bad key, wrong URL, nothing listening): stop the run."""


class ChatClient:
    """Sends chat-completions requests to one endpoint and model; safe to share between threads.

    Raises EndpointFatal for an endpoint URL dsc sends nothing to (see `endpoint_url`).
    """

    def __init__(self, endpoint: str, model: str, key: ApiKey | None,
                 settings: EndpointSettings = EndpointSettings()):
        try:
            self.endpoint = endpoint_url(endpoint)
        except ValueError as err:
            raise EndpointFatal(f"dsc sends nothing to {endpoint}, which {err}") from None
        self.url = f"{self.endpoint}/chat/completions"
        self.model = model
        self._key = key
        self.settings = settings
        self.down: str | None = None  # why the endpoint is unreachable, once retries proved it
        self.attempts = 0  # HTTP requests sent, retries included
        self._lock = threading.Lock()

    def _redact(self, text: str | None) -> str | None:
        """`text` without the API key, in any spelling (servers echo headers in errors and replies)."""
        return self._key.redact(text) if self._key is not None and text is not None else text

    def preflight(self) -> None:
        """Raise EndpointFatal when nothing accepts a TCP connection at the endpoint's host and port."""
        try:
            with socket.create_connection((self.endpoint.host, self.endpoint.port),
                                          timeout=self.settings.connect_timeout):
                pass
        except OSError as err:
            raise EndpointFatal(f"the endpoint {self.endpoint} is unreachable ({_why(err)})") from None

    def complete(self, prompt: str, params: dict[str, Any]) -> Result:
        """One generation for `prompt`: the reply's text, or the reason there is none. Whatever it
        returns or raises has lost the API key (the one way out of the client for server text)."""
        try:
            result = self._complete(prompt, params)
        except EndpointFatal as err:
            raise EndpointFatal(self._redact(str(err))) from None
        return Result(self._redact(result.text), self._redact(result.reason))

    def _complete(self, prompt: str, params: dict[str, Any]) -> Result:
        body = json.dumps({"model": self.model, "messages": [{"role": "user", "content": prompt}], **params},
                          ensure_ascii=False).encode("utf-8")
        last, unreachable, hint = "", False, None
        tries = self.settings.retries + 1
        for attempt in range(tries):
            if self.down is not None:
                return Result(reason=f"endpoint unreachable: {self.down}")
            if attempt:
                time.sleep(self._wait(attempt, hint))
                hint = None
            try:
                status, headers, raw = self._post(body)
            except (TimeoutError, socket.timeout):
                last, unreachable = f"timed out after {self.settings.timeout:g} s", False
                continue
            except (OSError, http.client.HTTPException) as err:
                last, unreachable = f"connection failed ({_why(err)})", _refused(err)
                continue
            if status == 200:
                return self._parse(raw)
            if status in FATAL_STATUS:
                raise EndpointFatal(f"{FATAL_STATUS[status]} (HTTP {status} from {self.url}: {self._excerpt(raw)})")
            if 300 <= status < 400:
                where = str(headers.get("Location", "")) if headers is not None else ""
                raise EndpointFatal(f"the endpoint redirects (HTTP {status} from {self.url} to "
                                    f"{self._excerpt(where, 'an unnamed place')}); dsc follows no redirect, "
                                    "so name the final URL in the spec")
            if status == 429 or status >= 500:
                last, unreachable = f"HTTP {status}", False
                hint = _retry_after(headers) if status == 429 else None
                continue
            return Result(reason=f"the endpoint refused the request: HTTP {status}: {self._excerpt(raw)}")
        if unreachable:
            with self._lock:
                self.down = self.down or last
        return Result(reason=f"{last}, after {tries} tries")

    def _wait(self, attempt: int, hint: float | None) -> float:
        """Seconds before try `attempt` (1-based retries): exponential, or a longer Retry-After, capped.

        >>> c = ChatClient("http://h/v1", "m", None, EndpointSettings(backoff=0.5, max_backoff=3))
        >>> [c._wait(n, None) for n in (1, 2, 3, 4)], c._wait(1, 2.0)
        ([0.5, 1.0, 2.0, 3], 2.0)
        """
        wait = min(self.settings.max_backoff, self.settings.backoff * 2 ** (attempt - 1))
        return min(self.settings.max_backoff, max(wait, hint or 0.0))

    def _post(self, body: bytes) -> tuple[int, Any, bytes]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key is not None:
            headers["Authorization"] = self._key.header
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with self._lock:
            self.attempts += 1
        try:
            with _OPENER.open(request, timeout=self.settings.timeout) as reply:
                return reply.status, reply.headers, reply.read()
        except urllib.error.HTTPError as err:
            with err:
                return err.code, err.headers, err.read()
        except urllib.error.URLError as err:
            if isinstance(err.reason, (TimeoutError, socket.timeout)):
                raise TimeoutError() from None
            raise OSError(err.reason) from None

    def _parse(self, raw: bytes) -> Result:
        try:
            data = json.loads(raw)
        except ValueError:
            return Result(reason=f"malformed response: not JSON: {self._excerpt(raw)}")
        choice = None
        if isinstance(data, dict) and isinstance(data.get("choices"), list) and data["choices"]:
            choice = data["choices"][0]
        message = choice.get("message") if isinstance(choice, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):  # content parts: [{"type": "text", "text": …}, …]
            texts = [p.get("text") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
            content = "".join(texts) if texts else None
        if not isinstance(content, str):
            return Result(reason=f"malformed response: no text at choices[0].message.content: {self._excerpt(raw)}")
        if isinstance(choice, dict) and choice.get("finish_reason") == "length":
            return Result(reason="truncated: the endpoint stopped at its length limit")
        try:
            content.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate escape ("\ud800"): no file or table can hold it
            return Result(reason="malformed response: the text is not valid Unicode")
        return Result(content.strip())

    def _excerpt(self, raw: bytes | str, empty: str = "(empty body)") -> str:
        """The start of a server's text, on one line, for a message: redacted before it is cut, so
        that no cut leaves the start of a key."""
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        text = self._redact(" ".join(text.split()))
        return (text[:_EXCERPT] + "…") if len(text) > _EXCERPT else (text or empty)


def _retry_after(headers) -> float | None:
    """A Retry-After header in seconds (the HTTP-date form is ignored: it needs the clock)."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _refused(err: BaseException) -> bool:
    """True for failures that mean nothing is listening (as opposed to one dropped connection)."""
    return isinstance(err, (ConnectionRefusedError, socket.gaierror)) or (
        isinstance(err, OSError) and isinstance(err.args[0] if err.args else None, (ConnectionRefusedError,
                                                                                    socket.gaierror)))


def _why(err: BaseException) -> str:
    inner = err.args[0] if isinstance(err, OSError) and err.args and isinstance(err.args[0], BaseException) else err
    text = getattr(inner, "strerror", None) or str(inner) or type(inner).__name__
    return text
