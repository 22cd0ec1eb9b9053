"""Triplet scores: the graph's relations against gold triplets, strict, relaxed and as pairs.

Both sides are compared as sets of edges between entities: gold names are replaced by the entity they
match (see `matching`), so gold triplets that differ only by an alias of one entity are one gold edge,
and precision and recall count every edge once.
"""

from __future__ import annotations

from collections.abc import Iterable

from kgc.evaluate.gold import GoldTriplet
from kgc.evaluate.matching import (
    RELAXED_THRESHOLD,
    Edge,
    GraphMatcher,
    edge,
    graph_edges,
    is_matched,
    pair,
    relaxed_rule,
)
from kgc.evaluate.models import Score, TripletEval, ratio
from kgc.models import KnowledgeGraph
from kgc.schema import RelationSchema

SAMPLE = 10  # examples listed per kind of error


def show(e: Edge, index: GraphMatcher) -> str:
    return f"({index.label(e[0])}, {e[1]}, {index.label(e[2])})"


def gold_edges(
    gold: Iterable[GoldTriplet], index: GraphMatcher, schema: RelationSchema, relaxed: bool
) -> set[Edge]:
    return {edge(index.node(g.head, relaxed), g.relation, index.node(g.tail, relaxed), schema) for g in gold}


def _per_relation(gold: set[Edge], predicted: set[Edge]) -> dict[str, Score]:
    out = {}
    for rel in sorted({e[1] for e in gold | predicted}):
        g = {e for e in gold if e[1] == rel}
        p = {e for e in predicted if e[1] == rel}
        out[rel] = Score.of(len(g & p), len(p), len(g))
    return out


def score_triplets(
    graph: KnowledgeGraph,
    gold: list[GoldTriplet],
    schema: RelationSchema | None = None,
    *,
    threshold: float = RELAXED_THRESHOLD,
    gold_file: str = "",
) -> TripletEval:
    """Precision, recall and F1 of `graph`'s relations against `gold`, overall and per relation type."""
    schema = schema or RelationSchema()
    index = GraphMatcher(graph, threshold)
    predicted = graph_edges(graph, schema)
    predicted_on_pair = {pair(h, t): (h, r, t) for h, r, t in predicted}
    levels: dict[str, Score] = {}
    per_relation: dict[str, dict[str, Score]] = {}
    entity_recall: dict[str, float | None] = {}
    for level, relaxed in (("strict", False), ("relaxed", True)):
        expected = gold_edges(gold, index, schema, relaxed)
        expected_pairs = {pair(h, t) for h, _, t in expected}
        levels[level] = Score.of(len(expected & predicted), len(predicted), len(expected))
        levels[f"{level}_pairs"] = Score.of(
            len(expected_pairs & predicted_on_pair.keys()), len(predicted_on_pair), len(expected_pairs)
        )
        per_relation[level] = _per_relation(expected, predicted)
        nodes = {n for h, _, t in expected for n in (h, t)}
        entity_recall[level] = ratio(sum(is_matched(n) for n in nodes), len(nodes))
    # The errors listed are those left when names are matched generously (relaxed).
    missed = sorted(gold_edges(gold, index, schema, relaxed=True) - predicted)
    wrong = [
        (e, predicted_on_pair[pair(e[0], e[2])]) for e in missed if pair(e[0], e[2]) in predicted_on_pair
    ]
    return TripletEval(
        gold_file=gold_file,
        gold_lines=len(gold),
        relaxed_rule=relaxed_rule(threshold),
        levels=levels,
        per_relation=per_relation,
        entity_recall=entity_recall,
        missed=[show(e, index) for e in missed[:SAMPLE]],
        wrong_relation=[f"gold {show(g, index)}, graph {show(p, index)}" for g, p in wrong[:SAMPLE]],
    )
