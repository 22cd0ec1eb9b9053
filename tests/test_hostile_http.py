"""A hostile server at the HTTP level, over real sockets through the openai client: a response that
crawls from its status line, bodies too large (plain or gzip), redirects, a body that breaks off or
is longer than it said. Each ends as a retry, a clear stop, or the answer; never a hang or an
answer nobody asked for."""

from __future__ import annotations

import gzip
import json
import shutil
import ssl
import subprocess
import time
from pathlib import Path

import openai
import pytest

from kgc.errors import LLMError, LLMUnavailableError
from kgc.llm.deadline import bound_by_deadline
from kgc.stages.extraction import ExtractionAnswer
from kgc.testing.http_server import completion_body
from kgc.testing.scripted_server import ScriptedServer
from tests.fixtures_llm import make_scripted_client, scripted_llm_config
from tests.test_llm_client import counts, expected, failures, prompt

RETRIED = (2, 0, 1, 0, 0)  # requests, cache hits, retries, invalid, failed
OTHER = {"triplets": [{"head": "bomb", "relation": "Used-for", "tail": "memory"}]}


def completion(answer: dict, padding: int = 0) -> bytes:
    """A valid chat completion whose content is `answer`, with `padding` spaces of JSON whitespace."""
    body = json.dumps(completion_body({"messages": prompt()}, json.dumps(answer)))
    return (body[:-1] + " " * padding + "}").encode("utf-8")


