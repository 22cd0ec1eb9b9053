"""GraphML and JSON outputs read back to the same graph."""

from pathlib import Path

import networkx as nx

from kgc.export.graph_files import read_graph, to_networkx, write_graph
from kgc.models import Entity, KnowledgeGraph, MergeDecision, Relation


def sample_graph() -> KnowledgeGraph:
    return KnowledgeGraph(
        entities=[
            Entity(id="bleu", name="BLEU", aliases=["bleu score"], support=2, sources=["d1", "d2"]),
            Entity(
                id="machine-translation", name="machine translation", type="task", support=1, sources=["d1"]
            ),
        ],
        relations=[
            Relation(
                head="bleu",
                relation="Evaluate-for",
                tail="machine-translation",
                support=2,
                confidence=0.75,
                sources=["d1", "d2"],
                evidence=['BLEU "scores" MT <output>'],
            )
        ],
        merges=[MergeDecision(alias="bleu score", canonical="BLEU", reason="fuzzy", score=0.93)],
    )


def test_write_and_read_back_graphml_and_json(tmp_path: Path) -> None:
    graph = sample_graph()
    paths = write_graph(graph, tmp_path)
    assert [p.name for p in paths] == ["graph.json", "graph.graphml", "entities.jsonl", "relations.jsonl"]

    assert read_graph(tmp_path) == graph  # graph.json keeps everything, merges included

    g = nx.read_graphml(tmp_path / "graph.graphml")  # what Gephi/yEd users load
    assert sorted(g.nodes) == ["bleu", "machine-translation"]
    assert g.nodes["bleu"]["name"] == "BLEU"
    edge = g.edges["bleu", "machine-translation"]
    assert (edge["relation"], edge["support"], edge["confidence"], edge["inferred"]) == (
        "Evaluate-for",
        2,
        0.75,
        False,
    )
    from_graphml = read_graph(tmp_path / "graph.graphml")
    assert from_graphml.entities == graph.entities
    assert from_graphml.relations == graph.relations


def test_to_networkx_has_provenance_on_edges() -> None:
    g = to_networkx(sample_graph())
    assert g.edges["bleu", "machine-translation"]["sources"] == ["d1", "d2"]
    assert g.nodes["machine-translation"]["type"] == "task"
