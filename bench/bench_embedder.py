"""Embedding backends compared in one run: PyTorch (sentence-transformers) vs ONNX Runtime fp32 and int8.

    .venv/bin/python bench/bench_embedder.py [--limit N] [--repeat 2]

On the 1,073 Graphusion abstracts with the bundled all-MiniLM-L6-v2: each backend is loaded (the
ONNX export into a fresh temporary KGC_HOME is timed separately, it happens once per machine), warmed
up on 32 texts, then embeds all abstracts --repeat times, interleaved with the other backends so that
load from other work hits them alike; the fastest run counts. Besides wall time it records the CPU
seconds of the process, steadier when other work shares the machine.

Agreement with PyTorch: the share of each document's 10 nearest neighbours (cosine) that are the
same (overlap@10), the cosine between a document's two vectors, and the topics: the seeds stage's
own clustering (`cluster_documents`, UMAP then HDBSCAN) on both, compared by adjusted Rand index and
by the share of documents whose topic maps to the same PyTorch topic (each topic mapped to its
majority PyTorch topic).

Also the UMAP/numba compile: `cluster_documents` in a fresh process, twice, sharing one fresh
NUMBA_CACHE_DIR (the first run compiles and caches, the second loads the cache).
Writes bench/results/embedder.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["KGC_HOME"] = tempfile.mkdtemp(prefix="kgc-bench-embedder-")  # the export is measured too

from kgc.config import EmbeddingConfig, SeedsConfig  # noqa: E402
from kgc.embeddings import Backend, Embedder, load_embedder  # noqa: E402
from kgc.rundir import atomic_write_text  # noqa: E402
from kgc.stages.seed_topics import cluster_documents  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "graphusion"
RESULTS = ROOT / "bench" / "results"
NEIGHBOURS = 10
VARIANTS: list[tuple[str, Backend, bool]] = [
    ("torch", "torch", False),
    ("onnx fp32", "onnx", False),
    ("onnx int8", "onnx", True),
]
CLUSTER_SNIPPET = """
import time, numpy as np
started = time.perf_counter()
from kgc.config import SeedsConfig
from kgc.stages.seed_topics import cluster_documents
vectors = np.load({path!r})
cluster_documents(vectors, SeedsConfig())
print(round(time.perf_counter() - started, 2))
"""


class BackendRun(BaseModel):
    name: str
    load_seconds: float  # includes the one-time ONNX export for the ONNX variants
    embed_seconds: float  # best of --repeat
    cpu_seconds: float  # process CPU of that run
    docs_per_second: float
    speedup: float  # over torch, wall time
    cpu_speedup: float  # over torch, CPU seconds
    overlap_at_10: float  # mean share of the 10 nearest neighbours shared with torch
    mean_cosine: float  # between a document's torch and this vector
    min_cosine: float
    topics: int
    outliers: int
    topic_ari: float  # adjusted Rand index of the topic labels against torch's
    topic_agreement: float  # share of documents whose topic maps to their torch topic


class NumbaCache(BaseModel):
    first_process_seconds: float
    second_process_seconds: float


class Results(BaseModel):
    documents: int
    model: str
    repeat: int
    runs: list[BackendRun]
    numba_cache: NumbaCache
    load_average_before_after: str
    cpus: int
    python: str
    versions: dict[str, str]


def nearest(vectors: np.ndarray, k: int) -> np.ndarray:
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1)[:, :k]


def overlap_at(reference: np.ndarray, other: np.ndarray, k: int) -> float:
    a, b = nearest(reference, k), nearest(other, k)
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b, strict=True)]))


def mapped_agreement(reference: np.ndarray, labels: np.ndarray) -> float:
    """Share of documents whose label's majority reference label is their own reference label."""
    majority = {
        label: Counter(reference[labels == label].tolist()).most_common(1)[0][0]
        for label in set(labels.tolist())
    }
    return float(
        np.mean(
            [majority[label] == ref for label, ref in zip(labels.tolist(), reference.tolist(), strict=True)]
        )
    )


def numba_cache_timing(vectors: np.ndarray) -> NumbaCache:
    with tempfile.TemporaryDirectory(prefix="kgc-bench-numba-") as tmp:
        path = Path(tmp) / "vectors.npy"
        np.save(path, vectors)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba")}
        times = []
        for _ in range(2):
            done = subprocess.run(
                [sys.executable, "-c", CLUSTER_SNIPPET.format(path=str(path))],
                capture_output=True, text=True, env=env, cwd=ROOT, check=True,
            )  # fmt: skip
            times.append(float(done.stdout.strip().splitlines()[-1]))
    return NumbaCache(first_process_seconds=times[0], second_process_seconds=times[1])


