"""LLMClient: the one place for what every LLM call needs, above whichever backend answers.

Cache, retries with backoff, the circuit breaker, tolerant JSON parsing with corrective re-asks,
budgets, rate limits, accounting and bounded concurrency live here once. Stages only call
`complete(messages, Schema, stage=...)` and `map(fn, items, ...)`.

What `complete` does with each outcome:
- a schema-valid answer: returned (and cached);
- an answer cut off at max_tokens (the server says finish_reason "length"): asked again once with
  twice the budget; cut off again, the item fails. A cut answer's JSON is never repaired and kept;
- an invalid answer (not JSON, not schema-valid, or JSON cut short although the server said "stop",
  as a flaky proxy or server does): asked again with a correction, up to `max_invalid_retries` times;
- still invalid after that, transient errors after `max_retries` retries, or a request too large for
  the model's context (HTTP 413, or an error saying so; not retried): None, attempts in the failures file;
- the token/cost budget or the deadline is spent: BudgetExceededError (DeadlineExceededError); the
  server is unreachable, hangs or keeps failing: LLMUnavailableError (all resumable: answers so far
  are cached);
- a configuration problem (bad key, unknown model, bad request): LLMError.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from kgc.config import LLMConfig
from kgc.errors import BudgetExceededError, ConfigError, DeadlineExceededError
from kgc.llm.base import ChatBackend, Message, RawReply, RequestTooLargeError, TransientLLMError, Usage
from kgc.llm.cache import AnswerCache, request_key
from kgc.llm.executors import LocalExecutor, RequestExecutor
from kgc.llm.jsonparse import InvalidAnswerError, corrective_turn, json_schema_of, parse_answer
from kgc.llm.limits import CircuitBreaker, RateLimiter, RetryPolicy
from kgc.llm.usage import UsageLedger, UsageReport

log = logging.getLogger(__name__)
LOG_PROGRESS_SECONDS = 30.0

T = TypeVar("T", bound=BaseModel)
X = TypeVar("X")
R = TypeVar("R")


@dataclass
class _Attempt:
    raw: str | None
    error: str
    cut_off: bool = False


class _NoAnswer(Exception):
    """No answer for this request: its retries ran out, or the server refused it as too large."""


class LLMClient:
    """Thread-safe; one per run. Close it (or use `with`) to close the cache file."""

    def __init__(
        self,
        backend: ChatBackend,
        cfg: LLMConfig,
        *,
        cache_path: Path | None,
        failures_path: Path | None,
        retry_policy: RetryPolicy | None = None,
        show_progress: bool = True,
        started_at: float | None = None,
        executor: RequestExecutor | None = None,
    ):
        """`started_at` (time.monotonic()) is when the run started, for `cfg.budget.deadline_seconds`;
        default: now. `executor` is where each request runs (default: in the calling thread)."""
        if cfg.budget.max_cost is not None and backend.model not in cfg.budget.prices:
            raise ConfigError(
                f"llm.budget.max_cost is set but llm.budget.prices has no entry for model {backend.model!r}: "
                "add [input, output] prices per 1M tokens"
            )
        self.backend = backend
        self.executor = executor or LocalExecutor(backend)
        self.cfg = cfg
        self.retry_policy = retry_policy or RetryPolicy()
        self.show_progress = show_progress
        self.failures_path = failures_path
        self._cache = AnswerCache(cache_path) if cfg.cache and cache_path is not None else None
        self._identity = backend.cache_identity()
        self._limiter = RateLimiter(cfg.limits.requests_per_minute, cfg.limits.tokens_per_minute)
        self._breaker = CircuitBreaker(
            failures=cfg.limits.circuit_breaker_failures,
            streak=cfg.limits.circuit_breaker_streak,
            rate_limited=cfg.limits.circuit_breaker_rate_limited,
            window=cfg.limits.circuit_breaker_window,
            seconds=cfg.limits.circuit_breaker_seconds or cfg.timeout,
            model=backend.model,
        )
        self._ledger = UsageLedger()
        self._failures_lock = threading.Lock()
        started = time.monotonic() if started_at is None else started_at
        self._deadline = (
            None if cfg.budget.deadline_seconds is None else started + cfg.budget.deadline_seconds
        )

    # -- public API -----------------------------------------------------------------------------

    def complete(self, messages: list[Message], schema: type[T], *, stage: str) -> T | None:
        """A validated `schema` instance for `messages`, or None when none could be had (recorded)."""
        json_schema = json_schema_of(schema)
        key = request_key(
            self._identity, messages, json_schema, self.cfg.temperature, self.cfg.max_output_tokens
        )
        cached = self._from_cache(key, schema)
        if cached is not None:
            self._count(stage, cache_hits=1)
            return cached
        attempts: list[_Attempt] = []
        conversation = list(messages)
        max_tokens = self.cfg.max_output_tokens
        corrections_left = self.cfg.limits.max_invalid_retries
        while True:
            try:
                reply = self._request(conversation, json_schema, stage, max_tokens)
            except _NoAnswer as e:
                attempts.append(_Attempt(raw=None, error=str(e)))
                break
            if reply.truncated:
                # The budget was too small, not the answer wrong: the same question with more room.
                self._count(stage, invalid=1, truncated=1)
                error = f"the answer was cut off at max_tokens={max_tokens}"
                attempts.append(_Attempt(raw=reply.text, error=error, cut_off=True))
                if max_tokens > self.cfg.max_output_tokens:
                    break  # cut off even with twice the budget: this item fails
                max_tokens *= 2
                continue
            try:
                if reply.finish_reason == "content_filter":  # what came is not the model's whole answer
                    raise InvalidAnswerError("the server withheld the answer (finish_reason content_filter)")
                answer = parse_answer(reply.text, schema)
            except InvalidAnswerError as e:
                # JSON cut short with finish_reason "stop" lands here too: a broken answer, not a
                # small budget (doubling it would not help), so it is asked again like any invalid one.
                self._count(stage, invalid=1)
                attempts.append(_Attempt(raw=reply.text, error=str(e)))
                if corrections_left == 0:
                    break
                corrections_left -= 1
                conversation = [*messages, *corrective_turn(reply.text, e, json_schema)]
                continue
            if self._cache is not None:
                self._cache.put(key, stage, answer.model_dump_json())
            return answer
        self._count(stage, failed=1)
        self._record_failure(stage, messages, schema, attempts)
        return None

    def map(self, fn: Callable[[X], R], items: Sequence[X], *, stage: str, description: str) -> list[R]:
        """`[fn(item) for item in items]` on `cfg.limits.concurrency` threads, in order, with a progress bar.

        When a call raises (BudgetExceededError, LLMUnavailableError, anything), no further item is
        started, the running ones finish (their answers get cached) and the first error is re-raised.
        """
        results: dict[int, R] = {}
        first_error: BaseException | None = None
        limit = max(1, self.cfg.limits.concurrency)
        with (
            self._progress() as progress,
            ThreadPoolExecutor(max_workers=limit, thread_name_prefix=f"kgc-{stage}") as pool,
        ):
            task = progress.add_task(description, total=len(items), stats="")
            # Without a terminal the bar is not drawn: a log line every LOG_PROGRESS_SECONDS instead.
            logged_at = time.monotonic() if not progress.console.is_terminal else None
            running: dict[Future[R], int] = {}
            next_index = 0
            while True:
                while first_error is None and next_index < len(items) and len(running) < limit:
                    running[pool.submit(fn, items[next_index])] = next_index
                    next_index += 1
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    index = running.pop(future)
                    try:
                        results[index] = future.result()
                    except BaseException as e:
                        first_error = first_error or e
                    progress.update(task, advance=1, stats=self._progress_stats(stage))
                if logged_at is not None and time.monotonic() - logged_at >= LOG_PROGRESS_SECONDS:
                    logged_at = time.monotonic()
                    log.info("%s: %d/%d (%s)", stage, len(results), len(items), self._progress_stats(stage))
        if first_error is not None:
            raise first_error
        return [results[i] for i in range(len(items))]

    def for_stage(self, stage: str) -> StageLLM:
        """This client seen by one stage: its calls and usage are filed under that stage."""
        return StageLLM(self, stage)

    def usage(self, stage: str | None = None) -> UsageReport:
        """Totals of this client's calls, for one stage or all."""
        return self._ledger.total(stage=stage)

    def usage_by_model(self) -> dict[str, UsageReport]:
        return {m: self._ledger.total(model=m) for m in self._ledger.models()}

    @staticmethod
    def estimate_tokens(messages: list[Message]) -> int:
        """About 4 characters per token: good enough for budgets, pacing and --dry-run estimates."""
        return (sum(len(m.get("content", "")) for m in messages) + 3) // 4

    def close(self) -> None:
        self.executor.close()
        if self._cache is not None:
            self._cache.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request, with retries ---------------------------------------------------------------

    def _request(
        self, messages: list[Message], json_schema: dict[str, Any], stage: str, max_tokens: int
    ) -> RawReply:
        """One answer from the backend, retrying transient errors; raises _NoAnswer."""
        for attempt in range(self.cfg.limits.max_retries + 1):
            self._breaker.check()
            estimate = self.estimate_tokens(messages) + max_tokens
            self._limiter.acquire(estimate)
            self._check_budget()
            self._breaker.started()
            try:
                reply = self.executor.chat(
                    messages,
                    json_schema=json_schema,
                    temperature=self.cfg.temperature,
                    max_tokens=max_tokens,
                )
            except TransientLLMError as e:
                self._count(stage, requests=int(e.sent))
                self._limiter.settle(estimate, 0)
                if e.server_failure:
                    self._breaker.failed(e)  # raises LLMUnavailableError when it opens
                elif e.rate_limited:
                    self._breaker.rate_limited(e)  # so may a long streak of 429s
                else:
                    self._breaker.ignored()
                if attempt == self.cfg.limits.max_retries:
                    raise _NoAnswer(f"gave up after {attempt + 1} attempts: {e}") from e
                self._count(stage, retries=1)
                self._sleep(self.retry_policy.delay(attempt, e.retry_after))
                continue
            except BaseException as e:
                self._count(stage, requests=1)
                self._breaker.ignored()
                if isinstance(e, RequestTooLargeError):  # this item fails, not the run
                    raise _NoAnswer(str(e)) from e
                raise
            self._count(stage, requests=1)
            self._breaker.succeeded()
            self._limiter.settle(estimate, reply.usage.total)
            self._count_usage(stage, reply.usage)
            return reply
        raise AssertionError("unreachable: the loop returns or raises")

    def _sleep(self, seconds: float) -> None:
        """Wait before a retry, but not past the deadline (the next check then stops the run)."""
        if self._deadline is not None:
            seconds = min(seconds, max(0.0, self._deadline - time.monotonic()))
        time.sleep(seconds)

    def _check_budget(self) -> None:
        """Refuse to start a request once a budget is spent (running requests may overshoot a little)."""
        spent = self.usage()
        if self._deadline is not None and time.monotonic() >= self._deadline:
            raise DeadlineExceededError(
                f"the run's deadline has passed: llm.budget.deadline_seconds={self.cfg.budget.deadline_seconds:g} "
                f"({spent.requests} requests, {spent.failed} failed). " + _RESUME_HINT
            )
        if (
            self.cfg.budget.max_tokens_total is not None
            and spent.total_tokens >= self.cfg.budget.max_tokens_total
        ):
            raise BudgetExceededError(
                f"LLM token budget spent: {spent.total_tokens:,} tokens used of "
                f"llm.budget.max_tokens_total={self.cfg.budget.max_tokens_total:,} ({spent.requests} requests). "
                + _RESUME_HINT
            )
        if self.cfg.budget.max_cost is not None and spent.cost >= self.cfg.budget.max_cost:
            raise BudgetExceededError(
                f"LLM cost budget spent: {spent.cost:.4f} used of llm.budget.max_cost={self.cfg.budget.max_cost} "
                f"({spent.total_tokens:,} tokens, {spent.requests} requests). " + _RESUME_HINT
            )

    # -- bookkeeping -------------------------------------------------------------------------------

    def _count(self, stage: str, **counts: Any) -> None:
        self._ledger.add(stage, self.backend.model, **counts)

    def _count_usage(self, stage: str, usage: Usage) -> None:
        price_in, price_out = self.cfg.budget.prices.get(self.backend.model, (0.0, 0.0))
        cost = (usage.prompt_tokens * price_in + usage.completion_tokens * price_out) / 1_000_000
        self._count(
            stage, prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens, cost=cost
        )

    def _from_cache(self, key: str, schema: type[T]) -> T | None:
        if self._cache is None:
            return None
        stored = self._cache.get(key)
        if stored is None:
            return None
        try:
            return schema.model_validate_json(stored)
        except ValueError:
            return None  # written by an older model class: ask again

    def _record_failure(
        self, stage: str, messages: list[Message], schema: type[BaseModel], attempts: list[_Attempt]
    ) -> None:
        """Append the failed call to the failures JSONL: nothing the model said is lost."""
        if self.failures_path is None:
            return
        record = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "stage": stage,
            "model": self.backend.model,
            "schema": schema.__name__,
            "reason": _failure_reason(attempts[-1]) if attempts else "transient",
            "messages": messages,
            "attempts": [asdict(a) for a in attempts],
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._failures_lock:
            self.failures_path.parent.mkdir(parents=True, exist_ok=True)
            with self.failures_path.open("a", encoding="utf-8") as f:
                f.write(line)

    def _progress(self) -> Progress:
        return Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not self.show_progress,
        )

    def _progress_stats(self, stage: str) -> str:
        u = self.usage(stage)
        return f"req {u.requests} · cached {u.cache_hits} · failed {u.failed} · {u.total_tokens:,} tok"


class StageLLM:
    """The LLM as a stage uses it: `complete` and `map` without naming the stage, which the pipeline
    binds once (`LLMClient.for_stage`), so usage cannot be filed under a misspelt stage name."""

    def __init__(self, client: LLMClient, stage: str):
        self.client = client
        self.stage = stage

    def complete(self, messages: list[Message], schema: type[T]) -> T | None:
        return self.client.complete(messages, schema, stage=self.stage)

    def map(self, fn: Callable[[X], R], items: Sequence[X], *, description: str) -> list[R]:
        return self.client.map(fn, items, stage=self.stage, description=description)

    def usage(self) -> UsageReport:
        return self.client.usage(self.stage)


_RESUME_HINT = (
    "Every answer received so far is cached: run the same command again to resume (each run gets "
    "the budget afresh), or raise the budget in the config / KGC_LLM__* environment variables."
)


def _failure_reason(last: _Attempt) -> str:
    """Why a call failed, by its last attempt: "transient" (no answer), "truncated" or "invalid"."""
    return "transient" if last.raw is None else "truncated" if last.cut_off else "invalid"
