"""Benchmark: relation cues alone (no LLM) against human gold: what the syntax patterns of
kgc.extraction.cues state, and how often it is right.

    KGC_SCIERC=/work/qdata/scierc .venv/bin/python bench/eval_cues.py            # tune, eval, demo
    .venv/bin/python bench/eval_cues.py --sets demo                             # the demo only

Each document is read as extraction reads it (candidate spans by spaCy, cues between them, names
judged by the name rules), every cue becomes a triplet of the set's schema (SciERC's in
data/scierc/kgc.toml; Graphusion's for the demo), and the graph of all of them (one relation per
pair, the first cue's) is scored by kgc.evaluate.score_triplets: strict, relaxed and pairs, per
relation. Per pattern: how many triplets it gave and how many are a gold triplet or a gold pair
(names compared by `kgc.extraction.names.key`). Patterns were written and tuned on the tune set
(SciERC's first 300 train abstracts); eval (dev + last 50 train) and the demo are reported only.
Writes bench/results/cues.md and cues.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scierc import eval_set, tune_set

from kgc.config import load_config
from kgc.evaluate import GoldTriplet, read_triplets, score_triplets
from kgc.extraction.cues import cue_triplets, find_cues
from kgc.extraction.names import NameRules, key
from kgc.extraction.spans import find_spans
from kgc.extraction.triplets import PassageIndex
from kgc.models import Entity, KnowledgeGraph, Relation
from kgc.resources import demo_dir
from kgc.schema import RelationSchema
from kgc.text import slug

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
SCIERC_CONFIG = BENCH.parent / "data" / "scierc" / "kgc.toml"


def documents(name: str) -> tuple[list[tuple[str, str]], list[GoldTriplet], RelationSchema]:
    """(id, text) of a set's documents, its gold triplets and its schema."""
    if name == "demo":
        corpus = demo_dir() / "corpus.jsonl"
        docs = [
            (d["id"], d["text"]) for d in map(json.loads, corpus.read_text(encoding="utf-8").splitlines())
        ]
        return docs, read_triplets(demo_dir() / "gold_triplets.tsv"), RelationSchema()
    abstracts = tune_set() if name == "tune" else eval_set()
    schema = load_config(SCIERC_CONFIG).relations
    gold = [GoldTriplet(g.head, g.relation, g.tail, a.doc_id) for a in abstracts for g in a.gold]
    return [(a.doc_id, a.text) for a in abstracts], gold, schema


def measure(name: str) -> dict[str, Any]:
    docs, gold, schema = documents(name)
    rules = NameRules()
    triplets: list[tuple[str, str, str, str]] = []  # head, relation, tail, pattern
    for _, text in docs:
        passage = find_spans(text)
        found, _ = cue_triplets(find_cues(passage), PassageIndex(passage), schema, rules, 80, known=[])
        triplets += [(t.head, t.relation, t.tail, pattern) for t, pattern in found]
    entities: dict[str, Entity] = {}
    relations: dict[frozenset[str], Relation] = {}
    for h, r, t, _ in triplets:
        for n in (h, t):
            entities.setdefault(slug(n), Entity(id=slug(n), name=n))
        relations.setdefault(frozenset((slug(h), slug(t))), Relation(head=slug(h), relation=r, tail=slug(t)))
    graph = KnowledgeGraph(entities=list(entities.values()), relations=list(relations.values()))
    scores = score_triplets(graph, gold, schema)

    def undirected(r: str) -> bool:
        return not schema.get(r).directed

    gold_keys = {(key(g.head), g.relation, key(g.tail)) for g in gold}
    gold_keys |= {(t, r, h) for h, r, t in gold_keys if undirected(r)}
    gold_pairs = {frozenset((key(g.head), key(g.tail))) for g in gold}
    by_pattern: dict[str, Counter[str]] = {}
    for h, r, t, pattern in triplets:
        c = by_pattern.setdefault(f"{pattern} -> {r}", Counter())
        c["triplets"] += 1
        c["right"] += (key(h), r, key(t)) in gold_keys
        c["reversed"] += (key(t), r, key(h)) in gold_keys and not undirected(r)
        c["gold pair"] += frozenset((key(h), key(t))) in gold_pairs
    return {
        "set": name,
        "documents": len(docs),
        "gold": len(gold),
        "cue_triplets": len(triplets),
        "levels": {k: v.model_dump() for k, v in scores.levels.items()},
        "per_relation": {k: v.model_dump() for k, v in scores.per_relation["relaxed"].items()},
        "patterns": {p: dict(c) for p, c in sorted(by_pattern.items(), key=lambda x: -x[1]["triplets"])},
    }


def _score(s: dict[str, Any]) -> str:
    return f"{s['f1'] or 0:.3f} ({s['precision'] or 0:.2f}/{s['recall'] or 0:.2f}, {s['true_positives']}/{s['predicted']})"


def _table(title: str, header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["", f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]


def render(results: list[dict[str, Any]]) -> str:
    header = ["set", "docs", "gold", "cue triplets", "strict F1 (P/R, right/graph)", "relaxed F1", "pairs F1"]
    rows: list[list[object]] = [
        [r["set"], r["documents"], r["gold"], r["cue_triplets"]]
        + [_score(r["levels"][level]) for level in ("strict", "relaxed", "relaxed_pairs")]
        for r in results
    ]
    lines = [
        "# Relation cues alone (no LLM) against gold",
        "",
        "Written by bench/eval_cues.py (see its docstring).",
    ]
    lines += _table("All", header, rows)
    for r in results:
        per_relation: list[list[object]] = [
            [
                rel,
                *(f"{s[k] or 0:.2f}" for k in ("precision", "recall", "f1")),
                s["true_positives"],
                s["predicted"],
                s["gold"],
            ]
            for rel, s in r["per_relation"].items()
        ]
        lines += _table(
            f"{r['set']}: per relation (relaxed)",
            ["relation", "P", "R", "F1", "right", "graph", "gold"],
            per_relation,
        )
        per_pattern: list[list[object]] = [
            [p, c["triplets"], c.get("right", 0), c.get("reversed", 0), c.get("gold pair", 0)]
            for p, c in r["patterns"].items()
        ]
        lines += _table(
            f"{r['set']}: per pattern (names by key)",
            ["pattern -> relation", "triplets", "right", "reversed", "gold pair"],
            per_pattern,
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", choices=["tune", "eval", "demo"], default=["tune", "eval", "demo"])
    ap.add_argument("--out", default="cues", help="results name: bench/results/<out>.{md,json}")
    args = ap.parse_args()
    results = [measure(s) for s in args.sets]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    text = render(results)
    (RESULTS / f"{args.out}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
