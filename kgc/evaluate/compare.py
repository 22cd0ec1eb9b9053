"""Run against run: which entities and relations two graphs share, and what changed between them.

An entity of B is the entity of A that has one of its names (canonical or alias, normalised); B's
relations are then read in A's entities and compared as edges, undirected relations in either order.
"""

from __future__ import annotations

from pathlib import Path

from kgc.evaluate.matching import Edge, GraphMatcher, edge, graph_edges, pair
from kgc.evaluate.models import Comparison, Score
from kgc.models import KnowledgeGraph
from kgc.schema import RelationSchema

SAMPLE = 10
_ONLY_B = "?b:"  # node of a B entity A does not have; the '?' keeps it apart from A's slugs


def compare_graphs(
    a: KnowledgeGraph, b: KnowledgeGraph, schema: RelationSchema | None = None, *, other_run: str | Path = ""
) -> Comparison:
    schema = schema or RelationSchema()
    index = GraphMatcher(a)
    in_a: dict[str, str] = {}  # B entity id -> A entity id
    for e in b.entities:
        for surface in (e.name, *e.aliases):
            if (found := index.strict(surface)) is not None:
                in_a[e.id] = found
                break
    b_names = {_ONLY_B + e.id: e.name for e in b.entities}

    def node(b_id: str) -> str:
        return in_a.get(b_id, _ONLY_B + b_id)

    def show(e: Edge) -> str:
        h, r, t = e
        return f"({b_names.get(h, index.label(h))}, {r}, {b_names.get(t, index.label(t))})"

    edges_a = graph_edges(a, schema)
    edges_b = {edge(node(r.head), r.relation, node(r.tail), schema) for r in b.relations}
    pairs_a = {pair(h, t): (h, r, t) for h, r, t in edges_a}
    pairs_b = {pair(h, t): (h, r, t) for h, r, t in edges_b}
    other = sorted(
        (pairs_a[p], pairs_b[p]) for p in pairs_a.keys() & pairs_b.keys() if pairs_a[p] != pairs_b[p]
    )
    shared_entities = len(set(in_a.values()))
    return Comparison(
        other_run=str(other_run),
        entities={
            "a": len(a.entities),
            "b": len(b.entities),
            "shared": shared_entities,
            "only_a": len(a.entities) - shared_entities,
            "only_b": len(b.entities) - len(in_a),
        },
        relations={
            "a": len(edges_a),
            "b": len(edges_b),
            "shared": len(edges_a & edges_b),
            "only_a": len(edges_a - edges_b),
            "only_b": len(edges_b - edges_a),
            "other_relation": len(other),
        },
        relations_score=Score.of(len(edges_a & edges_b), len(edges_a), len(edges_b)),
        pairs_score=Score.of(len(pairs_a.keys() & pairs_b.keys()), len(pairs_a), len(pairs_b)),
        only_a=[show(e) for e in sorted(edges_a - edges_b)[:SAMPLE]],
        only_b=[show(e) for e in sorted(edges_b - edges_a)[:SAMPLE]],
        other_relation=[f"A {show(x)}, B {show(y)}" for x, y in other[:SAMPLE]],
    )
