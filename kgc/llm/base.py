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


class TransientLLMError(LLMError):
    """Worth retrying: 429, 5xx, timeouts. `retry_after` is the server's hint in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None, unreachable: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.unreachable = unreachable  # connection refused/reset: counts toward the circuit breaker


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
