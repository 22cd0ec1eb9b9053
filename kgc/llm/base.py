"""The one interface every LLM backend implements, and the errors backends raise.

A backend only turns chat messages into text. Caching, retries, validation, rate limits, budgets
and accounting live once in `kgc.llm.client.LLMClient`, above every backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from kgc.errors import LLMError

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class RawReply:
    text: str
    usage: Usage
    finish_reason: str | None = None  # "stop", "length" (cut at max_tokens), ...; None when not said

    @property
    def truncated(self) -> bool:
        """The answer stopped at max_tokens: whatever it holds is not the whole answer."""
        return self.finish_reason == "length"


class TransientLLMError(LLMError):
    """Worth retrying: 429, 5xx, timeouts. `retry_after` is the server's hint in seconds, if any.

    `server_failure`: the server did not answer properly (connection refused or reset, timeout, 5xx).
    These count toward the circuit breaker; a rate limit (429) does not, the server is pacing us.
    `sent`: False when the request never left (it is not counted as one).
    `rate_limited`: an HTTP 429, the server refusing to answer now (a long streak of them stops the run).
    """

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        server_failure: bool = False,
        sent: bool = True,
        rate_limited: bool = False,
    ):
        super().__init__(message)
        self.retry_after = retry_after
        self.server_failure = server_failure
        self.sent = sent
        self.rate_limited = rate_limited


class RequestTooLargeError(LLMError):
    """The server refused one request as too large for the model's context (HTTP 413, or a 400 or
    a 200's error body that says so). Not retried and not the run's end: that item fails and is
    recorded, the others go on; the message says which settings make prompts smaller."""


class ChatBackend(Protocol):
    """Turns messages into a reply. `json_schema`, when given, is the JSON Schema the reply must follow;
    a backend enforces it as well as its server allows (response_format, grammar) or ignores it."""

    model: str

    def chat(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None,
        temperature: float,
        max_tokens: int,
    ) -> RawReply: ...

    def cache_identity(self) -> str:
        """What distinguishes this backend's answers in the cache besides the request (model, format mode)."""
        ...
