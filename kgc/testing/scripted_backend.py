"""An in-process scripted LLM backend, for fast tests of stages and pipelines (no socket, no model).

Like simonw/llm's mock model: queue replies and they are returned in order; with nothing queued, the
first matching rule answers, else the same deterministic defaults as the scripted HTTP server
(triplets from the text's frequent phrases, first option of every fusion conflict).

    backend = ScriptedBackend()
    backend.queue({"triplets": []}, "not json", TransientLLMError("boom"))
    pipeline = Pipeline(cfg, run_dir, corpus=corpus, llm_factory=scripted_factory(backend, cfg.llm))

Part of kgc's public testing API (with `kgc.testing.scripted_server`), for users who test code built
on kgc.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kgc.artifacts import LLM_CACHE, LLM_FAILURES
from kgc.config import LLMConfig
from kgc.llm.base import Message, RawReply, Usage
from kgc.llm.client import LLMClient
from kgc.llm.limits import RetryPolicy
from kgc.rundir import RunDir
from kgc.testing.replies import Rule, check_rules, detect_task, reply_text

Reply = str | dict[str, Any] | Exception  # text, a JSON object, or an error to raise


class ScriptedBackend:
    """A ChatBackend answering from a queue, then rules, then defaults; it records every request."""

    def __init__(
        self, replies: list[Reply] | None = None, *, rules: list[Rule] | None = None, model: str = "scripted"
    ):
        self.model = model
        self.rules = check_rules(rules or [])
        self.requests: list[list[Message]] = []
        self._queue: deque[Reply] = deque(replies or [])
        self._lock = threading.Lock()

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def requests_for(self, task: str) -> list[list[Message]]:
        """The recorded requests of one task ('extraction', 'fusion', 'other')."""
        return [m for m in self.requests if detect_task(m, None)[0] == task]

    def chat(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None,
        temperature: float,
        max_tokens: int,
    ) -> RawReply:
        with self._lock:
            self.requests.append(list(messages))
            reply = self._queue.popleft() if self._queue else None
        if isinstance(reply, Exception):
            raise reply
        text = reply if isinstance(reply, str) else json.dumps(reply) if reply is not None else None
        if text is None:
            text = self._default(messages, json_schema)
        prompt_chars = sum(len(m.get("content", "")) for m in messages)
        return RawReply(text=text, usage=Usage(prompt_chars // 4 + 1, len(text) // 4 + 1))

    def cache_identity(self) -> str:
        return f"scripted:{self.model}"

    def _default(self, messages: list[Message], json_schema: dict[str, Any] | None) -> str:
        name = str((json_schema or {}).get("title", ""))
        task, prompt = detect_task(messages, {"type": "json_schema", "json_schema": {"name": name}})
        return reply_text(list(messages), task, prompt, self.rules)


NO_WAIT = RetryPolicy(base_delay=0.0, max_delay=0.0, max_retry_after=0.0)


def scripted_factory(backend: ScriptedBackend, cfg: LLMConfig) -> Callable[[RunDir], LLMClient]:
    """A Pipeline `llm_factory` answering with `backend` (cache and failures file in the run directory)."""

    def factory(run: RunDir) -> LLMClient:
        cache: Path | None = run / LLM_CACHE if cfg.cache else None
        return LLMClient(
            backend,
            cfg,
            cache_path=cache,
            failures_path=run / LLM_FAILURES,
            retry_policy=NO_WAIT,
            show_progress=False,
        )

    return factory
