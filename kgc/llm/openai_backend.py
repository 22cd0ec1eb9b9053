"""Any OpenAI-compatible chat server (OpenAI, vLLM, llama.cpp, llama-cpp-python, Ollama, LM Studio...).

The openai client is built with max_retries=0: retries live in LLMClient, where they are counted
and seen by the circuit breaker. Structured output is requested the strongest way the server
accepts; in "auto" mode the first request finds that way and the rest of the run keeps it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlparse

import openai

from kgc.config import LLMConfig
from kgc.errors import ConfigError, LLMError
from kgc.llm.base import Message, RawReply, RequestTooLargeError, TransientLLMError, Usage
from kgc.llm.completion import NotACompletion, plausible_usage, read_completion
from kgc.llm.deadline import bound_by_deadline, deadline
from kgc.llm.http_status import (
    FAILING_STATUS,
    TRANSIENT_STATUS,
    looks_like_format_rejection,
    retry_after_seconds,
    says_too_large_for_context,
    too_large_for_context,
)

log = logging.getLogger(__name__)

FormatMode = Literal["json_schema", "json_object", "none"]
# Tried in this order by "auto": llama-cpp-python's server answers json_schema with HTTP 500 but
# honours json_object + schema; some servers know neither.
AUTO_ORDER: tuple[FormatMode, ...] = ("json_schema", "json_object", "none")
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal"}


class _FormatRejected(Exception):
    """The server refused the response_format of this request (only raised while probing in auto mode)."""

    def __init__(self, error: openai.APIStatusError):
        super().__init__(str(error))
        self.error = error


def resolve_base_url(cfg: LLMConfig) -> str:
    return (cfg.base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_DEFAULT_BASE_URL).rstrip("/")


def is_local(base_url: str) -> bool:
    host = (urlparse(base_url).hostname or "").lower()
    return host in LOCAL_HOSTS or host.startswith("127.") or host.endswith(".local")


class OpenAIBackend:
    """ChatBackend over the official openai client; thread-safe (one shared HTTP connection pool)."""

    def __init__(self, cfg: LLMConfig, api_key: str | None):
        self.model = cfg.model
        self.base_url = resolve_base_url(cfg)
        if not api_key:
            if not is_local(self.base_url):
                raise ConfigError(
                    f"llm.backend='openai' at {self.base_url} needs an API key: set OPENAI_API_KEY "
                    "(or use a local server, or llm.backend='embedded')"
                )
            api_key = "not-needed"  # local servers ignore it, the openai client insists on one
        self._api_key = api_key
        self._timeout = cfg.timeout
        self._configured_mode = cfg.response_format
        self._mode: FormatMode | Literal["auto"] = cfg.response_format
        self._probe_lock = threading.Lock()
        self._failed_probes = 0  # probes that ended in an error (no answer, so no mode found)
        self._max_bytes = cfg.max_answer_bytes
        self._other_models: set[str] = set()  # models the server answered as besides self.model
        self._warned_too_large = False
        # No redirects: an LLM API that answers elsewhere is misconfigured or hostile, and httpx
        # would follow it to any host (see _map_error).
        http_client = openai.DefaultHttpxClient(timeout=cfg.timeout, follow_redirects=False)
        if not bound_by_deadline(http_client):
            log.warning(
                "this httpx version's connection pool is not the expected one: llm.timeout bounds each "
                "read of the status line and headers, not their sum (the body stays bounded)"
            )
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key,
            timeout=cfg.timeout,
            max_retries=0,
            http_client=http_client,
        )

    @property
    def format_mode(self) -> str:
        """The response_format mode in use: "auto" until the first answer settled it."""
        return self._mode

    def cache_identity(self) -> str:
        # The configured mode, not the probed one: the key of a request must not change mid-run.
        return f"openai|{self.base_url}|{self.model}|{self._configured_mode}"

    def chat(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None,
        temperature: float,
        max_tokens: int,
    ) -> RawReply:
        if json_schema is None:
            return self._send("none", messages, None, temperature, max_tokens)
        mode = self._mode
        if mode != "auto":
            return self._send(mode, messages, json_schema, temperature, max_tokens)
        failed_before = self._failed_probes
        with self._probe_lock:  # one request finds the mode; the others wait and then use it
            if self._mode == "auto":
                if self._failed_probes != failed_before:
                    # The probe this request waited for failed: one after another, each waiting one
                    # more timeout of a hung server, they would keep the run going long after the
                    # circuit breaker opened. It goes back to the client, unsent, to be retried.
                    raise TransientLLMError(
                        f"{self._where()}: not sent, the request finding the response format failed",
                        sent=False,
                    )
                try:
                    return self._probe(messages, json_schema, temperature, max_tokens)
                except LLMError:
                    self._failed_probes += 1
                    raise
            settled = self._mode
        return self._send(settled, messages, json_schema, temperature, max_tokens)

    def _probe(
        self, messages: list[Message], json_schema: dict[str, Any], temperature: float, max_tokens: int
    ) -> RawReply:
        last: _FormatRejected | None = None
        for mode in AUTO_ORDER:
            try:
                reply = self._send(mode, messages, json_schema, temperature, max_tokens, probing=True)
            except _FormatRejected as rejected:
                last = rejected
                continue
            self._mode = mode
            return reply
        assert last is not None
        # Even without response_format the server fails: not a format problem after all.
        raise self._map_error(last.error)

    def _send(
        self,
        mode: FormatMode,
        messages: list[Message],
        json_schema: dict[str, Any] | None,
        temperature: float,
        max_tokens: int,
        probing: bool = False,
    ) -> RawReply:
        extra: dict[str, Any] = {}
        if json_schema is not None and mode != "none":
            # As a raw body field: json_object + schema is not in the openai types, and the client's
            # recursive transform of a large schema costs milliseconds per request.
            extra["response_format"] = response_format(mode, json_schema)
        # llm.timeout bounds the whole request (connect, headers, body: kgc.llm.deadline), and the
        # body is read here, not by the client, so that its size can be capped as it arrives.
        with deadline(self._timeout) as at:
            try:
                with self._client.chat.completions.with_streaming_response.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    temperature=temperature,
                    max_tokens=max_tokens,
                    extra_body=extra or None,
                ) as response:
                    body = self._read_body(response.iter_bytes(), at)
                    charset = response.http_response.charset_encoding
            except openai.APIStatusError as e:
                if probing and looks_like_format_rejection(e) and not too_large_for_context(e):
                    raise _FormatRejected(e) from e
                raise self._map_error(e) from e
            except openai.OpenAIError as e:
                if time.monotonic() >= at:  # cut by the deadline, whatever the HTTP library called it
                    raise self._timed_out("") from e
                raise self._map_error(e) from e
        request = {"messages": messages, "max_tokens": max_tokens, **extra}
        return self._reply(body, charset, request)

    def _read_body(self, chunks: Iterator[bytes], at: float) -> bytes:
        """The whole body (decoded, if compressed), or TransientLLMError when it is still arriving at
        the deadline `at`, grows past llm.max_answer_bytes or breaks off."""
        parts = []
        size = 0
        try:
            for chunk in chunks:
                parts.append(chunk)
                size += len(chunk)
                if size > self._max_bytes:
                    raise TransientLLMError(
                        f"{self._where()}: the answer is larger than llm.max_answer_bytes={self._max_bytes:,} "
                        "bytes (decoded); stopped reading it. If this server's answers are really that "
                        "large, raise llm.max_answer_bytes",
                        server_failure=True,
                    )
                if time.monotonic() > at:
                    raise self._timed_out(" (the answer was still arriving)")
        except TransientLLMError:
            raise
        except Exception as e:  # the HTTP library's errors (httpx or httpx2, by openai's version)
            if time.monotonic() >= at:
                raise self._timed_out(" (the answer was still arriving)") from e
            raise TransientLLMError(
                f"{self._where()}: the answer broke off ({type(e).__name__}: {self._scrub(str(e))})",
                server_failure=True,
            ) from e
        return b"".join(parts)

    def _timed_out(self, detail: str) -> TransientLLMError:
        return TransientLLMError(
            f"{self._where()}: request timed out{detail}: llm.timeout={self._timeout:g} s bounds the whole "
            "request, from connecting to the answer's last byte",
            server_failure=True,
        )

    def _reply(self, body: bytes, charset: str | None, request: dict[str, Any]) -> RawReply:
        """The text, finish reason and usage of an HTTP 200 body; a body that is no chat completion
        (empty, not JSON or not text, an error object, no choice, no message) is a server failure,
        retried."""
        try:
            completion = read_completion(body, charset)
        except NotACompletion as e:
            error = e.error if isinstance(e.error, dict) else {"message": e.error}
            if says_too_large_for_context(error.get("code"), error.get("message")):
                # llama.cpp and vLLM builds that report this in a 200's body: as with a 400, asking
                # again gets the same refusal
                raise self._too_large(f"HTTP 200 with an error: {error.get('message')}") from None
            raise TransientLLMError(
                f"{self._where()}: the server answered HTTP 200 with {self._scrub(str(e))}",
                server_failure=True,
            ) from None
        if completion.model is not None:
            self._note_model(completion.model)
        usage = plausible_usage(
            completion.usage, request_chars=len(json.dumps(request)), max_tokens=request["max_tokens"]
        )
        if usage is None:  # omitted (some servers) or nonsense: estimated, so budgets still work
            prompt_chars = sum(len(m.get("content", "")) for m in request["messages"])
            usage = (prompt_chars // 4, len(completion.text) // 4)
        return RawReply(completion.text, Usage(*usage), finish_reason=completion.finish_reason)

    def _note_model(self, answered: str) -> None:
        """Say once per name when the server answers as a model other than the one asked for (a
        dated version of it, "gpt-4o-2024-08-06" for "gpt-4o", is the same): the answers are cached
        under the name asked for, so a server that swaps models mixes them silently otherwise."""
        if answered.startswith(self.model) or answered in self._other_models:
            return
        self._other_models.add(answered)
        log.warning(
            "%s answered as model %r; its answers are cached under llm.model=%r",
            self._where(),
            answered,
            self.model,
        )

    def _where(self) -> str:
        return f"model {self.model!r} at {self.base_url}"

    def _scrub(self, text: str) -> str:
        """Server messages may echo the key (even partly): never let it reach logs or files."""
        if len(self._api_key) >= 8:  # a dummy key like "x" would mangle every message
            text = text.replace(self._api_key, "***")
        return re.sub(r"\b(sk|key)-[A-Za-z0-9_\-*]{6,}", r"\1-***", text)

    def _too_large(self, said: str) -> RequestTooLargeError:
        """The server's refusal of one request as too large for the model's context (`said`: its
        status and message), warned about once while the run goes on."""
        refused = RequestTooLargeError(
            f"{self._where()}: the request is too large for the model's context ({self._scrub(said)[:200]}): "
            "lower extraction.max_chars (the text of one prompt) or llm.max_output_tokens, or give the "
            "model a larger context"
        )
        if not self._warned_too_large:  # said once while the run goes on; each item is recorded
            self._warned_too_large = True
            log.warning("%s. Such items fail (see llm_failures.jsonl), the others go on", refused)
        return refused

    def _map_error(self, e: openai.OpenAIError) -> LLMError:
        where = self._where()
        if isinstance(e, openai.APITimeoutError):
            return self._timed_out("")
        if isinstance(e, openai.APIConnectionError):
            # openai says only "Connection error."; the HTTP library's error says which.
            cause = e.__cause__
            detail = self._scrub(f"{type(cause).__name__}: {cause}" if cause is not None else str(e))
            connecting = cause is None or "Connect" in type(cause).__name__  # ConnectError, ConnectTimeout
            what = "cannot connect" if connecting else "the connection failed"
            return TransientLLMError(f"{where}: {what} ({detail})", server_failure=True)
        # The body of a 401 quotes the key partly: say nothing from it.
        if isinstance(e, openai.AuthenticationError):
            return LLMError(f"{where}: the server refused the API key (HTTP 401); check OPENAI_API_KEY")
        if isinstance(e, openai.PermissionDeniedError):
            return LLMError(
                f"{where}: the server refused access (HTTP 403); check OPENAI_API_KEY and that it may use "
                "llm.model"
            )
        if isinstance(e, openai.RateLimitError) and e.code == "insufficient_quota":
            # OpenAI's 429 for an account out of credit: waiting will not help, and would make every
            # item use up its retries first.
            return LLMError(
                f"{where}: the account's quota is used up (HTTP 429 insufficient_quota); check its plan "
                "and billing, then run the same command again (answers received so far are cached)"
            )
        if isinstance(e, openai.APIStatusError) and too_large_for_context(e):
            return self._too_large(f"HTTP {e.status_code}: {e.message}")
        if isinstance(e, openai.NotFoundError):
            return LLMError(
                f"{where}: not found (HTTP 404): check llm.model and llm.base_url ({self._scrub(e.message)})"
            )
        if isinstance(e, openai.APIStatusError) and (
            e.status_code in TRANSIENT_STATUS or e.status_code >= 500
        ):
            return TransientLLMError(
                f"{where}: HTTP {e.status_code} ({self._scrub(e.message)})",
                retry_after=retry_after_seconds(e.response.headers),
                server_failure=e.status_code in FAILING_STATUS or e.status_code >= 500,
                rate_limited=e.status_code == 429,
            )
        if isinstance(e, openai.APIStatusError) and 300 <= e.status_code < 400:
            location = self._scrub(e.response.headers.get("location", "(no Location header)"))
            return LLMError(
                f"{where}: the server redirects (HTTP {e.status_code}) to {location}. kgc follows no "
                "redirect of an LLM API (the prompts and the API key would go there): if that is the "
                "right server, set llm.base_url to it"
            )
        if isinstance(e, openai.APIStatusError):
            return LLMError(f"{where}: HTTP {e.status_code} ({self._scrub(e.message)})")
        return LLMError(f"{where}: {self._scrub(str(e))}")


def response_format(mode: FormatMode, json_schema: dict[str, Any]) -> dict[str, Any]:
    """The response_format payload of one mode; json_object carries the schema (llama.cpp honours it)."""
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {
                "name": schema_name(json_schema),
                "schema": json_schema,
                "strict": is_strict_compatible(json_schema),
            },
        }
    return {"type": "json_object", "schema": json_schema}


def schema_name(json_schema: dict[str, Any]) -> str:
    """OpenAI wants ^[a-zA-Z0-9_-]{1,64}$; pydantic puts the class name in "title"."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", str(json_schema.get("title", "answer")))[:64]
    return name or "answer"


def is_strict_compatible(node: Any) -> bool:
    """OpenAI strict mode needs every object closed (additionalProperties false) with all keys required."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            closed = node.get("additionalProperties") is False
            if not closed or set(node.get("required", [])) != set(node["properties"]):
                return False
        return all(is_strict_compatible(v) for v in node.values())
    if isinstance(node, list):
        return all(is_strict_compatible(v) for v in node)
    return True
