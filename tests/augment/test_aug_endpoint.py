"""The chat-completions client against a loopback server: retries, timeouts, malformed replies, the key."""
from __future__ import annotations

import socket

import pytest
from aug_support import ChatServer

from dsc.augment.apikey import ApiKey
from dsc.augment.endpoint import ChatClient, EndpointFatal, EndpointSettings

FAST = EndpointSettings(timeout=0.5, retries=3, backoff=0.01, max_backoff=0.05, connect_timeout=0.5)
PROMPT = "Paraphrase the text below.\n\nthe cat sat on the mat"
KEY = ApiKey("sk-test-0123456789abcdef")
RAW_KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def server():
    with ChatServer(hang=1.5) as s:
        yield s


def client(server, key=None, settings=FAST):
    return ChatClient(server.url, "fake-model", key, settings)


def test_a_reply_is_the_message_content_and_the_request_is_chat_completions(server):
    result = client(server).complete(PROMPT, {"temperature": 0, "seed": 3})
    assert result.text == "on the mat the cat sat indeed"
    (body,) = server.bodies
    assert body == {"model": "fake-model", "messages": [{"role": "user", "content": PROMPT}], "temperature": 0,
                    "seed": 3}
    assert server.auth == [None]  # no key_env: no Authorization header


@pytest.mark.parametrize("failures", [[429], [500, 502], [503, 429, 500]])
def test_429_and_5xx_are_retried(server, failures):
    server.plan.extend(failures)
    c = client(server)
    assert c.complete(PROMPT, {}).text == "on the mat the cat sat indeed"
    assert server.count == len(failures) + 1 == c.attempts


def test_a_request_that_keeps_failing_is_a_reject_with_the_reason(server):
    server.plan.extend([500] * 4)
    result = client(server).complete(PROMPT, {})
    assert not result.ok and result.reason == "HTTP 500, after 4 tries"
    assert server.count == 4


def test_a_timeout_is_retried(server):
    server.plan.append("timeout")
    result = client(server).complete(PROMPT, {})
    assert result.text == "on the mat the cat sat indeed"
    assert server.count == 2


def test_timeouts_every_time_say_so(server):
    server.plan.extend(["timeout"] * 2)
    result = client(server, settings=EndpointSettings(timeout=0.3, retries=1, backoff=0.01)).complete(PROMPT, {})
    assert result.reason == "timed out after 0.3 s, after 2 tries"


@pytest.mark.parametrize("step, reason", [
    ("malformed", "malformed response: not JSON: <html>oops</html>"),
    ("no-choices", 'malformed response: no text at choices[0].message.content: {"choices": []}'),
    ("length", "truncated: the endpoint stopped at its length limit"),
    ("surrogate", "malformed response: the text is not valid Unicode"),
])
def test_malformed_replies_are_rejects_not_retried(server, step, reason):
    server.plan.append(step)
    result = client(server).complete(PROMPT, {})
    assert (result.text, result.reason) == (None, reason)
    assert server.count == 1


@pytest.mark.parametrize("status, words", [(401, "refused the API key"), (403, "refused access")])
def test_a_refused_key_stops_everything(server, status, words):
    server.plan.append(status)
    with pytest.raises(EndpointFatal, match=words):
        client(server, KEY).complete(PROMPT, {})


def test_a_wrong_route_stops_everything(server):
    c = ChatClient(server.url.removesuffix("/v1") + "/v2", "m", None, FAST)
    with pytest.raises(EndpointFatal, match="no chat-completions route"):
        c.complete(PROMPT, {})


def test_another_4xx_is_a_reject_with_the_server_message(server):
    server.plan.append(400)
    result = client(server).complete(PROMPT, {})
    assert result.reason == 'the endpoint refused the request: HTTP 400: {"error": {"message": "status 400"}}'


def test_the_key_goes_in_the_header_and_never_comes_back(server):
    server.plan.append("echo-key")
    result = client(server, KEY).complete(PROMPT, {})
    assert server.auth == [f"Bearer {RAW_KEY}"]
    assert RAW_KEY not in result.text and "[redacted]" in result.text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_preflight_finds_a_down_endpoint():
    c = ChatClient(f"http://127.0.0.1:{_closed_port()}/v1", "m", None, FAST)
    with pytest.raises(EndpointFatal, match=r"is unreachable \(.*refused"):
        c.preflight()


def test_an_endpoint_that_goes_down_fails_the_rest_at_once():
    c = ChatClient(f"http://127.0.0.1:{_closed_port()}/v1", "m", None, FAST)
    first = c.complete(PROMPT, {})
    assert first.reason.startswith("connection failed (") and first.reason.endswith("after 4 tries")
    attempts = c.attempts
    second = c.complete(PROMPT, {})
    assert second.reason.startswith("endpoint unreachable: connection failed")
    assert c.attempts == attempts  # no more waiting out retries
