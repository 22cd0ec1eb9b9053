"""One deadline for a whole HTTP request: connect, request, status line, headers and body.

httpx's timeouts bound each socket operation, not the request: a server that sends a byte of its
headers every few seconds holds a request for ever (httpx has no total timeout, encode/httpx#1450).
The network backend of the client's connection pools is wrapped so that every connect, read and
write of a thread inside `deadline(seconds)` waits at most until that thread's deadline. A read
after it raises at once, whichever layer (headers, body, TLS) is reading.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

_local = threading.local()  # .at: time.monotonic() by which this thread's request must be over


class DeadlineExceeded(TimeoutError):
    """The request's deadline passed while it was still connecting, sending or receiving."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Within the block, this thread's HTTP requests end by `seconds` from now; yields the deadline."""
    previous = getattr(_local, "at", None)
    _local.at = time.monotonic() + seconds
    try:
        yield _local.at
    finally:
        _local.at = previous


def _bounded(timeout: float | None) -> float | None:
    """`timeout` cut to what is left of this thread's deadline (none set: `timeout` as it is)."""
    at: float | None = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the request's deadline (llm.timeout) passed")
    return left if timeout is None else min(timeout, left)


class _Stream:
    """A network stream whose waits end at the deadline (the httpcore NetworkStream interface)."""

    def __init__(self, inner: Any):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._inner.read(max_bytes, _bounded(timeout))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    """A network backend whose connections are `_Stream`s (the httpcore NetworkBackend interface)."""

    def __init__(self, inner: Any):
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _Stream:
        stream = self._inner.connect_tcp(host, port, _bounded(timeout), local_address, socket_options)
        return _Stream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _Stream:
        return _Stream(self._inner.connect_unix_socket(path, _bounded(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bound_by_deadline(http_client: Any) -> bool:
    """Wrap the network backend of every connection pool of an httpx (or httpx2) Client; False when
    the client is not built as expected (then only each socket operation is bounded, by httpx)."""
    transports = [getattr(http_client, "_transport", None), *getattr(http_client, "_mounts", {}).values()]
    pools: list[Any] = [getattr(t, "_pool", None) for t in transports if t is not None]
    if not pools or not all(hasattr(pool, "_network_backend") for pool in pools):
        return False
    for pool in pools:
        if not isinstance(pool._network_backend, _Backend):
            pool._network_backend = _Backend(pool._network_backend)
    return True
