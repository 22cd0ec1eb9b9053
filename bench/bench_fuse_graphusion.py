"""Fusion of all four models' step-2 candidates in one run, against Graphusion's own fused graphs.

    .venv/bin/python bench/bench_fuse_graphusion.py

The 33,384 step-2 triplets (gpt-4o, gpt-4-turbo, gpt-3.5-turbo, llama3-70b) become candidates whose
provenance is their line ('gpt-4o:17'), so a relation's support is how many extracted lines state it.
No LLM and no embeddings: what fusion does alone. Acronym definitions are mined from the 1,073
abstracts. Graphusion's step-3 files (one per model, fused by that model with its LLM) are counted the
same way. Writes bench/results/fuse_graphusion.json and .md.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from name_sets import data_dir  # noqa: E402

from kgc.config import FusionConfig, ResolveConfig  # noqa: E402
from kgc.models import Candidate, Provenance  # noqa: E402
from kgc.resources import prompts_dir  # noqa: E402
from kgc.schema import RelationSchema  # noqa: E402
from kgc.stages.fusion import fuse  # noqa: E402

MODELS = ["gpt-4o", "gpt-4-turbo", "gpt-3.5-turbo", "llama3_70b"]
RESULTS = ROOT / "bench" / "results"


def triplets(path: Path) -> list[tuple[str, str, str]]:
    import ast

    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            h, r, t = ast.literal_eval(line.strip())
        except (ValueError, SyntaxError):
            continue
        out.append((" ".join(str(h).split()), str(r), " ".join(str(t).split())))
    return out


def counts(trips: list[tuple[str, str, str]]) -> dict[str, int]:
    return {"triplets": len(set(trips)), "entities": len({n for h, _, t in trips for n in (h, t)})}


def candidates(models: list[str]) -> list[Candidate]:
    cands = []
    for model in models:
        for n, (h, r, t) in enumerate(triplets(data_dir() / "candidates" / f"{model}.step2.txt")):
            cands.append(
                Candidate(
                    head=h,
                    relation=r,
                    tail=t,
                    provenance=[Provenance(doc_id=f"{model}:{n}", chunk_id=f"{model}:{n}")],
                )
            )
    return cands


class FusionRun(TypedDict):
    """kgc's fusion of all four models' candidates, as fuse_graphusion.json reports it."""

    seconds: float
    peak_rss_mb: int
    load_average_at_start: float
    entities: int
    relations: int
    merged_names: int
    conflicts: int
    relations_with_outvoted_direction: int
    relations_supported_by_2_or_more_lines: int
    counts: dict[str, int]


def main() -> None:
    cands = candidates(MODELS)
    abstracts = (data_dir() / "abstracts.txt").read_text(encoding="utf-8").splitlines()
    cfg = FusionConfig(resolve_with_llm=False, infer_links=False)
    resolution = ResolveConfig(embedding_merge=False, llm_band=False)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    result = fuse(
        cands,
        RelationSchema(),
        cfg,
        resolution,
        llm=None,
        prompts_dir=prompts_dir(),
        texts={str(i): a for i, a in enumerate(abstracts)},
    )
    seconds = time.perf_counter() - start
    g = result.graph
    graphusion = {m: counts(triplets(data_dir() / "candidates" / f"{m}.step3-fused.txt")) for m in MODELS}
    alone = {}
    for m in MODELS:  # each model's candidates fused alone, as Graphusion fused them
        r = fuse(
            candidates([m]),
            RelationSchema(),
            cfg,
            resolution,
            llm=None,
            prompts_dir=prompts_dir(),
            texts={str(i): a for i, a in enumerate(abstracts)},
        )
        alone[m] = {
            "candidates": r.counts["candidates"],
            "entities": len(r.graph.entities),
            "relations": len(r.graph.relations),
        }
    union = [t for m in MODELS for t in triplets(data_dir() / "candidates" / f"{m}.step3-fused.txt")]
    names = {n for c in cands for n in (c.head, c.tail)}
    k: FusionRun = {
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average_at_start": round(load, 2),
        "entities": len(g.entities),
        "relations": len(g.relations),
        "merged_names": len(g.merges),
        "conflicts": len(g.conflicts),
        "relations_with_outvoted_direction": sum(1 for r in g.relations if r.reversed_sources),
        "relations_supported_by_2_or_more_lines": sum(1 for r in g.relations if r.support >= 2),
        "counts": dict(result.counts),
    }
    u = counts(union)
    report = {
        "candidates": len(cands),
        "distinct_candidate_names": len(names),
        "kgc": k,
        "kgc_per_model": alone,
        "graphusion_step3_per_model": graphusion,
        "graphusion_step3_union": u,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fuse_graphusion.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"Fusion of all four models' step-2 candidates ({len(cands):,} triplets, {len(names):,} distinct names), no LLM,",
        f"in {k['seconds']} s ({k['peak_rss_mb']} MB peak, load average {k['load_average_at_start']} on 2 cores).",
        "",
        "| candidates of | candidates | kgc entities | kgc relations | Graphusion step-3 entities | Graphusion step-3 relations |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m, c in graphusion.items():
        a = alone[m]
        lines.append(
            f"| {m} | {a['candidates']:,} | {a['entities']:,} | {a['relations']:,} | {c['entities']:,} | {c['triplets']:,} |"
        )
    lines.append(
        f"| all four, fused together | {len(cands):,} | {k['entities']:,} | {k['relations']:,} | {u['entities']:,} (union) | {u['triplets']:,} (union) |"
    )
    lines += [
        "",
        f"kgc merged {k['merged_names']:,} names into others; {k['conflicts']:,} entity pairs had competing relations; "
        f"{k['relations_with_outvoted_direction']:,} relations were given in both directions (the outvoted one kept as provenance); "
        f"{k['relations_supported_by_2_or_more_lines']:,} relations are stated by two or more candidate lines.",
    ]
    (RESULTS / "fuse_graphusion.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
