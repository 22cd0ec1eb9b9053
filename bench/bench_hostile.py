"""What one LLM request ends as when a hostile OpenAI-compatible server answers it: each case queues
one misbehaviour on the scripted server (real HTTP, the openai client, LLMClient with retries), asks
one extraction question, and records the outcome, the requests it cost, the tokens it booked and the
wall time. Run it on two checkouts to compare (the scripted server's faults must be this one's):

    python bench/bench_hostile.py --label main
    cd /tmp/old && PYTHONPATH=. python /work/wt-hostile/bench/bench_hostile.py --label cdcdbc2 --no-write

Writes bench/results/hostile.md (and prints the table).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path.cwd()))  # the checkout run from (PYTHONPATH=.) wins over the installed kgc

from kgc.config import LLMConfig
from kgc.llm.client import LLMClient
from kgc.llm.limits import RetryPolicy
from kgc.llm.openai_backend import OpenAIBackend
from kgc.stages.extraction import ExtractionAnswer
from kgc.testing.http_server import completion_body
from kgc.testing.replies import default_extraction
from kgc.testing.scripted_server import ScriptedServer

RESULTS = Path(__file__).parent / "results"
TEXT = "Neural networks are used for machine translation. BLEU evaluates machine translation."
PROMPT = [
    {"role": "system", "content": "Answer with JSON only."},
    {"role": "user", "content": f"# Task: extraction\n## Seed\nneural network\n\n## Text\n{TEXT}\n"},
]
ANSWER = json.dumps(default_extraction(PROMPT[1]["content"]))
OTHER = json.dumps({"triplets": [{"head": "bomb", "relation": "Used-for", "tail": "memory"}]})
FRENCH = json.dumps(
    {"triplets": [{"head": "réseau", "relation": "Used-for", "tail": "traduction"}]}, ensure_ascii=False
)
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


def body(text: str, padding: int = 0, **fields: Any) -> bytes:
    data = json.dumps({**completion_body({"messages": PROMPT}, text), **fields}, ensure_ascii=False)
    return (data[:-1] + " " * padding + "}").encode("utf-8")


def events(text: str, done: bool = True) -> str:
    chunks = [
        {"choices": [{"index": 0, "delta": {"content": part}, "finish_reason": None}]}
        for part in (text[:20], text[20:])
    ]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + ("data: [DONE]\n\n" if done else "")


def tool_call(arguments: str) -> dict[str, Any]:
    call = {"id": "1", "type": "function", "function": {"name": "answer", "arguments": arguments}}
    return {
        "message": {"role": "assistant", "content": None, "tool_calls": [call]},
        "finish_reason": "tool_calls",
    }


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("transport", "no status line ever (hang)", {"hang": True}),
    ("transport", "status line and headers at 0.25 s a byte", {"trickle_headers": 0.25}),
    ("transport", "body at 0.05 s a byte", {"trickle": 0.05}),
    ("transport", "a 6 MB body", {"body": body(OTHER, padding=6_000_000)}),
    (
        "transport",
        "gzip: 60 kB sent, 60 MB decoded",
        {"body": gzip.compress(body(OTHER, padding=60_000_000)), "headers": {"Content-Encoding": "gzip"}},
    ),
    ("transport", "redirect to another host", {"redirect": "http://192.0.2.1/v1/chat/completions"}),
    ("transport", "cut mid-body", {"wire": HEAD + b"Content-Length: 4000\r\n\r\n" + body(OTHER)[:200]}),
    ("transport", "no HTTP at all", {"wire": b"SSH-2.0-OpenSSH_9.6\r\n"}),
    (
        "transport",
        "bad chunk size",
        {"wire": HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body(OTHER) + b"\r\n0\r\n\r\n"},
    ),
    ("transport", "a 1 MB header line", {"wire": HEAD + b"X-Pad: " + b"a" * 2**20 + b"\r\n\r\n"}),
    (
        "transport",
        "Content-Length shorter than the body",
        {"body": body(OTHER) * 2, "headers": {"Content-Length": "40"}},
    ),
    ("body", "empty", {"body": ""}),
    ("body", "an error object", {"body": '{"error": {"message": "overloaded"}}'}),
    ("body", "choices: []", {"completion": {"choices": []}}),
    ("body", "brackets nested 5,000 deep", {"body": "[" * 5000 + "]" * 5000}),
    ("body", "an event stream nobody asked for", {"body": events(ANSWER)}),
    ("body", "an event stream cut before [DONE]", {"body": events(ANSWER, done=False)}),
    ("body", "the answer in a tool call", {"completion": tool_call(ANSWER)}),
    (
        "body",
        "Latin-1, declared",
        {
            "body": body(FRENCH).decode().encode("latin-1"),
            "headers": {"Content-Type": "application/json; charset=iso-8859-1"},
        },
    ),
    ("body", "bytes that are no text", {"body": body(FRENCH).decode().encode("latin-1")}),
    (
        "body",
        "usage 10**15 tokens",
        {"completion": {"usage": {"prompt_tokens": 10**15, "completion_tokens": 10**15}}},
    ),
    (
        "body",
        "usage true/true",
        {"completion": {"usage": {"prompt_tokens": True, "completion_tokens": True}}},
    ),
    ("body", "answer from another model", {"completion": {"model": "other-model"}}),
    ("body", "Retry-After: 3600 on a 200", {"headers": {"Retry-After": "3600"}}),
    ("content", "brackets nested 2,000 deep", {"raw": "[" * 2000 + "]" * 2000}),
    (
        "content",
        "a key twice, JSON needing repair",
        # the key again in single quotes (so the JSON goes to repair), with a wrong value
        {
            "raw": ANSWER.replace(
                '"tail": "machine translation"', "\"tail\": \"machine translation\", 'tail': 'BLEU'", 1
            )
        },
    ),
    ("status", "401", {"status": 401}),
    ("status", "403", {"status": 403}),
    ("status", "413", {"status": 413}),
    ("status", "400 context length (OpenAI)", {"status": 400, "code": "context_length_exceeded"}),
    (
        "status",
        "400 context size (llama.cpp)",
        {"status": 400, "message": "the request exceeds the available context size"},
    ),
]


def run_case(fault: dict[str, Any]) -> dict[str, Any]:
    with ScriptedServer() as server, tempfile.TemporaryDirectory() as tmp:
        # A status is sent to every try (a real server refusing a request refuses it again).
        server.add_faults([fault] * (3 if "status" in fault else 1))
        cfg = LLMConfig(
            backend="openai",
            base_url=server.base_url,
            model="scripted",
            timeout=2.0,
            limits={"max_retries": 3, "max_invalid_retries": 2, "concurrency": 1},
        )
        client = LLMClient(
            OpenAIBackend(cfg, None),
            cfg,
            cache_path=None,
            failures_path=Path(tmp) / "failures.jsonl",
            retry_policy=RetryPolicy(base_delay=0.01, max_delay=0.05, max_retry_after=2.0),
            show_progress=False,
        )
        known = [
            (ANSWER, "the answer"),
            (OTHER, "the bomb's answer (6 MB or more)"),
            (FRENCH, "the French answer"),
        ]
        started = time.monotonic()
        try:
            answer = client.complete(PROMPT, ExtractionAnswer, stage="extraction")
            names = [name for text, name in known if answer == ExtractionAnswer.model_validate_json(text)]
            outcome = "item failed" if answer is None else (names or ["another answer"])[0]
        except Exception as e:
            outcome = f"run stopped ({type(e).__name__})"
        seconds = time.monotonic() - started
        u = client.usage()
        client.close()
        return {
            "outcome": outcome,
            "requests": server.stats.total,
            "retries": u.retries,
            "re-asks": u.invalid,
            "tokens": u.total_tokens,
            "seconds": seconds,
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--cases", default="", help="comma-separated substrings of case names to run")
    args = parser.parse_args()
    wanted = [w for w in args.cases.split(",") if w]
    rows = [
        f"| kind | case ({args.label}) | outcome | requests | retries | re-asks | tokens | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, name, fault in CASES:
        if wanted and not any(w in name for w in wanted):
            continue
        r = run_case(fault)
        tokens = f"{r['tokens']:.2g}" if r["tokens"] > 10**6 else str(r["tokens"])
        rows.append(
            f"| {kind} | {name} | {r['outcome']} | {r['requests']} | {r['retries']} | {r['re-asks']} | {tokens} | {r['seconds']:.1f} |"
        )
        print(rows[-1], flush=True)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "hostile.md").write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
