"""Throughput of LLMClient.map against the scripted server with a fixed per-request latency.

Runs N extraction requests at several concurrency levels (a fresh cache each), then once more
on a warm cache, which must make zero requests. Writes bench/results/llm_throughput.{json,md}.

    .venv/bin/python bench/bench_llm.py [--requests 200] [--latency 0.2] [--concurrency 1 4 16]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kgc.config import LimitsConfig, LLMConfig  # noqa: E402
from kgc.llm.base import Message  # noqa: E402
from kgc.llm.client import LLMClient  # noqa: E402
from kgc.llm.openai_backend import OpenAIBackend  # noqa: E402
from kgc.stages.extraction import ExtractionAnswer  # noqa: E402
from kgc.testing.scripted_server import ScriptedServer  # noqa: E402

RESULTS = ROOT / "bench" / "results"
RELATIONS = "- Used-for (directed): x\n- Part-of (directed): y\n- Compare (undirected): z\n"
VOCAB = [
    "neural network",
    "machine translation",
    "attention mechanism",
    "language model",
    "parallel corpus",
    "word embedding",
    "beam search",
    "knowledge graph",
    "topic model",
    "dependency parser",
    "speech recognition",
]


@dataclass
class Run:
    label: str
    concurrency: int
    requests_sent: int
    cache_hits: int
    seconds: float
    requests_per_second: float
    speedup_vs_concurrency_1: float | None = None


def prompts(n: int) -> list[list[Message]]:
    """n distinct extraction prompts of ~2,000 characters (a seed plus synthetic passages)."""
    rng = random.Random(42)
    out = []
    for i in range(n):
        sentences = [
            f"The {rng.choice(VOCAB)} is used for {rng.choice(VOCAB)} in study {i}." for _ in range(30)
        ]
        user = (
            f"# Task: extraction\n## Relations\n{RELATIONS}\n## Seed\n{rng.choice(VOCAB)}\n\n"
            f"## Text\n{' '.join(sentences)}\n"
        )
        out.append(
            [{"role": "system", "content": "Answer with JSON only."}, {"role": "user", "content": user}]
        )
    return out


def run_once(
    server: ScriptedServer, items: list[list[Message]], concurrency: int, cache: Path, label: str
) -> Run:
    cfg = LLMConfig(
        backend="openai",
        base_url=server.base_url,
        model="scripted",
        limits=LimitsConfig(concurrency=concurrency),
    )
    before = server.stats.total
    with LLMClient(
        OpenAIBackend(cfg, None), cfg, cache_path=cache, failures_path=None, show_progress=False
    ) as llm:
        start = time.perf_counter()
        answers = llm.map(
            lambda messages: llm.complete(messages, ExtractionAnswer, stage="extraction"),
            items,
            stage="extraction",
            description=label,
        )
        seconds = time.perf_counter() - start
        usage = llm.usage()
    if any(a is None or not a.triplets for a in answers):
        raise SystemExit(f"{label}: some answers are missing")
    if usage.requests != server.stats.total - before:
        raise SystemExit(
            f"{label}: client counted {usage.requests} requests, server saw {server.stats.total - before}"
        )
    return Run(
        label,
        concurrency,
        usage.requests,
        usage.cache_hits,
        round(seconds, 3),
        round(len(items) / seconds, 2),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    items = prompts(args.requests)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer(latency=args.latency) as server:
        for c in args.concurrency:
            runs.append(run_once(server, items, c, Path(tmp) / f"cache-{c}.sqlite", f"cold, concurrency {c}"))
            print(runs[-1], flush=True)
        warm_cache = Path(tmp) / f"cache-{args.concurrency[-1]}.sqlite"
        warm = run_once(server, items, args.concurrency[-1], warm_cache, "warm cache")
        print(warm, flush=True)
        assert warm.requests_sent == 0 and warm.cache_hits == len(items), "the warm run must make no request"
        runs.append(warm)
        with ScriptedServer() as fast:  # the client's own overhead per request
            zero = run_once(fast, items, 4, Path(tmp) / "zero.sqlite", "no latency")
        print(zero, flush=True)
        runs.append(zero)
    base = next(
        (r.requests_per_second for r in runs if r.concurrency == 1 and r.label.startswith("cold")), None
    )
    for r in runs:
        if base and r.label.startswith("cold"):
            r.speedup_vs_concurrency_1 = round(r.requests_per_second / base, 2)
    write_results(args, runs)


def write_results(args: argparse.Namespace, runs: list[Run]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "requests": args.requests,
        "server_latency_s": args.latency,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    (RESULTS / "llm_throughput.json").write_text(
        json.dumps({**meta, "runs": [asdict(r) for r in runs]}, indent=2) + "\n", encoding="utf-8"
    )
    lines = [
        "# LLMClient throughput against the scripted server",
        "",
        f"{args.requests} extraction requests through `LLMClient.map` over real HTTP (openai client), "
        f"server latency {args.latency} s per request (the 'no latency' row: 0 s, concurrency 4). "
        f"Machine: {meta['machine']}; {meta['date']}. Reproduce: `.venv/bin/python bench/bench_llm.py`.",
        "",
        "| run | concurrency | requests sent | cache hits | seconds | requests/s | speed-up vs 1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        speedup = f"{r.speedup_vs_concurrency_1:.2f}x" if r.speedup_vs_concurrency_1 is not None else ""
        lines.append(
            f"| {r.label} | {r.concurrency} | {r.requests_sent} | {r.cache_hits} | {r.seconds:.2f} "
            f"| {r.requests_per_second:.1f} | {speedup} |"
        )
    (RESULTS / "llm_throughput.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
