"""Link prediction in Graphusion's concept setting: a graph linked to the LectureBank concept list.

Graphusion works over a given vocabulary (the 322 LectureBank concepts) and is scored on prerequisite
pairs among them; kgc's graphs name things as the text does, so almost no expert pair can be found
(bench/results/eval_graphusion.md: recall 0.002). Here each model's step-2 candidates are fused by kgc
without an LLM and without the expert graph (no leakage: fusion never sees the pairs it is scored on),
the entities are linked to the concepts (kgc.link, no LLM), and the graph is scored as fused, as
canonicalised (linked entities renamed to their concept, merged per concept) and as restricted (only
linked entities). Pairs: the 471 expert prerequisite edges and 471 sampled non-edges (seed 13), as in
bench/eval_graphusion.py.

    .venv/bin/python bench/bench_link_concepts.py [--models gpt-4o ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_link import lecturebank_vocabulary
from eval_graphusion import DATA, MODELS, PREREQ, SCHEMA, kgc_fuse, labelled_pairs

from kgc.evaluate import score_links
from kgc.evaluate.gold import read_triplets
from kgc.link import load_vocabulary, open_index
from kgc.link.entities import link_graph
from kgc.link.graph import apply_links

RESULTS = Path(__file__).with_name("results")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    args = ap.parse_args()
    expert = read_triplets(DATA / "prerequisite-of_graph.tsv", SCHEMA)
    concepts = [
        line.split("|", 1)[1].strip()
        for line in (DATA / "refined_concepts.tsv").read_text().splitlines()
        if "|" in line
    ]
    pairs = {
        "prerequisite_edge": labelled_pairs(concepts, expert, PREREQ),
        "any_edge": labelled_pairs(concepts, expert, None),
    }
    with tempfile.TemporaryDirectory() as tmp:
        index = open_index(load_vocabulary(lecturebank_vocabulary(Path(tmp) / "lb.tsv"), cache=False))
    out: dict[str, Any] = {"pairs": {"positives": len(expert), "negatives": len(expert)}, "models": {}}
    for model in args.models:
        graph, _ = kgc_fuse(read_triplets(DATA / "candidates" / f"{model}.step2.txt", SCHEMA), None)
        t = time.perf_counter()
        linked = link_graph(graph, index)
        seconds = round(time.perf_counter() - t, 1)
        row: dict[str, Any] = {
            "entities": len(graph.entities),
            "link_seconds": seconds,
            "links": dict(linked.counts),
        }
        for mode in ("annotate", "canonicalise", "restrict"):
            g = apply_links(graph, linked.links, mode)  # type: ignore[arg-type]
            row[mode] = {"entities": len(g.entities), "relations": len(g.relations)}
            for kind, labelled in pairs.items():
                ev = score_links(g, labelled, SCHEMA).scores
                row[mode][kind] = {
                    "precision": ev.precision,
                    "recall": ev.recall,
                    "f1": ev.f1,
                    "found": ev.true_positives,
                    "predicted": ev.true_positives + ev.false_positives,
                }
        out["models"][model] = row
        print(model, json.dumps(row))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "link_concepts.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
