"""Reading the body of an HTTP 200 from an OpenAI-compatible server as a chat completion, trusting
nothing in it: the bytes may not be UTF-8, the body may be an event stream nobody asked for, the
answer may sit in a tool call, and the token counts may be nonsense.

`read_completion` returns what the answer says or raises NotACompletion saying what is wrong; the
backend turns that into a retry (the server failed, not the model).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class NotACompletion(ValueError):
    """The body is no chat completion; the message says why, for the user. `error` is the body's
    error object, when it is one (`{"error": ...}`)."""

    def __init__(self, said: str, error: Any = None):
        super().__init__(said)
        self.error = error


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None
    model: str | None  # the model the server says answered
    usage: tuple[Any, Any]  # (prompt_tokens, completion_tokens) as sent: check with `plausible_usage`


def read_completion(body: bytes, charset: str | None = None) -> Completion:
    """The completion in `body` (a JSON chat completion, or the chunks of an event stream)."""
    text = decode(body, charset)
    if text.lstrip().startswith("data:"):
        return _from_events(text)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: brackets nested thousands deep
        raise NotACompletion(f"no chat completion: {text[:100]!r}") from None
    try:
        choice = data["choices"][0]
        message = choice["message"]
        content = message.get("content")
        finish_reason = choice.get("finish_reason")
    except (LookupError, TypeError, AttributeError):
        error = data.get("error") if isinstance(data, dict) else None
        said = f"an error: {str(error)[:200]}" if error else f"no chat completion: {text[:100]!r}"
        raise NotACompletion(said, error) from None
    if not content:
        content = _tool_call_arguments(message.get("tool_calls")) or content
    content = "" if content is None else content  # no content (a filtered answer): invalid, asked again
    if not isinstance(content, str) or not isinstance(finish_reason, str | None):
        raise NotACompletion(f"a malformed choice: {text[:100]!r}")
    model = data.get("model")
    return Completion(
        content, finish_reason, model if isinstance(model, str) else None, _token_counts(data.get("usage"))
    )


def decode(body: bytes, charset: str | None) -> str:
    """The body as text: UTF-8 (or the UTF-16/32 JSON allows, by its first bytes); else the charset
    the server declared. UTF-8 is tried first because a server declaring Latin-1 and sending UTF-8
    is common, and reading that as Latin-1 would turn every accent into two wrong letters."""
    try:
        return body.decode(json.detect_encoding(body))
    except UnicodeDecodeError as e:
        if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
            try:
                return body.decode(charset)
            except (LookupError, UnicodeDecodeError):
                pass
        declared = f" nor the declared charset {charset!r}" if charset else ""
        raise NotACompletion(f"a body that is not UTF-8{declared} (bad byte at {e.start})") from None


def _token_counts(usage: Any) -> tuple[Any, Any]:
    """(prompt_tokens, completion_tokens) of a `usage` object as sent (None for what is missing)."""
    if not isinstance(usage, dict):
        return None, None
    return usage.get("prompt_tokens"), usage.get("completion_tokens")


def _tool_call_arguments(tool_calls: Any) -> str | None:
    """The arguments of the one function call a server may put the answer in (kgc asks for no tool:
    some servers still carry structured output that way); None when there is not exactly one."""
    if isinstance(tool_calls, list) and len(tool_calls) == 1 and isinstance(tool_calls[0], dict):
        function = tool_calls[0].get("function")
        arguments = function.get("arguments") if isinstance(function, dict) else None
        return arguments if isinstance(arguments, str) else None
    return None


def _from_events(text: str) -> Completion:
    """The completion an event stream (`data: {chunk}` lines, `stream: true`'s format) spells out."""
    parts: list[str] = []
    finish_reason: str | None = None
    model: str | None = None
    usage: tuple[Any, Any] = (None, None)
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue  # blank lines, comments, "event:" and "id:" fields
        payload = line[len("data:") :].strip()
        if payload == "[DONE]":
            break
        try:
            chunk = json.loads(payload)
            choice = (chunk.get("choices") or [{}])[0]
            content = (choice.get("delta") or {}).get("content")
        except (ValueError, LookupError, AttributeError, TypeError, RecursionError):
            raise NotACompletion(f"an event stream with a broken chunk: {payload[:100]!r}") from None
        if isinstance(content, str):
            parts.append(content)
        finish_reason = choice.get("finish_reason") or finish_reason
        if isinstance(chunk.get("model"), str):
            model = chunk["model"]
        if isinstance(chunk.get("usage"), dict):
            usage = _token_counts(chunk["usage"])
    else:
        raise NotACompletion("an event stream that stops before its end ('data: [DONE]')")
    return Completion("".join(parts), finish_reason, model, usage)


def plausible_usage(usage: tuple[Any, Any], *, request_chars: int, max_tokens: int) -> tuple[int, int] | None:
    """The token counts, when a server could have meant them: whole numbers, not negative, a prompt
    of at most about a token per character of the request (plus a chat template's few hundred), an
    answer within the max_tokens asked (twice, for servers counting special tokens). A count of
    10**15 would spend every budget at once; None then, and the caller estimates."""
    prompt, answer = usage
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (prompt, answer)):
        return None
    if prompt > request_chars + 4096 or answer > 2 * max_tokens + 64:
        return None
    return prompt, answer
