"""Embedding ~2,000 chunks of the Graphusion abstracts: local vs `embedding.executor = "ray"` (a local
Ray runtime, 2 workers), in one run on this machine.

Chunks: each abstract cut in two at the sentence end nearest its middle (2,146 chunks; `--chunks`
keeps the first N). Both executors go through the same `StoredEmbedder` into a fresh vector store,
batches of 256, MiniLM on torch. Timed apart: the start (local: the model load; Ray: `ray.init`, then
its worker processes' start and model loads, warmed on one tiny batch each) and the encoding of all chunks,
which is what the overhead ratio compares. CPU seconds: this process, plus the Ray workers'
(psutil). Writes bench/results/ray_embed.{json,md}.

    nice -n 15 .venv/bin/python bench/bench_ray_embed.py [--chunks 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kgc.config import load_config  # noqa: E402
from kgc.embeddings import RayEmbedder, StoredEmbedder, VectorStore, load_embedder  # noqa: E402
from kgc.embeddings.base import Embedder  # noqa: E402

RESULTS = ROOT / "bench" / "results"
ABSTRACTS = Path("/work/shared/data/graphusion/abstracts.txt")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def halves(text: str) -> list[str]:
    """The text cut at the sentence end nearest its middle (whole when it has one sentence)."""
    ends = [m.start() for m in SENTENCE_END.finditer(text)]
    if not ends:
        return [text]
    cut = min(ends, key=lambda e: abs(e - len(text) / 2))
    return [text[:cut].strip(), text[cut:].strip()]


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def workers_cpu(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


def encode_all(embedder: Embedder, texts: list[str], run: Path) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    with VectorStore.open(run, "chunks", embedder.key) as store:
        vectors = StoredEmbedder(embedder, store, label="bench", noun="chunks").encode(texts)
    return vectors, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    lines = [line for line in ABSTRACTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [half for line in lines for half in halves(line)][: args.chunks]
    work = Path(tempfile.mkdtemp(prefix="kgc-bench-ray-embed-"))
    cfg = load_config(None, {"embedding.backend": "torch", "embedding.ray.workers": args.workers}).embedding
    load_before = [round(x, 2) for x in os.getloadavg()]

    # Local: load the model (one short text), then encode everything.
    local = load_embedder(cfg)
    started = time.perf_counter()
    local.encode(["warm up"])
    local_start = time.perf_counter() - started
    cpu_mid = own_cpu()
    local_vectors, local_seconds = encode_all(local, texts, work / "local")
    local_cpu = own_cpu() - cpu_mid

    # Ray: join a fresh local runtime, warm both workers (each loads its model on a tiny batch), encode.
    import ray

    started = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_init = time.perf_counter() - started
    on_ray = load_embedder(cfg.model_copy(update={"executor": "ray"}))
    assert isinstance(on_ray, RayEmbedder)
    started = time.perf_counter()
    list(on_ray.map_batches([["warm up"]] * args.workers))
    ray_start = time.perf_counter() - started
    warm = {pid: workers_cpu([pid]) for pid in on_ray.batches_by_worker}
    cpu_mid = own_cpu()
    ray_vectors, ray_seconds = encode_all(on_ray, texts, work / "ray")
    driver_cpu = own_cpu() - cpu_mid
    # a worker process that joined after the warm-up counts with its model load
    ray_workers_cpu = sum(workers_cpu([pid]) - warm.get(pid, 0.0) for pid in on_ray.batches_by_worker)
    batches = {pid: n - (pid in warm) for pid, n in on_ray.batches_by_worker.items()}
    on_ray.close()
    ray.shutdown()

    diff = float(np.abs(ray_vectors - local_vectors).max())
    overhead = ray_seconds / local_seconds - 1
    cpu_overhead = (ray_workers_cpu + driver_cpu) / local_cpu - 1
    result: dict[str, Any] = {
        "chunks": len(texts),
        "model": cfg.model,
        "workers": args.workers,
        "local": {
            "model_load_seconds": round(local_start, 2),
            "encode_seconds": round(local_seconds, 2),
            "encode_cpu_seconds": round(local_cpu, 1),
            "chunks_per_second": round(len(texts) / local_seconds, 2),
        },
        "ray": {
            "ray_init_seconds": round(ray_init, 2),
            "workers_start_and_load_seconds": round(ray_start, 2),
            "encode_seconds": round(ray_seconds, 2),
            "encode_cpu_seconds_driver": round(driver_cpu, 1),
            "encode_cpu_seconds_workers": round(ray_workers_cpu, 1),
            "chunks_per_second": round(len(texts) / ray_seconds, 2),
            "batches_per_worker": list(batches.values()),
        },
        "encode_overhead": round(overhead, 3),
        "encode_cpu_overhead": round(cpu_overhead, 3),
        "max_abs_difference": diff,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other jobs)",
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ray_embed.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    loc, rr = result["local"], result["ray"]
    (RESULTS / "ray_embed.md").write_text(
        f"# Embedding {len(texts):,} chunks, local vs Ray ({args.workers} workers)\n\n"
        f"Graphusion abstracts cut in halves, MiniLM on torch, one `StoredEmbedder` pass into a fresh "
        f"store (batches of 256) each. Ray: a local runtime with 2 CPUs on this 2-core machine, shared "
        f"with other jobs (1-min load average {load_before[0]} before, {result['load_average_after'][0]} "
        f"after; run under `nice -n 15`). Largest difference between the two sets of vectors: {diff:.1e}.\n\n"
        "| executor | start s | encode s | chunks/s | encode CPU s |\n"
        "|---|---:|---:|---:|---:|\n"
        f"| local | {loc['model_load_seconds']} (model load) | {loc['encode_seconds']} | "
        f"{loc['chunks_per_second']} | {loc['encode_cpu_seconds']} |\n"
        f"| ray | {rr['ray_init_seconds']} (`ray.init`) + {rr['workers_start_and_load_seconds']} "
        f"(workers, model loads) | {rr['encode_seconds']} | {rr['chunks_per_second']} | "
        f"{rr['encode_cpu_seconds_workers']} (workers) + {rr['encode_cpu_seconds_driver']} (driver) |\n\n"
        f"Ray's encoding overhead over local: {overhead:+.1%} in wall time (aim: under +20%), "
        f"{cpu_overhead:+.1%} in CPU time (workers and driver; the steadier measure on a loaded machine). "
        f"Batches per worker: {rr['batches_per_worker']}.\n\n"
        "Reproduce: `nice -n 15 .venv/bin/python bench/bench_ray_embed.py`\n",
        encoding="utf-8",
    )
    print((RESULTS / "ray_embed.md").read_text())


if __name__ == "__main__":
    main()
