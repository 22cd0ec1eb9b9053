"""Guards shared by every call of one LLMClient: backoff between retries, rate pacing (thread-safe) and
the circuit breaker (thread-safe)."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass

from kgc.errors import LLMUnavailableError


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between retries of transient errors: base * 2**attempt, jittered, capped."""

    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 60.0  # the server's Retry-After is honoured up to this

    def delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.max_delay, self.base_delay * 2**attempt) * random.uniform(0.5, 1.0)
        if retry_after is None:
            return backoff
        return max(backoff, min(retry_after, self.max_retry_after))


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
    """Stops the run when the server is down, hung or failing nearly every request, and only then.

    It opens, for good (every later call fails fast), when either
    - requests have waited `seconds` on the server in all without one success, and at least two of them
      failed: a hung server, whose requests end only at the timeout, stops the run within about two
      timeouts. Only time with a request in flight counts, not the backoff between retries, so a flaky
      server that answers errors at once never gets there; or
    - `streak` requests in a row failed, two more for each failure among the `window` requests before
      them: a server that never answered, or answered well and then went down, stops after `streak`
      (6) failed requests, while a blip of fewer does not. A server that fails often makes streaks
      often, so its streak must be longer: with f failures in the 20 before, 6 + 2f in a row is about
      as unlikely (1e-10..1e-9) at any failure rate up to one half. Early in a run little is known:
      a server failing half the requests at random stops about one run in 25 (README); or
    - `failures` of the last `window` requests failed: a server that fails nearly everything yet
      answers now and then (19 of 20 at a failure rate of one half: about once in 50,000).
    Failures are connection errors, timeouts and HTTP 5xx. A 429 (the server pacing us) counts as
    neither failure nor success, but `rate_limited` of them in a row, with no answer between, stop
    the run too: a server (or an account) refusing everything would otherwise cost every item all
    its retries, hours of backoff for a whole corpus.
    """

    def __init__(
        self, *, streak: int, failures: int, window: int, seconds: float, model: str, rate_limited: int = 50
    ):
        self.failures = max(1, failures)
        self.streak = max(1, streak)
        self.rate_limit_streak = max(1, rate_limited)
        self._limited_since_success = 0
        self.seconds = seconds
        self.model = model
        self._outcomes: deque[bool] = deque(maxlen=max(window, self.failures))  # True: failed
        self._in_flight = 0
        self._busy_since = 0.0  # when the requests in flight started waiting (or the last success)
        self._waited = 0.0  # seconds waited since the last success, before _busy_since
        self._failed_since_success = 0
        self._failed_before_streak = 0  # failures among the window's requests before the current streak
        self._answered = False
        self._reason = ""
        self._last_error = ""
        self._open = False
        self._lock = threading.Lock()

    def check(self) -> None:
        with self._lock:
            if self._open:
                raise self._error()

    def started(self) -> None:
        """A request goes to the server now."""
        with self._lock:
            if self._in_flight == 0:
                self._busy_since = time.monotonic()
            self._in_flight += 1

    def succeeded(self) -> None:
        with self._lock:
            now = self._end()
            self._outcomes.append(False)
            self._waited, self._busy_since, self._failed_since_success = 0.0, now, 0
            self._limited_since_success = 0
            self._answered = True

    def ignored(self) -> None:
        """A request ended neither failed nor succeeded (a 429, a refused request)."""
        with self._lock:
            self._end()

    def rate_limited(self, error: Exception) -> None:
        """A request was refused with HTTP 429; raises LLMUnavailableError after a long streak."""
        with self._lock:
            self._end()
            self._limited_since_success += 1
            if not self._open and self._limited_since_success >= self.rate_limit_streak:
                self._reason = (
                    f"{self._limited_since_success} requests in a row refused with HTTP 429 (rate limit)"
                )
                self._last_error, self._open = str(error), True
            if self._open:
                raise self._error()

    def failed(self, error: Exception) -> None:
        """A request failed at the server; raises LLMUnavailableError when the breaker opens."""
        with self._lock:
            waited = self._waited_until(time.monotonic())
            self._end()
            if self._failed_since_success == 0:
                self._failed_before_streak = sum(self._outcomes)
            self._outcomes.append(True)
            self._failed_since_success += 1
            self._last_error = str(error)
            if not self._open:
                self._reason = self._why_open(waited)
                self._open = bool(self._reason)
            if self._open:
                raise self._error()

    def _why_open(self, waited: float) -> str:
        """Why the breaker opens after this failure; "" when it stays closed."""
        in_a_row = self._failed_since_success
        if in_a_row >= 2 and waited >= self.seconds:
            return f"{in_a_row} requests failed and none succeeded in {waited:.1f} s of waiting on the server"
        if in_a_row >= self.streak + 2 * self._failed_before_streak:
            since = "since the last answer" if self._answered else "and none has ever been answered"
            return f"{in_a_row} requests in a row failed with connection errors, timeouts or HTTP 5xx {since}"
        failed_recently = sum(self._outcomes)
        if failed_recently >= self.failures:
            return (
                f"{failed_recently} of the last {len(self._outcomes)} requests failed with "
                "connection errors, timeouts or HTTP 5xx"
            )
        return ""

    def _waited_until(self, now: float) -> float:
        return self._waited + (now - self._busy_since if self._in_flight else 0.0)

    def _end(self) -> float:
        now = time.monotonic()
        self._in_flight -= 1
        if self._in_flight == 0:
            self._waited += now - self._busy_since
        return now

    def _error(self) -> LLMUnavailableError:
        return LLMUnavailableError(
            f"the LLM server for model {self.model!r} is down, hung or failing ({self._reason}; "
            f"last error: {self._last_error}). The run stopped at a resumable point: every answer "
            "received so far is cached, so start the same command again once the server is up."
        )
