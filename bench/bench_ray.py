"""Extraction of the Graphusion abstracts (document mode) against the scripted server with a fixed
latency: local threads vs the Ray executor at the same concurrency, on this machine.

Each executor gets a fresh run directory (no cache); the timed part is the extraction stage as the
manifest records it. Ray's start (`ray.init`, a local 2-CPU runtime) is timed separately; the start
of its worker processes falls inside the first Ray run, as it would for a user; a second Ray run on
the same runtime shows the cost per task alone. All runs must write the same candidates. Writes bench/results/ray.{json,md}.

    .venv/bin/python bench/bench_ray.py [--docs 1073] [--latency 0.2] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kgc.config import load_config  # noqa: E402
from kgc.pipeline import Pipeline  # noqa: E402
from kgc.testing.scripted_server import ScriptedServer  # noqa: E402

RESULTS = ROOT / "bench" / "results"
ABSTRACTS = Path("/work/shared/data/graphusion/abstracts.txt")


def extract(
    server: ScriptedServer, corpus: Path, run: Path, executor: str, concurrency: int
) -> dict[str, Any]:
    cfg = load_config(
        None,
        {
            "llm.backend": "openai",
            "llm.base_url": server.base_url,
            "llm.model": "scripted",
            "llm.timeout": 30.0,
            "llm.limits.concurrency": concurrency,
            "llm.executor": executor,
            "extraction.mode": "document",
        },
    )
    server.reset_stats()
    Pipeline(cfg, run, corpus=corpus).run_until("extraction")
    stage = json.loads((run / "manifest.json").read_text())["stages"]["extraction"]
    seconds = float(stage["seconds"])
    requests = int(stage["llm"]["requests"])
    return {
        "executor": executor,
        "concurrency": concurrency,
        "requests": requests,
        "server_requests": server.stats.total,
        "max_in_flight": server.stats.max_in_flight,
        "seconds": round(seconds, 2),
        "requests_per_second": round(requests / seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1073, help="the first N abstracts")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per scripted answer")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    import ray

    work = Path(tempfile.mkdtemp(prefix="kgc-bench-ray-"))
    corpus = work / "abstracts.txt"
    lines = ABSTRACTS.read_text(encoding="utf-8").splitlines()[: args.docs]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")

    started = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_init_seconds = time.perf_counter() - started
    with ScriptedServer(latency=args.latency) as server:
        runs = [
            extract(server, corpus, work / executor, executor, args.concurrency)
            for executor in ("local", "ray")
        ]
        # Again on the same runtime: its worker processes are started and their backends built, so
        # this is Ray's per-task cost without the start-up of a fresh cluster's workers.
        runs.append(extract(server, corpus, work / "ray-warm", "ray", args.concurrency))
        runs[-1]["executor"] = "ray (workers already started)"
    ray.shutdown()
    local_candidates = (work / "local" / "candidates.jsonl").read_bytes()
    same = all((work / d / "candidates.jsonl").read_bytes() == local_candidates for d in ("ray", "ray-warm"))
    floor = runs[0]["requests"] * args.latency / args.concurrency
    result = {
        "docs": len(lines),
        "latency_seconds": args.latency,
        "concurrency": args.concurrency,
        "ideal_seconds": round(floor, 2),
        "ray_init_seconds": round(ray_init_seconds, 2),
        "same_candidates": same,
        "runs": runs,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other agents' jobs)",
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ray.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    rows = "\n".join(
        f"| {r['executor']} | {r['concurrency']} | {r['requests']} | {r['server_requests']} | {r['max_in_flight']} "
        f"| {r['seconds']} | {r['requests_per_second']} |"
        for r in runs
    )
    (RESULTS / "ray.md").write_text(
        f"# Extraction, local threads vs Ray ({len(lines)} abstracts, document mode)\n\n"
        f"Scripted server, {args.latency} s per answer; ideal time at concurrency {args.concurrency}: "
        f"{floor:.1f} s. Ray: a local runtime with 2 CPUs (`ray.init` took {ray_init_seconds:.1f} s, "
        f"not included). Same candidates: {same}. Load average at the end: {result['load_average_at_end']}.\n\n"
        "| executor | concurrency | requests (driver) | requests (server) | max in flight | seconds | requests/s |\n"
        "|---|---|---|---|---|---|---|\n" + rows + "\n",
        encoding="utf-8",
    )
    print((RESULTS / "ray.md").read_text())


if __name__ == "__main__":
    main()
