"""Benchmark of the vector store (kgc.embeddings.store) at corpus scale, against the files it replaced.

Random unit vectors stand for the chunks' embeddings (the model's time is not measured here: only
what keeping them costs). For N texts of D dimensions, in batches of 256 as the seeds stage saves them:
- kgc: `VectorStore.put` per batch (one SQLite transaction), then `get` of all N, then `keep_only`
  of 99% of them (an update that removed 1% of the text);
- baseline (kgc before 18.5): one `.npy` per batch while under way, then the whole `.npy` and the
  `embeddings_by_chunk.npz` store written once complete, then the npz loaded into a dict by hash.
CPU seconds (process time) and file sizes; each variant runs in its own process so its peak RSS is
its own.

    .venv/bin/python bench/bench_vector_store.py --texts 100000 --dim 384
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
BATCH = 256


def vectors(n: int, dim: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return [f"{i:016x}" for i in range(n)], rows


def run_kgc(folder: Path, n: int, dim: int) -> dict[str, float]:
    from kgc.embeddings import STORE_FILE, VectorStore

    hashes, rows = vectors(n, dim)
    timings: dict[str, float] = {}
    started = time.process_time()
    with VectorStore.open(folder, "chunks", "bench") as store:
        for i in range(0, n, BATCH):
            store.put(hashes[i : i + BATCH], rows[i : i + BATCH])
    timings["write_cpu_s"] = time.process_time() - started
    started = time.process_time()
    with VectorStore.open(folder, "chunks", "bench") as store:
        found = store.get(hashes)
        again = np.vstack([found[h] for h in hashes])
    timings["read_cpu_s"] = time.process_time() - started
    assert np.array_equal(again, rows)
    started = time.process_time()
    with VectorStore.open(folder, "chunks", "bench") as store:
        store.keep_only(hashes[: n - n // 100])
    timings["prune_cpu_s"] = time.process_time() - started
    timings["file_mb"] = (folder / STORE_FILE).stat().st_size / 1e6
    return timings


def run_baseline(folder: Path, n: int, dim: int) -> dict[str, float]:
    """What kgc.stages.chunk_embeddings + kgc.stages.embedding_store did (5c6714b), in their formats."""
    hashes, rows = vectors(n, dim)
    timings: dict[str, float] = {}
    started = time.process_time()
    parts = folder / "chunk_embeddings.job.parts"
    parts.mkdir()
    for i in range(0, n, BATCH):
        np.save(parts / f"{i:09d}.npy", rows[i : i + BATCH])
    done = np.vstack([np.load(parts / f"{i:09d}.npy") for i in range(0, n, BATCH)])
    np.save(folder / "chunk_embeddings.job.npy", done)
    shutil.rmtree(parts)  # as the old code did once the job was complete
    np.savez(
        folder / "embeddings_by_chunk.npz", model=np.array("bench"), hashes=np.array(hashes), vectors=done
    )
    timings["write_cpu_s"] = time.process_time() - started
    started = time.process_time()
    with np.load(folder / "embeddings_by_chunk.npz") as data:
        stored = dict(zip(data["hashes"].tolist(), data["vectors"], strict=True))
    again = np.vstack([stored[h] for h in hashes])
    timings["read_cpu_s"] = time.process_time() - started
    assert np.array_equal(again, rows)
    started = time.process_time()
    keep = {h: stored[h] for h in hashes[: n - n // 100]}
    np.savez(
        folder / "embeddings_by_chunk.npz",
        model=np.array("bench"),
        hashes=np.array(list(keep)),
        vectors=np.vstack(list(keep.values())),
    )
    timings["prune_cpu_s"] = time.process_time() - started
    timings["file_mb"] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
    return timings


def child(variant: str, n: int, dim: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        timings = (run_kgc if variant == "kgc" else run_baseline)(Path(tmp), n, dim)
    timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(timings))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--child", choices=["kgc", "baseline"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.texts, args.dim)
        return
    load = os.getloadavg()[0]
    runs = {}
    for variant in ("baseline", "kgc"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                variant,
                "--texts",
                str(args.texts),
                "--dim",
                str(args.dim),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        runs[variant] = json.loads(out.stdout)
        print(variant, runs[variant], flush=True)
    kgc, base = runs["kgc"], runs["baseline"]
    lines = [
        f"# Vector store: {args.texts:,} vectors of {args.dim} dimensions (load average {load:.1f} at start)",
        "",
        "CPU seconds per step (process time), sizes of what stays in the run directory; each variant in "
        "its own process. Baseline: the `.npy` batches, job file and `embeddings_by_chunk.npz` of 5c6714b.",
        "",
        "| | write in batches of 256 | read all | drop 1% | files, MB | peak RSS, MB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in (("baseline (npy + npz)", base), ("kgc (embeddings.sqlite)", kgc)):
        lines.append(
            f"| {name} | {r['write_cpu_s']:.2f} | {r['read_cpu_s']:.2f} | {r['prune_cpu_s']:.2f} | "
            f"{r['file_mb']:.0f} | {r['peak_rss_mb']:.0f} |"
        )
    lines.append(
        f"| kgc / baseline | {kgc['write_cpu_s'] / base['write_cpu_s']:.2f}x | "
        f"{kgc['read_cpu_s'] / base['read_cpu_s']:.2f}x | {kgc['prune_cpu_s'] / base['prune_cpu_s']:.2f}x | "
        f"{kgc['file_mb'] / base['file_mb']:.2f}x | {kgc['peak_rss_mb'] / base['peak_rss_mb']:.2f}x |"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "vector_store.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (RESULTS / "vector_store.json").write_text(
        json.dumps({"texts": args.texts, "dim": args.dim, "load_average": load, **runs}, indent=2) + "\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
