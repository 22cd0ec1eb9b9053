"""What can be said about a graph without any gold data: its shape, and what the schema refused."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

import networkx as nx

from kgc.evaluate.matching import edge
from kgc.evaluate.models import Conformance, Distribution, GraphHealth, ratio
from kgc.models import KnowledgeGraph
from kgc.schema import RelationSchema

SAMPLE = 10
# Degree buckets: where a graph's hubs and leaves are, in a dozen characters.
_BUCKETS = ((0, 0), (1, 1), (2, 2), (3, 5), (6, 10), (11, 50), (51, None))


def _bucket(low: int, high: int | None) -> str:
    if high is None:
        return f">{low - 1}"
    return str(low) if low == high else f"{low}-{high}"


def _distribution(values: list[int]) -> Distribution:
    histogram = {
        _bucket(lo, hi): sum(1 for v in values if v >= lo and (hi is None or v <= hi)) for lo, hi in _BUCKETS
    }
    if not values:
        return Distribution(minimum=0, median=0.0, mean=0.0, maximum=0, histogram=histogram)
    return Distribution(
        minimum=min(values),
        median=float(statistics.median(values)),
        mean=round(statistics.fmean(values), 3),
        maximum=max(values),
        histogram=histogram,
    )


def graph_health(graph: KnowledgeGraph, schema: RelationSchema | None = None) -> GraphHealth:
    """Counts, degree distribution, components, and the defects fusion must never leave (self-loops,
    duplicate edges, edges to no entity)."""
    schema = schema or RelationSchema()
    ids = {e.id for e in graph.entities}
    degree: Counter[str] = Counter({i: 0 for i in ids})
    undirected = nx.Graph()
    undirected.add_nodes_from(ids)
    for r in graph.relations:
        degree[r.head] += 1
        degree[r.tail] += 1
        if r.head in ids and r.tail in ids:
            undirected.add_edge(r.head, r.tail)
    seen = Counter(edge(r.head, r.relation, r.tail, schema) for r in graph.relations)
    self_loops = sum(r.head == r.tail for r in graph.relations)
    duplicates = sum(n - 1 for n in seen.values())
    dangling = sum(r.head not in ids or r.tail not in ids for r in graph.relations)
    problems = [
        f"{n} {what}"
        for n, what in (
            (self_loops, "self-loop(s)"),
            (duplicates, "duplicate edge(s)"),
            (dangling, "edge(s) to an entity not in the graph"),
        )
        if n
    ]
    components = list(nx.connected_components(undirected))
    return GraphHealth(
        entities=len(graph.entities),
        relations=len(graph.relations),
        relation_types=dict(Counter(r.relation for r in graph.relations).most_common()),
        degree=_distribution([degree[i] for i in sorted(ids)]),
        components=len(components),
        largest_component=max((len(c) for c in components), default=0),
        isolated_entities=sum(1 for i in ids if degree[i] == 0),
        inferred_share=ratio(sum(r.inferred for r in graph.relations), len(graph.relations)),
        self_loops=self_loops,
        duplicate_edges=duplicates,
        dangling_edges=dangling,
        problems=problems,
    )


def conformance(
    extraction_report: dict[str, Any],
    candidates_kept: int,
    graph: KnowledgeGraph | None = None,
    bad_names: dict[str, str] | None = None,
) -> Conformance:
    """The share of extracted triplets the schema and the name rules dropped, by reason (from
    extraction_report.json), and the graph's entities whose names are still no concept (`bad_names`:
    entity id -> reason, from `kgc.evaluate.errors.name_problems`)."""
    names = {e.id: e.name for e in graph.entities} if graph is not None else {}
    dropped = {str(k): int(v) for k, v in (extraction_report.get("dropped") or {}).items()}
    total_dropped = sum(dropped.values())
    return Conformance(
        candidates_kept=candidates_kept,
        dropped=dict(sorted(dropped.items(), key=lambda kv: -kv[1])),
        dropped_share=ratio(total_dropped, total_dropped + candidates_kept),
        failed_tasks=len(extraction_report.get("failed_tasks") or []),
        entities=len(graph.entities) if graph is not None else 0,
        entity_names=dict(Counter((bad_names or {}).values()).most_common()),
        entity_name_examples=[names[i] for i in sorted(bad_names or {})[:SAMPLE] if i in names],
        cues={str(k): int(v) for k, v in (extraction_report.get("cues") or {}).items()},
    )
