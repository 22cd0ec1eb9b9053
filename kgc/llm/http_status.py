"""What an HTTP error status from an OpenAI-compatible server means for kgc: worth a retry, a
refusal of the response format, a prompt too large for the model's context, and the server's
wait hint (Retry-After)."""

from __future__ import annotations

import email.utils
import re
import time
from typing import Any

import openai

TRANSIENT_STATUS = {408, 409, 429}  # plus every 5xx
# Of the transient statuses, the ones that say the server is failing (for the circuit breaker): 408
# and 5xx. A 429 means it is alive and pacing us; a 409 is about one request.
FAILING_STATUS = {408}
FORMAT_WORDS = ("response_format", "json_schema", "json_object", "schema")
CONTEXT_WORDS = re.compile(
    r"context (length|size|window)|maximum context|too many tokens|prompt is too long|input is too long",
    re.IGNORECASE,
)
MAX_RETRY_AFTER_HEADER = 3600.0  # ignore absurd hints; LLMClient caps the actual wait further


def too_large_for_context(e: openai.APIStatusError) -> bool:
    """HTTP 413, or a 400 saying the prompt and answer exceed the context: by OpenAI's error code,
    else by the words OpenAI, vLLM, llama.cpp and Ollama use (their messages differ)."""
    if e.status_code == 413:
        return True
    return e.status_code == 400 and says_too_large_for_context(e.code, e.message)


def says_too_large_for_context(code: object, message: object) -> bool:
    """An error's code or message says the prompt and answer exceed the model's context."""
    return code == "context_length_exceeded" or (
        isinstance(message, str) and bool(CONTEXT_WORDS.search(message))
    )


def looks_like_format_rejection(e: openai.APIStatusError) -> bool:
    """A 400/422 refuses the request as sent; a 500 counts only when it names the format (llama.cpp
    servers answer 500 'response_format type must be one of "text" or "json_object"'), so a
    transient 500 on the first request does not downgrade the whole run."""
    if e.status_code in (400, 422):
        return True
    text = str(e).lower()
    return e.status_code == 500 and any(word in text for word in FORMAT_WORDS)


def retry_after_seconds(headers: Any) -> float | None:
    """The server's wait hint: retry-after-ms, retry-after in seconds, or retry-after as an HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return _plausible(float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return _plausible(float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return _plausible(when.timestamp() - time.time())


def _plausible(seconds: float) -> float | None:
    return seconds if 0 <= seconds <= MAX_RETRY_AFTER_HEADER else None