def main() -> None:
    from sklearn.metrics import adjusted_rand_score

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--data", type=Path, default=DATA, help="folder with abstracts.txt")
    args = parser.parse_args()
    with (args.data / "abstracts.txt").open(encoding="utf-8") as f:
        texts = [line.strip() for line in f if line.strip()][: args.limit]
    load_before = os.getloadavg()[0]

    load_seconds: dict[str, float] = {}
    embedders: dict[str, Embedder] = {}
    for name, backend, quantize in VARIANTS:
        started = time.perf_counter()
        embedders[name] = load_embedder(EmbeddingConfig(backend=backend, quantize=quantize))
        embedders[name].encode(texts[:32])  # loads (and exports) the model, warms it up
        load_seconds[name] = round(time.perf_counter() - started, 1)
        print(f"{name}: loaded in {load_seconds[name]} s", flush=True)

    best: dict[str, tuple[float, float, np.ndarray]] = {}
    for _ in range(args.repeat):
        for name, _, _ in VARIANTS:
            cpu, started = time.process_time(), time.perf_counter()
            vectors = embedders[name].encode(texts)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu, vectors)

    cfg = SeedsConfig()
    reference = best["torch"][2]
    reference_labels, _ = cluster_documents(reference, cfg)
    runs = []
    for name, _, _ in VARIANTS:
        wall, cpu, vectors = best[name]
        labels = reference_labels if name == "torch" else cluster_documents(vectors, cfg)[0]
        cosines = np.sum(reference * vectors, axis=1)
        runs.append(
            BackendRun(
                name=name,
                load_seconds=load_seconds[name],
                embed_seconds=round(wall, 1),
                cpu_seconds=round(cpu, 1),
                docs_per_second=round(len(texts) / wall, 1),
                speedup=round(best["torch"][0] / wall, 2),
                cpu_speedup=round(best["torch"][1] / cpu, 2),
                overlap_at_10=round(overlap_at(reference, vectors, NEIGHBOURS), 4),
                mean_cosine=round(float(cosines.mean()), 4),
                min_cosine=round(float(cosines.min()), 4),
                topics=len(set(labels.tolist()) - {-1}),
                outliers=int(np.sum(labels == -1)),
                topic_ari=round(float(adjusted_rand_score(reference_labels, labels)), 4),
                topic_agreement=round(mapped_agreement(reference_labels, labels), 4),
            )
        )
        print(runs[-1].model_dump_json(), flush=True)

    numba = numba_cache_timing(reference)
    print(numba.model_dump_json(), flush=True)
    from importlib import metadata

    results = Results(
        documents=len(texts),
        model="minilm (all-MiniLM-L6-v2)",
        repeat=args.repeat,
        runs=runs,
        numba_cache=numba,
        load_average_before_after=f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
        cpus=os.cpu_count() or 0,
        python=platform.python_version(),
        versions={n: metadata.version(n) for n in ("torch", "sentence-transformers", "onnxruntime")},
    )
    write_results(results)


def write_results(results: Results) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS / "embedder.json", json.dumps(results.model_dump(), indent=2) + "\n")
    lines = [
        "# Embedding backends: PyTorch vs ONNX Runtime",
        "",
        f"{results.documents:,} Graphusion abstracts, {results.model}, {results.cpus} CPUs, "
        f"best of {results.repeat} interleaved runs (1-min load average before/after: "
        f"{results.load_average_before_after}; other work shared the machine). Versions: "
        + ", ".join(f"{k} {v}" for k, v in results.versions.items())
        + ".",
        "",
        "| backend | load s | embed s | CPU s | docs/s | speed-up | CPU speed-up | overlap@10 | mean cos | min cos | topics | outliers | topic ARI | topic agreement |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results.runs:
        lines.append(
            f"| {r.name} | {r.load_seconds} | {r.embed_seconds} | {r.cpu_seconds} | {r.docs_per_second} | "
            f"{r.speedup}x | {r.cpu_speedup}x | {r.overlap_at_10} | {r.mean_cosine} | {r.min_cosine} | "
            f"{r.topics} | {r.outliers} | {r.topic_ari} | {r.topic_agreement} |"
        )
    n = results.numba_cache
    by_name = {r.name: r for r in results.runs}
    fp32, int8 = by_name["onnx fp32"], by_name["onnx int8"]
    lines += [
        "",
        f"Reading: ONNX fp32 gives PyTorch's vectors (min cosine {fp32.min_cosine}, overlap@10 {fp32.overlap_at_10}) "
        f"at {fp32.cpu_speedup}x less CPU time, so the CPU kernels, not the framework, bound the speed here. Its topic "
        f"ARI of {fp32.topic_ari} on equal vectors is the clustering's own noise floor: UMAP and HDBSCAN move with "
        f"float rounding. int8 halves the CPU ({int8.cpu_speedup}x) but keeps only {int8.overlap_at_10} of the "
        "neighbours, short of the 0.9 aimed at, so it is not the default.",
        "",
        "Load s includes, for ONNX, the one-time export into an empty cache (and the int8 quantisation).",
        "Agreement columns compare with the torch vectors: overlap@10 is the mean share of a document's 10 "
        "nearest neighbours that both agree on; topics come from the seeds stage's clustering of each set of "
        "vectors (ARI, and the share of documents whose topic maps to their torch topic).",
        "",
        f"UMAP + HDBSCAN (`cluster_documents`) in a fresh process with a fresh NUMBA_CACHE_DIR: "
        f"{n.first_process_seconds} s; again in a new process with that cache: {n.second_process_seconds} s.",
        "",
        "Reproduce: `.venv/bin/python bench/bench_embedder.py`",
        "",
    ]
    atomic_write_text(RESULTS / "embedder.md", "\n".join(lines))


if __name__ == "__main__":
    main()
