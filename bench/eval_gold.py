"""Score a built graph against hand-written gold triplets (default: the demo corpus's gold file).

    .venv/bin/python bench/eval_gold.py runs/demo            # writes bench/results/demo_quality.json

Names are compared after kgc's own normalisation, through every alias of an entity, so 'NMT' in the
graph matches 'neural machine translation' in the gold file when fusion merged them. Measures:
`gold_recall_exact` (gold triplets in the graph, relation and direction included), `gold_recall_pair`
(gold pairs joined by any relation), `gold_entity_recall`, and `relations_on_gold_pairs` (graph
relations joining a gold pair). The gold file is a sample of what the corpus states, so a relation
outside it is not necessarily wrong.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from kgc.export.graph_files import read_graph
from kgc.schema import RelationSchema
from kgc.text import normalise_name

REPO_ROOT = Path(__file__).resolve().parents[1]
GOLD = REPO_ROOT / "data" / "demo" / "gold_triplets.tsv"
RESULTS = REPO_ROOT / "bench" / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--gold", type=Path, default=GOLD)
    ap.add_argument("--name", default="demo_quality")
    args = ap.parse_args()

    graph = read_graph(args.run_dir)
    schema = RelationSchema()
    keys_of = {e.id: {normalise_name(n) for n in [e.name, *e.aliases]} for e in graph.entities}
    with args.gold.open(encoding="utf-8") as f:
        gold = [
            (normalise_name(r["head"]), r["relation"], normalise_name(r["tail"]))
            for r in csv.DictReader(f, delimiter="\t")
        ]
    gold_pairs = {frozenset((h, t)) for h, _, t in gold}

    def expand(r_head: str, r_tail: str) -> list[tuple[str, str]]:
        return [(h, t) for h in keys_of[r_head] for t in keys_of[r_tail]]

    edges = set()
    pairs = set()
    relations_in_gold_pairs = 0
    for r in graph.relations:
        directed = schema.get(r.relation).directed
        matched_pair = False
        for h, t in expand(r.head, r.tail):
            edges.add((h, r.relation, t))
            if not directed:
                edges.add((t, r.relation, h))
            pairs.add(frozenset((h, t)))
            matched_pair = matched_pair or frozenset((h, t)) in gold_pairs
        relations_in_gold_pairs += matched_pair
    result = {
        "run_dir": str(args.run_dir),
        "gold_triplets": len(gold),
        "entities": len(graph.entities),
        "relations": len(graph.relations),
        "gold_recall_exact": round(sum(g in edges for g in gold) / len(gold), 3),
        "gold_recall_pair": round(sum(frozenset((h, t)) in pairs for h, _, t in gold) / len(gold), 3),
        "gold_entity_recall": round(
            len({n for h, _, t in gold for n in (h, t)} & set().union(*keys_of.values()))
            / len({n for h, _, t in gold for n in (h, t)}),
            3,
        ),
        "relations_on_gold_pairs": relations_in_gold_pairs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
