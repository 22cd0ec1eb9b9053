"""Thread-safe guards shared by every call of one LLMClient: rate pacing and the circuit breaker."""

from __future__ import annotations

import threading
import time

from kgc.errors import LLMUnavailableError


class TokenBucket:
    """Paces consumption to `rate` units per second with at most `capacity` units of burst.

    `reserve` books the units at once and returns how long the caller must wait, so concurrent
    callers get successive slots instead of waking together. The level may go negative: a request
    bigger than the bucket is allowed when the bucket is full, and its debt delays the next ones.
    """

    def __init__(self, rate: float, capacity: float):
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = rate
        self.capacity = capacity
        self._level = capacity
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def reserve(self, amount: float) -> float:
        with self._lock:
            self._refill()
            wanted = min(amount, self.capacity)
            wait = 0.0 if self._level >= wanted else (wanted - self._level) / self.rate
            self._level -= amount
            return wait

    def refund(self, amount: float) -> None:
        """Give back units booked but not used (a reply shorter than the estimate, a failed request)."""
        with self._lock:
            self._refill()
            self._level = min(self.capacity, self._level + amount)

    def _refill(self) -> None:
        now = time.monotonic()
        self._level = min(self.capacity, self._level + (now - self._updated) * self.rate)
        self._updated = now


class RateLimiter:
    """Requests-per-minute and tokens-per-minute limits; requests are spaced evenly, never bursted."""

    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None):
        self._requests = (
            TokenBucket(requests_per_minute / 60.0, capacity=1.0) if requests_per_minute else None
        )
        # One second's worth of tokens as burst: smooth, yet a single large request is never blocked.
        self._tokens = (
            TokenBucket(tokens_per_minute / 60.0, capacity=tokens_per_minute / 60.0)
            if tokens_per_minute
            else None
        )

    def acquire(self, estimated_tokens: int) -> None:
        """Block until a request of about `estimated_tokens` may start."""
        wait = 0.0
        if self._requests is not None:
            wait = max(wait, self._requests.reserve(1.0))
        if self._tokens is not None:
            wait = max(wait, self._tokens.reserve(float(estimated_tokens)))
        if wait > 0:
            time.sleep(wait)

    def settle(self, estimated_tokens: int, actual_tokens: int) -> None:
        """Correct the token booking once the real usage is known."""
        if self._tokens is not None and actual_tokens < estimated_tokens:
            self._tokens.refund(float(estimated_tokens - actual_tokens))


class CircuitBreaker:
    """Opens after `threshold` consecutive server failures (connection errors, timeouts, 5xx); once
    open every call fails fast. A hung or failing server thus stops the run within a few timeouts
    instead of costing every item all its retries."""

    def __init__(self, threshold: int, model: str):
        self.threshold = max(1, threshold)
        self.model = model
        self._consecutive = 0
        self._last_error = ""
        self._open = False
        self._lock = threading.Lock()

    def check(self) -> None:
        with self._lock:
            if self._open:
                raise self._error()

    def record_failure(self, error: Exception) -> None:
        """Count one server failure; raises LLMUnavailableError when the breaker opens."""
        with self._lock:
            self._consecutive += 1
            self._last_error = str(error)
            if self._consecutive >= self.threshold:
                self._open = True
            if self._open:
                raise self._error()

    def record_success(self) -> None:
        with self._lock:
            self._consecutive = 0

    def _error(self) -> LLMUnavailableError:
        return LLMUnavailableError(
            f"the LLM server for model {self.model!r} is unreachable or failing ({self._consecutive} "
            f"consecutive failed requests: connection errors, timeouts or HTTP 5xx; last: {self._last_error}). "
            "The run stopped at a resumable point: every answer received so far is cached, so start the "
            "same command again once the server is up."
        )