def test_a_response_crawling_from_its_status_line_ends_at_llm_timeout(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """Every byte of the headers comes well within the read timeout, all of them far past it. On
    cdcdbc2 httpx bounded each read only: the request lasted as long as the headers (~25 s here)."""
    scripted_server.add_faults([{"trickle_headers": 0.25}])  # ~100 bytes of status line and headers
    cfg = scripted_llm_config(scripted_server, timeout=1.0, concurrency=1)
    started = time.monotonic()
    with make_scripted_client(cfg, tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
        assert counts(client.usage()) == RETRIED
    assert time.monotonic() - started < 10.0  # 1 s and a retry; the headers alone would take 25 s


@pytest.mark.parametrize(
    "fault",
    [
        {"body": completion(OTHER, padding=300_000)},
        # 30 MB of whitespace, 30 kB on the wire: the cap counts what is decoded
        {
            "body": gzip.compress(completion(OTHER, padding=30_000_000)),
            "headers": {"Content-Encoding": "gzip"},
        },
    ],
    ids=["plain", "gzip"],
)
def test_an_answer_larger_than_max_answer_bytes_is_not_read_and_counts_as_failed(
    scripted_server: ScriptedServer, tmp_path: Path, fault: dict
) -> None:
    """On cdcdbc2 any size was read into memory and, valid JSON, taken as the answer."""
    scripted_server.add_faults([fault])
    cfg = scripted_llm_config(scripted_server, max_answer_bytes=2**16, max_retries=0)
    with make_scripted_client(cfg, tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") is None
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
    [failure] = failures(tmp_path)
    assert (
        "the answer is larger than llm.max_answer_bytes=65,536 bytes (decoded); stopped reading it"
        in (failure["attempts"][0]["error"])
    )


@pytest.mark.parametrize("where", ["another host", "the same server"])
def test_a_redirect_stops_the_run_naming_where_it_points(
    scripted_server: ScriptedServer, tmp_path: Path, where: str
) -> None:
    """On cdcdbc2 the openai client followed a redirect to any host (httpx dropped the key there,
    the prompts went all the same)."""
    target = "http://192.0.2.1/v1/chat/completions"
    if where == "the same server":
        target = scripted_server.base_url + "/chat/completions/"
    scripted_server.add_faults([{"redirect": target}])
    with (
        make_scripted_client(scripted_llm_config(scripted_server), tmp_path) as client,
        pytest.raises(LLMError, match=rf"redirects \(HTTP 307\) to {target}\. kgc follows no redirect"),
    ):
        client.complete(prompt(), ExtractionAnswer, stage="extraction")
    assert scripted_server.stats.total == 1


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize(
    "fault",
    [
        # the connection closes half-way through the body it announced
        {"wire": HEAD + b"Content-Length: 4000\r\n\r\n" + completion(OTHER)[:200]},
        # garbage instead of a status line
        {"wire": b"SSH-2.0-OpenSSH_9.6\r\n"},
        # a chunked body whose chunk size is no number
        {"wire": HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + completion(OTHER) + b"\r\n0\r\n\r\n"},
        # a header line of a megabyte
        {"wire": HEAD + b"X-Padding: " + b"a" * 2**20 + b"\r\n\r\n"},
        # a Content-Length shorter than the body: the rest stays on the kept-alive connection, where
        # the next request must not read it as its answer
        {"body": completion(OTHER) + completion(OTHER), "headers": {"Content-Length": "40"}},
    ],
    ids=["cut mid-body", "no HTTP", "bad chunk", "huge header", "wrong Content-Length"],
)
def test_a_broken_response_costs_a_retry_and_leaves_nothing_behind(
    scripted_server: ScriptedServer, tmp_path: Path, fault: dict
) -> None:
    """The stale bytes of a wrong Content-Length may cost a second retry (httpcore may reuse the
    connection and meet them); never an answer that belongs to another request."""
    scripted_server.add_faults([fault])
    cfg = scripted_llm_config(scripted_server, concurrency=1)
    with make_scripted_client(cfg, tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
        requests, _, retries, invalid, failed = counts(client.usage())
        assert (invalid, failed) == (0, 0) and 1 <= retries <= 2 and requests == retries + 1
        second = prompt("machine translation")
        assert client.complete(second, ExtractionAnswer, stage="extraction") == expected(
            "machine translation"
        )


def test_the_deadline_reaches_the_connection_pools_of_the_installed_openai_client() -> None:
    """kgc.llm.deadline wraps httpx's pools by their (private) attributes: an httpx that moved them
    must fail here, not leave llm.timeout bounding each read only."""
    http_client = openai.DefaultHttpxClient()
    assert bound_by_deadline(http_client)
    assert bound_by_deadline(http_client)  # a second call wraps nothing twice
    backend = http_client._transport._pool._network_backend  # type: ignore[attr-defined]
    assert type(backend).__module__ == "kgc.llm.deadline"
    assert type(backend._inner).__module__ != "kgc.llm.deadline"


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 413, "message": "Request Entity Too Large"},
        {
            "status": 400,
            "code": "context_length_exceeded",
            "message": "This model's maximum context length is 4096 tokens.",
        },
        {"status": 400, "message": "the request exceeds the available context size, try increasing it"},
    ],
    ids=["413", "OpenAI", "llama.cpp"],
)
def test_a_prompt_too_large_for_the_context_fails_its_item_once_naming_the_settings(
    scripted_server: ScriptedServer, tmp_path: Path, fault: dict, caplog: pytest.LogCaptureFixture
) -> None:
    """On cdcdbc2 "auto" took the 400 for a refusal of the response format (3 requests), then
    stopped the whole run with 'HTTP 400 (...)'; a 413 stopped it too. Now the item fails without a
    retry, the next goes on, and the message says which settings make prompts smaller."""
    scripted_server.add_faults([fault])
    with make_scripted_client(scripted_llm_config(scripted_server), tmp_path) as client:  # "auto"
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") is None
        assert scripted_server.stats.total == 1
        assert client.complete(prompt("b"), ExtractionAnswer, stage="extraction") == expected("b")
    [failure] = failures(tmp_path)
    said = "the request is too large for the model's context (HTTP {}: ".format(fault["status"])
    assert said in failure["attempts"][0]["error"]
    assert "lower extraction.max_chars (the text of one prompt) or llm.max_output_tokens" in caplog.text


@pytest.mark.parametrize(
    "error",
    [
        {"code": 400, "message": "the request exceeds the available context size, try increasing it"},
        {"message": "This model's maximum context length is 4096 tokens.", "type": "BadRequestError"},
        {"code": "context_length_exceeded", "message": "too long"},
    ],
    ids=["llama.cpp", "vLLM", "OpenAI code"],
)
def test_a_200_whose_body_says_the_context_is_too_small_fails_its_item_once(
    scripted_server: ScriptedServer, tmp_path: Path, error: dict, caplog: pytest.LogCaptureFixture
) -> None:
    """Some servers put the refusal in a 200's body. On bc4dcdc that was a server failure, retried
    (and counted towards the circuit breaker) though every retry gets the same refusal."""
    scripted_server.add_faults([{"body": json.dumps({"error": error})}])
    with make_scripted_client(scripted_llm_config(scripted_server), tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") is None
        assert scripted_server.stats.total == 1
        assert client.complete(prompt("b"), ExtractionAnswer, stage="extraction") == expected("b")
    [failure] = failures(tmp_path)
    assert (
        "the request is too large for the model's context (HTTP 200 with an error: "
        in (failure["attempts"][0]["error"])
    )
    assert (
        caplog.text.count("lower extraction.max_chars (the text of one prompt) or llm.max_output_tokens") == 1
    )


def test_a_200_with_another_error_object_is_still_retried(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    scripted_server.add_faults([{"body": json.dumps({"error": {"message": "model is loading"}})}])
    with make_scripted_client(scripted_llm_config(scripted_server), tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
        assert counts(client.usage()) == RETRIED


def test_a_refused_access_stops_at_once_saying_so(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    scripted_server.add_faults([{"status": 403}])
    with (
        make_scripted_client(scripted_llm_config(scripted_server), tmp_path) as client,
        pytest.raises(
            LLMError, match=r"refused access \(HTTP 403\); check OPENAI_API_KEY and that it may use"
        ),
    ):
        client.complete(prompt(), ExtractionAnswer, stage="extraction")
    assert scripted_server.stats.total == 1


def test_a_server_refusing_everything_with_429_stops_the_run_after_a_streak(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """On cdcdbc2 429s counted for nothing: every item spent all its retries (12, with up to 60 s of
    Retry-After each) and failed, the run never stopped. Answers between 429s reset the streak."""
    scripted_server.add_faults([{"status": 429, "retry_after": 0}] * 4)  # 4, then answered: no stop
    cfg = scripted_llm_config(scripted_server, circuit_breaker_rate_limited=5, max_retries=30, concurrency=1)
    with make_scripted_client(cfg, tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
        scripted_server.add_faults([{"status": 429, "retry_after": 0}] * 100)
        with pytest.raises(
            LLMUnavailableError, match=r"5 requests in a row refused with HTTP 429 \(rate limit\).*resumable"
        ):
            client.map(
                lambda seed: client.complete(prompt(seed), ExtractionAnswer, stage="extraction"),
                ["a", "b", "c"],
                stage="extraction",
                description="x",
            )
    assert scripted_server.stats.total == 5 + 5


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command for a certificate")
def test_over_https_the_deadline_bounds_the_request_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kgc.llm.deadline wraps the stream TLS starts on as well (OpenAI's API is https)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this certificate only
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    with ScriptedServer(tls=tls) as server:
        assert server.base_url.startswith("https://")
        server.add_faults([{"trickle_headers": 0.25}])
        cfg = scripted_llm_config(server, timeout=1.0, concurrency=1)
        started = time.monotonic()
        with make_scripted_client(cfg, tmp_path, api_key="sk-test-0123456789") as client:
            assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
            assert counts(client.usage()) == RETRIED
        assert time.monotonic() - started < 10.0  # 1 s and a retry; the headers alone would take 25 s
