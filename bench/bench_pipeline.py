"""Benchmark: the whole pipeline on Graphusion's 1,073 ACL abstracts against the scripted LLM server.

Measures wall time and peak memory per stage and LLM requests/tokens per document. The server answers
with zero latency by default, so the times are kgc's own work ("everything but waiting for the LLM");
`--latency` adds a fixed per-request delay to see the effect of concurrency.

    .venv/bin/python bench/bench_pipeline.py            # writes bench/results/pipeline.json and .md
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from kgc.config import load_config
from kgc.pipeline import Pipeline
from kgc.testing.scripted_server import ScriptedServer

REPO_ROOT = Path(__file__).resolve().parents[1]
ABSTRACTS = REPO_ROOT.parent / "shared" / "data" / "graphusion" / "abstracts.txt"
RESULTS = REPO_ROOT / "bench" / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ABSTRACTS)
    ap.add_argument(
        "--latency", type=float, default=0.0, help="seconds the scripted server waits per request"
    )
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()

    with ScriptedServer(latency=args.latency) as server, tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(
            None,
            {
                "llm.backend": "openai",
                "llm.base_url": server.base_url,
                "llm.model": "scripted",
                "llm.limits.concurrency": args.concurrency,
            },
        )
        started = time.perf_counter()
        pipeline = Pipeline(cfg, Path(tmp) / "run", corpus=args.corpus)
        pipeline.llm.show_progress = False
        graph = pipeline.run_until("fusion")
        total = time.perf_counter() - started
        manifest = pipeline.run.manifest()
        stats = server.stats
    assert graph is not None

    docs = manifest.stages["corpus"].counts["documents"]
    seeds = manifest.stages["seeds"].counts["seeds"]
    extraction = manifest.stages["extraction"]
    fusion = manifest.stages["fusion"]
    llm_requests = stats.total
    tokens = sum(
        int(s.llm.get("prompt_tokens", 0) + s.llm.get("completion_tokens", 0)) for s in (extraction, fusion)
    )
    result = {
        "corpus": str(args.corpus),
        "documents": docs,
        "latency_per_request_s": args.latency,
        "concurrency": args.concurrency,
        "total_seconds": round(total, 2),
        "stages": {
            name: {"seconds": rec.seconds, "peak_rss_mb_so_far": rec.peak_rss_mb, "counts": rec.counts}
            for name, rec in manifest.stages.items()
        },
        "llm_requests": {
            "extraction": stats.by_task.get("extraction", 0),
            "fusion": stats.by_task.get("fusion", 0),
        },
        "llm_requests_per_document": round(llm_requests / docs, 3),
        "llm_tokens_per_document": round(tokens / docs, 1),
        "graph": {
            "entities": len(graph.entities),
            "relations": len(graph.relations),
            "merges": len(graph.merges),
        },
        "checks": {
            "extraction_requests_le_seeds": stats.by_task.get("extraction", 0) <= seeds,
            "fusion_requests_le_neighbourhood_limit": stats.by_task.get("fusion", 0)
            <= cfg.fusion.max_neighbourhoods,
            "peak_rss_under_4gb": max(r.peak_rss_mb for r in manifest.stages.values()) < 4096,
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pipeline.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"# Pipeline on {docs} documents (scripted LLM, latency {args.latency}s, concurrency {args.concurrency})",
        "",
        "| stage | seconds | peak RSS so far (MB) | counts |",
        "|---|---|---|---|",
    ]
    for name, rec in manifest.stages.items():
        counts = ", ".join(f"{k} {v}" for k, v in rec.counts.items())
        lines.append(f"| {name} | {rec.seconds:.1f} | {rec.peak_rss_mb:.0f} | {counts} |")
    lines += [
        "",
        f"Total {total:.1f} s. LLM requests: {result['llm_requests']} "
        f"({result['llm_requests_per_document']} per document, {result['llm_tokens_per_document']} tokens per document).",
        f"Graph: {result['graph']}. Checks: {result['checks']}.",
    ]
    (RESULTS / "pipeline.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
