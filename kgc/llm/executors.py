"""Where an LLM request runs: in the calling thread (`llm.executor = "local"`, the default) or as a
task on a Ray cluster (`"ray"`).

Only the request itself moves. `LLMClient` stays on the driver and keeps everything that must be
counted once: the answer cache (checked before a request is dispatched, written when a valid answer
comes back), the rate limiter and the budgets (booked before dispatching), the circuit breaker,
retries with backoff, JSON/schema validation and the usage ledger (counted from the reply the task
returns). A Ray task is therefore one HTTP call through the same backend code as a local run, so
both give the same answers, the same cache and the same artifacts; a task that Ray re-runs because
its worker died is counted once; and a killed Ray run resumes from the cache like a local one.

`llm.limits.concurrency` driver threads each wait on one task, so it bounds the requests in flight across
the whole cluster exactly as it bounds them locally, and the RPM/TPM limits, token/cost budgets
and the breaker hold for the run as a whole, not per worker.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Protocol

from kgc.config import LLMConfig
from kgc.errors import ConfigError
from kgc.llm.base import ChatBackend, Message, RawReply, TransientLLMError
from kgc.raycluster import join_ray, require_ray

EXECUTORS = ("local", "ray")
RAY_TASK_RETRIES = 3  # re-runs of a task whose worker process died (never of an HTTP error)


class RequestExecutor(Protocol):
    """Sends one chat request somewhere and returns the backend's reply (or raises its error)."""

    def chat(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None,
        temperature: float,
        max_tokens: int,
    ) -> RawReply: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Today's behaviour: the request runs in the calling thread of `LLMClient.map`'s pool."""

    def __init__(self, backend: ChatBackend):
        self.backend = backend

    def chat(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None,
        temperature: float,
        max_tokens: int,
    ) -> RawReply:
        return self.backend.chat(
            messages, json_schema=json_schema, temperature=temperature, max_tokens=max_tokens
        )

    def close(self) -> None:
        pass


class RayExecutor:
    """Each request is a Ray task (`chat_on_worker`) that builds the backend from the LLM config once
    per worker process and sends the request; the calling driver thread waits for its reply."""

    def __init__(self, cfg: LLMConfig):
        self._ray = ray = require_ray("llm.executor = 'ray'")
        self._started_here = join_ray(cfg.ray.address, "llm.executor = 'ray'")
        self._cfg_ref = ray.put(worker_config(cfg))
        self._task = ray.remote(max_retries=RAY_TASK_RETRIES, retry_exceptions=False)(chat_on_worker)
        self._task_options = {"num_cpus": cfg.ray.cpus_per_call}

    def chat(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None,
        temperature: float,
        max_tokens: int,
    ) -> RawReply:
        ray = self._ray
        ref = self._task.options(**self._task_options).remote(
            self._cfg_ref, messages, json_schema, temperature, max_tokens
        )
        try:
            reply: RawReply = ray.get(ref)
        except ray.exceptions.RayTaskError as e:
            raise e.cause from None  # the backend's own error (TransientLLMError, LLMError ...)
        except ray.exceptions.RayError as e:
            # The worker died more often than Ray re-runs a task, or the task was lost with its node:
            # the client retries it like any transient failure, and counts it toward the breaker.
            raise TransientLLMError(f"the Ray task was lost: {e}", server_failure=True) from e
        return reply

    def close(self) -> None:
        if self._started_here:
            self._ray.shutdown()


def worker_config(cfg: LLMConfig) -> LLMConfig:
    """The LLM config a worker builds its backend from, with the driver's resolved server address, so
    workers whose environment differs still call the server the cache keys name."""
    if cfg.backend != "openai":
        return cfg
    from kgc.llm.openai_backend import resolve_base_url

    return cfg.model_copy(update={"base_url": resolve_base_url(cfg)})


def chat_on_worker(
    cfg: LLMConfig,
    messages: list[Message],
    json_schema: dict[str, Any] | None,
    temperature: float,
    max_tokens: int,
) -> RawReply:
    """The body of a Ray task: one request through the backend this worker process keeps."""
    backend = _worker_backend(cfg.model_dump_json())
    return backend.chat(messages, json_schema=json_schema, temperature=temperature, max_tokens=max_tokens)


@functools.cache
def _worker_backend(cfg_json: str) -> ChatBackend:
    """One backend per worker process and config: its HTTP connection pool (or loaded model) is
    reused by every task the process runs. The API key is the worker's own OPENAI_API_KEY."""
    from kgc.llm.factory import make_backend

    return make_backend(LLMConfig.model_validate_json(cfg_json), os.environ.get("OPENAI_API_KEY") or None)


def make_executor(cfg: LLMConfig, backend: ChatBackend) -> RequestExecutor:
    """The executor `cfg.executor` names."""
    if cfg.executor == "local":
        return LocalExecutor(backend)
    if cfg.executor == "ray":
        return RayExecutor(cfg)
    raise ConfigError(f"unknown llm.executor {cfg.executor!r}; valid: {', '.join(EXECUTORS)}")
