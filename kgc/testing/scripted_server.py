"""A scripted OpenAI-compatible chat server on a real socket, for tests, benchmarks and dry runs.

It answers `POST /v1/chat/completions` and `GET /v1/models` like an OpenAI-compatible server,
deterministically and cheaply, so the whole pipeline can run without a model:

- answers are those of kgc.testing.replies (shared with the in-process ScriptedBackend): triplets
  from the text's frequent phrases, the first option of every fusion conflict, "different" for every
  name pair of the resolve band;
- `set_rules` scripts exact replies (first matching rule wins);
- `add_faults` queues misbehaviour (HTTP 429/500, delays, garbage, dropped connections, a request
  that hangs, an answer cut off with finish_reason "length", an answer cut short while the server says
  "stop"), one per request;
- `fault_mix` (kgc.testing.faults.FaultMix) makes a share of the other requests fail at random, e.g.
  20% HTTP 429/500 and 10% answers cut in half, reproducibly for a seed;
- `hang=True` (or setting `server.hang`) makes every request hang: the connection is accepted and
  never answered, like a server stopped with SIGSTOP;
- `max_tokens` is honoured: a longer answer is cut at 4 characters per token, finish_reason "length";
- `json_schema_supported=False` answers HTTP 500 to `response_format: json_schema`, like
  llama-cpp-python's server.
- `tls=` a server-side ssl.SSLContext serves https.

    with ScriptedServer(latency=0.05) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="x")

CLI: `python -m kgc.testing.scripted_server --port 8765 --latency 0.05` prints the base URL and
serves until killed; `--faults 429=0.1,500=0.1,cut=0.1 --fault-seed 3` makes it flaky.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgc.testing.faults import Fault, FaultMix
from kgc.testing.http_server import CHARS_PER_TOKEN, Answer, ChatHTTPServer, completion_body, error_answer
from kgc.testing.replies import Rule, check_rules, detect_task, reply_text

# A queued Fault is a dict; its keys say what goes wrong (kgc.testing.faults draws the common ones):
#   what answers instead of a completion
#     {"status": 429} HTTP error; with "retry_after": s, "retry_after_header": "as sent", "code": "...",
#         "message": "..." (the error object's message)
#     {"body": str | bytes} HTTP 200 with this body;  {"redirect": url} HTTP 307 there
#     {"wire": bytes} these bytes instead of an HTTP response, then the connection closed
#     {"drop": True} the connection closed, no status line;  {"hang": True} no answer at all
#   what alters the completion
#     {"raw": "..."} its content;  {"cut": 0.5} its first half, finish_reason still "stop"
#     {"finish_reason": "length"};  {"completion": {...}} fields of its first choice, or of the whole
#         body for "choices", "usage" and "model" (e.g. {"choices": []})
#   how any answer is sent (combine with the above)
#     {"delay": s} first;  {"headers": {...}} added to (or replacing) Content-Type/Content-Length
#     {"trickle": s} the body a byte every s seconds;  {"trickle_headers": s} the status line and headers
#   {"task": "extraction"} limits a fault to requests of that task.


@dataclass(frozen=True)
class RecordedRequest:
    time: float  # time.monotonic() when the request arrived
    task: str  # "extraction", "fusion", "resolve" or "other"
    response_format: str | None  # its "type", None when absent
    response_format_body: dict[str, Any] | None
    messages: list[dict[str, Any]]
    model: str
    max_tokens: int | None = None
    fault: Fault | None = None  # the misbehaviour it got, queued or drawn from the fault mix


@dataclass
class ServerStats:
    total: int = 0
    by_task: dict[str, int] = field(default_factory=dict)
    response_formats: list[str | None] = field(default_factory=list)
    max_in_flight: int = 0
    timestamps: list[float] = field(default_factory=list)  # time.monotonic() of each arrival
    requests: list[RecordedRequest] = field(default_factory=list)


class ScriptedServer:
    """Threaded: concurrent requests are served concurrently. Start with `start()` or `with`."""

    def __init__(
        self,
        rules: list[Rule] | None = None,
        latency: float = 0.0,
        json_schema_supported: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        hang: bool = False,
        fault_mix: FaultMix | None = None,
        tls: ssl.SSLContext | None = None,
    ):
        self.latency = latency
        self.hang = hang
        self.fault_mix = fault_mix  # drawn for every request no queued fault claims
        self.tls = tls  # a server-side context: https
        self._sent: Counter[str] = Counter()  # times each request was seen, for the mix's draw
        self._stopping = threading.Event()  # wakes hanging handlers when the server stops
        self.json_schema_supported = json_schema_supported
        self._host = host
        self._port = port
        self._rules: list[Rule] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stats = ServerStats()
        self._in_flight = 0
        self._httpd: ChatHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.set_rules(rules or [])

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> ScriptedServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = ChatHTTPServer((self._host, self._port), self.respond)
        if self.tls is not None:
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="scripted-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the scripted server is not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self._host}:{self.port}/v1"

    # -- scripting ----------------------------------------------------------------------------------

    def set_rules(self, rules: list[Rule]) -> None:
        """Replace the rules; the first rule whose task and `contains` match a request answers it."""
        checked = check_rules(rules)
        with self._lock:
            self._rules = checked

    def add_faults(self, faults: list[Fault]) -> None:
        """Queue faults; each request consumes the first queued fault whose "task" (if any) matches."""
        with self._lock:
            self._faults.extend(faults)

    @property
    def stats(self) -> ServerStats:
        """A snapshot of what the server saw so far."""
        with self._lock:
            s = self._stats
            return ServerStats(
                total=s.total,
                by_task=dict(s.by_task),
                response_formats=list(s.response_formats),
                max_in_flight=s.max_in_flight,
                timestamps=list(s.timestamps),
                requests=list(s.requests),
            )

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = ServerStats()

    # -- answering ---------------------------------------------------------------------------------

    def _begin(self, request: dict[str, Any]) -> tuple[str, str, Fault | None, list[Rule]]:
        """Record one chat request; returns its task, the prompt it is about, its fault and the rules."""
        messages = request.get("messages") or []
        response_format = request.get("response_format")
        task, prompt = detect_task(messages, response_format)
        with self._lock:
            fault = self._pop_fault(task)
            if fault is None:
                fault = self._draw_fault(request)
            s = self._stats
            now = time.monotonic()
            s.total += 1
            s.by_task[task] = s.by_task.get(task, 0) + 1
            rf_type = response_format.get("type") if isinstance(response_format, dict) else None
            s.response_formats.append(rf_type)
            s.timestamps.append(now)
            s.requests.append(
                RecordedRequest(
                    time=now,
                    task=task,
                    response_format=rf_type,
                    response_format_body=response_format if isinstance(response_format, dict) else None,
                    messages=messages,
                    model=str(request.get("model", "")),
                    max_tokens=request.get("max_completion_tokens") or request.get("max_tokens"),
                    fault=fault,
                )
            )
            self._in_flight += 1
            s.max_in_flight = max(s.max_in_flight, self._in_flight)
            return task, prompt, fault, list(self._rules)

    def _end(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _pop_fault(self, task: str) -> Fault | None:
        for i, fault in enumerate(self._faults):
            if fault.get("task") in (None, task):
                return self._faults.pop(i)
        return None

    def _draw_fault(self, request: dict[str, Any]) -> Fault | None:
        if self.fault_mix is None:
            return None
        key = hashlib.sha256(json.dumps(request, sort_keys=True).encode("utf-8")).hexdigest()
        occurrence = self._sent[key]
        self._sent[key] += 1
        return self.fault_mix.draw(key, occurrence)

    def respond(self, request: dict[str, Any]) -> Answer | None:
        """The HTTP answer to one chat request; None means: drop the connection."""
        task, prompt, fault, rules = self._begin(request)
        try:
            return self.answer(request, task, prompt, fault, rules)
        finally:
            self._end()

    def answer(
        self, request: dict[str, Any], task: str, prompt: str, fault: Fault | None, rules: list[Rule]
    ) -> Answer | None:
        """The HTTP answer to one chat request; None means: drop the connection."""
        if self.hang or (fault is not None and fault.get("hang")):
            self._stopping.wait()  # never answer; the connection closes when the server stops
            return None
        if fault is None:
            return self._completion(request, task, prompt, None, rules)
        if fault.get("drop"):
            return None
        if "delay" in fault:
            time.sleep(float(fault["delay"]))
        answer = self._misbehaviour(fault) or self._completion(request, task, prompt, fault, rules)
        answer.headers.update(fault.get("headers", {}))
        answer.trickle = float(fault.get("trickle", 0.0))
        answer.trickle_headers = float(fault.get("trickle_headers", 0.0))
        return answer

    @staticmethod
    def _misbehaviour(fault: Fault) -> Answer | None:
        """The answer of a fault that replaces the completion; None for one that alters it."""
        if "wire" in fault:
            wire = fault["wire"]
            return Answer(200, b"", wire=wire if isinstance(wire, bytes) else str(wire).encode("utf-8"))
        if "redirect" in fault:
            return Answer(307, b"", {"Location": str(fault["redirect"])})
        if "body" in fault:
            body = fault["body"]
            return Answer(200, body if isinstance(body, bytes) else str(body).encode("utf-8"))
        if "status" in fault:
            answer = error_answer(
                int(fault["status"]),
                str(fault.get("message", "scripted fault")),
                fault.get("retry_after"),
                fault.get("code"),
            )
            if "retry_after_header" in fault:
                answer.headers["Retry-After"] = str(fault["retry_after_header"])
            return answer
        return None

    def _completion(
        self, request: dict[str, Any], task: str, prompt: str, fault: Fault | None, rules: list[Rule]
    ) -> Answer:
        """The chat completion for `request`, as `fault` ("raw", "cut", "finish_reason", "completion") alters it."""
        if self.latency > 0:
            time.sleep(self.latency)
        response_format = request.get("response_format")
        if (
            not self.json_schema_supported
            and isinstance(response_format, dict)
            and response_format.get("type") == "json_schema"
        ):
            # What llama-cpp-python's server does: json_object (+ schema) is the way it accepts.
            return error_answer(
                500, 'response_format type must be one of "text" or "json_object", but got: json_schema'
            )
        fault = fault or {}
        text = (
            str(fault["raw"])
            if "raw" in fault
            else reply_text(request.get("messages") or [], task, prompt, rules)
        )
        if "cut" in fault:
            text = text[: int(len(text) * float(fault["cut"]))]
        finish_reason = str(fault.get("finish_reason", "stop"))
        limit = request.get("max_completion_tokens") or request.get("max_tokens")
        if isinstance(limit, int) and len(text) > limit * CHARS_PER_TOKEN:
            text, finish_reason = text[: limit * CHARS_PER_TOKEN], "length"
        body = completion_body(request, text, finish_reason)
        if "completion" in fault:
            replaced = dict(fault["completion"])
            for key in ("choices", "usage", "model"):  # fields of the whole body
                if key in replaced:
                    body[key] = replaced.pop(key)
            if replaced:
                body["choices"][0].update(replaced)
        return Answer(200, body)


def _fault_mix(text: str) -> FaultMix:
    try:
        return FaultMix.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Scripted OpenAI-compatible chat server for kgc dry runs and tests."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--rules", type=Path, help="JSON file with a list of rules")
    parser.add_argument(
        "--hang", action="store_true", help="accept every request and never answer (a stopped server)"
    )
    parser.add_argument(
        "--faults",
        type=_fault_mix,
        default=None,
        help="random faults as KIND=SHARE,...: 429, 500, 503, cut (answer cut in half, finish_reason "
        "'stop'), drop, hang; e.g. 429=0.1,500=0.1,cut=0.1",
    )
    parser.add_argument("--fault-seed", type=int, default=0, help="the seed of --faults")
    parser.add_argument(
        "--no-json-schema",
        action="store_true",
        help="reject response_format json_schema like llama-cpp-python",
    )
    args = parser.parse_args(argv)
    rules = json.loads(args.rules.read_text(encoding="utf-8")) if args.rules else None
    server = ScriptedServer(
        rules=rules,
        latency=args.latency,
        json_schema_supported=not args.no_json_schema,
        host=args.host,
        port=args.port,
        hang=args.hang,
        fault_mix=FaultMix(args.faults.rates, args.fault_seed) if args.faults else None,
    ).start()
    print(server.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
