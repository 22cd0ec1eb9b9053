"""Benchmark: would a corpus-level ("global") support rule make a finished run's relations more right?

    .venv/bin/python bench/eval_support.py DEMO_RUN                                  # demo gold
    .venv/bin/python bench/eval_support.py SCIERC_RUN --gold SCIERC_RUN/scierc_gold.tsv --schema data/scierc/kgc.toml

Graphusion's global view suggests keeping what the corpus supports beyond one passage. Each rule keeps
a relation when its ends pass it (a seed is a name of seeds.jsonl; support is the number of documents
an entity was extracted from; text frequency the number of documents that mention one of its names),
and the kept relations are scored at `kgc eval`'s pairs level (relaxed names). Nothing is rebuilt: the
run is read as it is (rebuild it first with bench/eval_demo.py --rebuild or bench/eval_scierc.py --run).
Appends a table to bench/results/support.md.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path

from kgc.config import load_config
from kgc.evaluate import read_triplets
from kgc.evaluate.matching import GraphMatcher, pair
from kgc.evaluate.triplets import gold_edges
from kgc.export.graph_files import read_graph
from kgc.extraction.names import key
from kgc.models import Entity
from kgc.resources import demo_dir
from kgc.schema import RelationSchema

RESULTS = Path(__file__).resolve().parent / "results"
Rule = Callable[[Entity, Entity], bool]


def rules(run: Path) -> dict[str, Rule]:
    seeds_file = run / "seeds.jsonl"
    lines = seeds_file.read_text(encoding="utf-8").splitlines() if seeds_file.exists() else []
    seeds = {key(json.loads(line)["name"]) for line in lines}
    docs = [json.loads(line)["text"].lower() for line in (run / "documents.jsonl").open(encoding="utf-8")]

    def seed(e: Entity) -> bool:
        return any(key(n) in seeds for n in (e.name, *e.aliases))

    def mentioned(e: Entity) -> int:
        pats = [re.compile(r"\b" + re.escape(n.lower())) for n in (e.name, *e.aliases)]
        return sum(any(p.search(d) for p in pats) for d in docs)

    def wide(e: Entity) -> bool:
        return seed(e) or len(e.sources) >= 2

    return {
        "all relations (no rule)": lambda h, t: True,
        "one end a seed": lambda h, t: seed(h) or seed(t),
        "each end a seed or extracted from >= 2 documents": lambda h, t: wide(h) and wide(t),
        "one end a seed or extracted from >= 2 documents": lambda h, t: wide(h) or wide(t),
        "each end a seed or mentioned in >= 2 documents": lambda h, t: all(
            seed(x) or mentioned(x) >= 2 for x in (h, t)
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--gold", type=Path, default=demo_dir() / "gold_triplets.tsv")
    ap.add_argument(
        "--schema", type=Path, help="a kgc.toml whose relations the gold uses (default: Graphusion's)"
    )
    args = ap.parse_args()
    schema = load_config(args.schema).relations if args.schema else RelationSchema()
    graph = read_graph(args.run / "graph.json")
    index = GraphMatcher(graph)
    gold_pairs = {
        pair(h, t) for h, _, t in gold_edges(read_triplets(args.gold, schema), index, schema, relaxed=True)
    }
    entity = {e.id: e for e in graph.entities}
    lines = [
        f"\n## {args.run.name} against {args.gold.name} ({len(gold_pairs)} gold pairs)\n",
        "| rule | relations | gold pairs | P | R |",
        "|---|---|---|---|---|",
    ]
    for name, rule in rules(args.run).items():
        kept = [r for r in graph.relations if rule(entity[r.head], entity[r.tail])]
        right = sum(pair(r.head, r.tail) in gold_pairs for r in kept)
        p, r = right / max(1, len(kept)), right / max(1, len(gold_pairs))
        lines.append(f"| {name} | {len(kept)} | {right} | {p:.3f} | {r:.3f} |")
    text = "\n".join(lines) + "\n"
    out = RESULTS / "support.md"
    if not out.exists():
        out.write_text("# Corpus-level support rules on finished runs\n\nWritten by bench/eval_support.py.\n")
    with out.open("a", encoding="utf-8") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
