"""The socket side of the scripted server: a threaded HTTP/1.1 server that answers `GET /v1/models`
and hands each `POST /v1/chat/completions` body to a `respond` function; the shapes of the answers
(a chat completion, an error object) it sends."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHARS_PER_TOKEN = 4  # the usage it reports and the max_tokens cut use the same rough count


@dataclass
class Answer:
    status: int
    body: dict[str, Any] | bytes  # bytes: sent as they are (an empty or broken body)
    headers: dict[str, str] = field(default_factory=dict)  # beside (or replacing) Content-Type/-Length
    trickle: float = 0.0  # seconds between the body's bytes, sent one by one (a server that crawls)
    trickle_headers: float = 0.0  # the same for the status line and headers
    wire: bytes | None = None  # sent instead of all the above, then the connection closed


class ChatHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a handler sleeping in a "delay" fault
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], respond: Callable[[dict[str, Any]], Answer | None]):
        self.respond = respond
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake handlers idling on keep-alive connections so their threads end with the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client gave up (timeout test) or went away: nothing to report
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the openai client expects
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server: ChatHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # thousands of requests in the benchmark: stay quiet

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            models = {"object": "list", "data": [{"id": "scripted", "object": "model", "owned_by": "kgc"}]}
            self._send(Answer(200, models))
        else:
            self._send(_not_found(self.path))

    def do_POST(self) -> None:
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(_not_found(self.path))
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send(
                Answer(400, {"error": {"message": "the body is not JSON", "type": "invalid_request_error"}})
            )
            return
        answer = self.server.respond(request)
        if answer is None:
            self.close_connection = True  # "drop": no status line at all
            return
        self._send(answer)

    def _send(self, answer: Answer) -> None:
        """The answer written by hand, not by send_response: it may be trickled from its first byte."""
        body = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), **answer.headers}
        try:
            reason = HTTPStatus(answer.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {answer.status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if answer.wire is not None or headers.get("Connection", "").lower() == "close":
            self.close_connection = True
        try:
            if answer.wire is not None:
                self._write(answer.wire, 0.0)
                return
            self._write(head, answer.trickle_headers)
            self._write(body, answer.trickle)
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client timed out and left

    def _write(self, data: bytes, trickle: float) -> None:
        if trickle <= 0:
            self.wfile.write(data)
            return
        for i in range(len(data)):
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            time.sleep(trickle)


def _not_found(path: str) -> Answer:
    return Answer(404, {"error": {"message": f"no route {path}", "type": "not_found_error"}})


def completion_body(request: dict[str, Any], text: str, finish_reason: str = "stop") -> dict[str, Any]:
    prompt_chars = sum(len(str(m.get("content", ""))) for m in request.get("messages") or [])
    prompt_tokens, completion_tokens = prompt_chars // CHARS_PER_TOKEN, len(text) // CHARS_PER_TOKEN
    return {
        "id": f"chatcmpl-scripted-{zlib.crc32(text.encode('utf-8')):08x}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(request.get("model", "scripted")),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def error_answer(
    status: int, message: str, retry_after: float | None = None, code: str | None = None
) -> Answer:
    kind = {400: "invalid_request_error", 404: "not_found_error", 429: "rate_limit_exceeded"}.get(
        status, "server_error"
    )
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return Answer(status, {"error": {"message": message, "type": kind, "code": code or status}}, headers)
