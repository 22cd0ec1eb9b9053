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

With --build, the graph is built by kgc itself from the 1,073 abstracts with the concepts as its only
seeds (Graphusion's setting: one extraction call per concept with its retrieved abstracts), by the
scripted server (--llm scripted: plumbing, its triplets are phrases of the text) or the embedded model
(--llm embedded: a real number, slow: --concepts N takes the N concepts with the most expert edges,
and the pairs are those among them).

    .venv/bin/python bench/bench_link_concepts.py --build --llm scripted
    .venv/bin/python bench/bench_link_concepts.py --build --llm embedded --concepts 30
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_link import lecturebank_vocabulary
from eval_graphusion import DATA, MODELS, PREREQ, SCHEMA, kgc_fuse, labelled_pairs

from kgc.evaluate import score_links
from kgc.evaluate.gold import GoldTriplet, LabelledPair, read_triplets
from kgc.export.graph_files import read_graph
from kgc.link import load_vocabulary, open_index
from kgc.link.entities import link_graph
from kgc.link.graph import apply_links
from kgc.link.index import VocabIndex
from kgc.models import KnowledgeGraph
from kgc.testing.scripted_server import ScriptedServer
from kgc.text import normalise_name

RESULTS = Path(__file__).with_name("results")
if not DATA.is_dir():  # a checkout outside /work: the shared data at its usual place
    DATA = Path("/work/shared/data/graphusion")


def score_modes(
    graph: KnowledgeGraph, index: VocabIndex, pairs: dict[str, list[LabelledPair]]
) -> dict[str, Any]:
    t = time.perf_counter()
    linked = link_graph(graph, index)
    row: dict[str, Any] = {
        "entities": len(graph.entities),
        "link_seconds": round(time.perf_counter() - t, 1),
        "links": dict(linked.counts),
    }
    for mode in ("annotate", "canonicalise", "restrict"):
        g = apply_links(graph, linked.links, mode)
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
    return row


def build(
    llm: str,
    n_concepts: int | None,
    concepts: list[str],
    expert: list[GoldTriplet],
    index: VocabIndex,
    max_chars: int,
) -> dict[str, Any]:
    """kgc build over the abstracts with the concepts as seeds, then link and score."""
    degree = Counter(normalise_name(n) for e in expert for n in (e.head, e.tail))
    chosen = sorted(concepts, key=lambda c: (-degree[normalise_name(c)], c))[: n_concepts or len(concepts)]
    keep = {normalise_name(c) for c in chosen}
    sub = [e for e in expert if normalise_name(e.head) in keep and normalise_name(e.tail) in keep]
    pairs = {
        "prerequisite_edge": labelled_pairs(chosen, sub, PREREQ),
        "any_edge": labelled_pairs(chosen, sub, None),
    }
    run = RESULTS.parent / "runs" / f"link_concepts_{llm}_{len(chosen)}"
    config = run.with_suffix(".toml")
    run.parent.mkdir(parents=True, exist_ok=True)
    seeds = json.dumps(chosen)
    config.write_text(
        f'[corpus]\nformat = "lines"\n[seeds]\nuser_seeds = {seeds}\nuser_seeds_only = true\n'
        f"[retrieval]\nmax_chars = {max_chars}\n"
        "[fusion]\nresolve_with_llm = false\ninfer_links = false\nembedding_merge = false\n",
        encoding="utf-8",
    )
    command = [
        sys.executable,
        "-m",
        "kgc.cli",
        "build",
        str(DATA / "abstracts.txt"),
        "--out",
        str(run),
        "-c",
        str(config),
    ]
    t = time.perf_counter()
    if llm == "scripted":
        with ScriptedServer() as server:
            env = {**os.environ, "OPENAI_API_KEY": "scripted"}
            subprocess.run(
                [*command, "--backend", "openai", "--base-url", server.base_url], check=True, env=env
            )
    else:
        subprocess.run([*command, "--backend", "embedded", "--concurrency", "1"], check=True)
    seconds = round(time.perf_counter() - t, 1)
    row = score_modes(read_graph(run), index, pairs)
    return {
        "llm": llm,
        "concepts": len(chosen),
        "expert_edges": len(sub),
        "retrieval_max_chars": max_chars,
        "build_seconds": seconds,
        **row,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--build", action="store_true")
    ap.add_argument("--llm", choices=["scripted", "embedded"], default="scripted")
    ap.add_argument("--concepts", type=int, default=None)
    ap.add_argument("--max-chars", type=int, default=10_000, help="extraction.max_chars (Graphusion: 10,000)")
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
    if args.build:
        row = build(args.llm, args.concepts, concepts, expert, index, args.max_chars)
        print(json.dumps(row))
        RESULTS.mkdir(exist_ok=True)
        name = f"link_concepts_build_{args.llm}_{row['concepts']}.json"
        (RESULTS / name).write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
        return
    out: dict[str, Any] = {"pairs": {"positives": len(expert), "negatives": len(expert)}, "models": {}}
    for model in args.models:
        graph, _ = kgc_fuse(read_triplets(DATA / "candidates" / f"{model}.step2.txt", SCHEMA), None)
        out["models"][model] = score_modes(graph, index, pairs)
        print(model, json.dumps(out["models"][model]))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "link_concepts.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
