"""A synthetic run directory of any size (graph, candidates with evidence, merges, manifest), for the
view's scale tests and benchmark: the real pipeline cannot cheaply make a 5,000-entity graph here."""

from __future__ import annotations

import random
from pathlib import Path

import networkx as nx

from kgc.artifacts import CANDIDATES, GRAPH, MERGES
from kgc.export.graph_files import write_graph
from kgc.models import (
    Candidate,
    ConflictDecision,
    Entity,
    KnowledgeGraph,
    MergeDecision,
    Provenance,
    Relation,
)
from kgc.rundir import RunDir, StageRecord
from kgc.schema import GRAPHUSION_RELATIONS

RELATIONS = [r.name for r in GRAPHUSION_RELATIONS]


def synthetic_graph(entities: int, relations: int, seed: int = 0) -> tuple[KnowledgeGraph, list[Candidate]]:
    """A scale-free graph (a few hubs, many leaves, like real ones) with `entities` nodes and about
    `relations` edges; one candidate with an evidence sentence per extracted edge."""
    rng = random.Random(seed)
    per_node = max(1, round(relations / entities))
    g = nx.barabasi_albert_graph(entities, per_node, seed=seed)
    names = [f"concept {i}" for i in range(entities)]
    ids = [f"concept-{i}" for i in range(entities)]
    rels: list[Relation] = []
    candidates: list[Candidate] = []
    for u, v in sorted(g.edges()):
        relation = rng.choice(RELATIONS)
        inferred = rng.random() < 0.1
        docs = [] if inferred else sorted({f"doc{rng.randrange(entities)}" for _ in range(rng.randint(1, 4))})
        sentence = f"{names[u]} relates to {names[v]} as {relation}."
        rels.append(
            Relation(
                head=ids[u],
                relation=relation,
                tail=ids[v],
                support=len(docs),
                confidence=0.5 if inferred else round(1 - 0.5 ** len(docs), 4),
                inferred=inferred,
                decided_by="inference" if inferred else "support",
                sources=docs,
                evidence=[] if inferred else [sentence],
            )
        )
        if not inferred:
            prov = [Provenance(doc_id=d, chunk_id=f"{d}#0", evidence=sentence) for d in docs]
            candidates.append(Candidate(head=names[u], relation=relation, tail=names[v], provenance=prov))
    degree = dict(g.degree())
    sources: dict[int, set[str]] = {i: set() for i in range(entities)}
    for r, (u, v) in zip(rels, sorted(g.edges()), strict=True):
        sources[u].update(r.sources)
        sources[v].update(r.sources)
    ents = [
        Entity(
            id=ids[i],
            name=names[i],
            aliases=[f"c{i}"] if degree[i] > 20 else [],
            support=len(sources[i]),
            sources=sorted(sources[i]),
        )
        for i in range(entities)
    ]
    merges = [
        MergeDecision(alias=e.aliases[0], canonical=e.name, reason="acronym") for e in ents if e.aliases
    ]
    conflicts = [
        ConflictDecision(
            head=r.head,
            tail=r.tail,
            options={f"{r.head}|{r.relation}|{r.tail}": 2, f"{r.head}|Compare|{r.tail}": 1},
            chosen=f"{r.head}|{r.relation}|{r.tail}",
            decided_by="support",
        )
        for r in rels[::50]
        if r.relation != "Compare"
    ]
    graph = KnowledgeGraph(entities=ents, relations=rels, merges=merges, conflicts=conflicts)
    return graph, candidates


def write_synthetic_run(path: Path, entities: int, relations: int, seed: int = 0) -> RunDir:
    """A run directory holding the graph files, candidates.jsonl, merges.jsonl and a manifest."""
    graph, candidates = synthetic_graph(entities, relations, seed)
    run = RunDir(path)
    write_graph(graph, run.path)
    run.write(CANDIDATES, candidates)
    run.write(MERGES, graph.merges)
    counts = {"entities": len(graph.entities), "relations": len(graph.relations), "merges": len(graph.merges)}
    run.record("fusion", StageRecord(outputs=[GRAPH.name], counts=counts))
    return run
