"""Control characters in what an LLM writes (NUL, BEL, terminal escapes) never reach a name, and the
GraphML file stays valid XML whatever the graph holds."""

from __future__ import annotations

import io
from pathlib import Path

import networkx as nx
import pytest

from kgc.config import ExtractionConfig
from kgc.export.graph_files import graphml_text, read_graph, write_graph
from kgc.models import Chunk, Entity, KnowledgeGraph, Relation
from kgc.schema import RelationSchema
from kgc.stages.extraction import ExtractionAnswer, ExtractionTask, Triplet, validate_triplets
from kgc.text import clean_text

HOSTILE = "\x00machine\x07 \x1b[31mtrans\x1b[0mlation\x0b\x1b]0;title\x07\r\n\ud83d"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (HOSTILE, "machine translation"),
        ("a\x00b\x08c", "abc"),
        ("tab\tand\x0cform feed\x85next\u2028line", "tab and form feed next line"),
        ("\x1b[1;32mBERT\x1b[0m", "BERT"),
        ("café \U0001f600 naïve", "café \U0001f600 naïve"),  # a paired emoji is text, kept
        ("\ufffe\uffff", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_extraction_cleans_names_and_evidence() -> None:
    chunk = Chunk(id="d#0", doc_id="d", text="Attention is used for machine translation.", start=0, end=42)
    task = ExtractionTask(key="attention", seed="attention", chunks=[chunk])
    answer = ExtractionAnswer(
        triplets=[
            Triplet(
                head="atten\x00tion", relation="Used-for", tail=HOSTILE, evidence="Attention\x07 is used."
            ),
            Triplet(head="\x1b[31m\x1b[0m", relation="Used-for", tail="x"),  # nothing left of the head
        ]
    )
    kept, dropped = validate_triplets(answer, task, RelationSchema(), ExtractionConfig())
    # names as the passage writes them; the evidence is the passage's sentence, not the model's text
    assert [(c.head, c.relation, c.tail, c.evidence) for c in kept] == [
        ("Attention", "Used-for", "machine translation", "Attention is used for machine translation.")
    ]
    assert dict(dropped) == {"empty name": 1}


def hostile_graph() -> KnowledgeGraph:
    """A graph as it could come from an older run or a hand edit: the names were never cleaned."""
    return KnowledgeGraph(
        entities=[
            Entity(
                id="nul\x00id", name="NUL\x00 and BEL\x07", aliases=["\x1b[31mred\x1b[0m"], sources=["d\x01"]
            ),
            Entity(id="plain", name="plain \ufffe noncharacter"),
        ],
        relations=[
            Relation(head="nul\x00id", relation="Used-for", tail="plain", evidence=["form\x0cfeed \x0b"])
        ],
    )


def test_graphml_with_control_characters_is_valid_and_reads_back(tmp_path: Path) -> None:
    write_graph(hostile_graph(), tmp_path)
    g = nx.read_graphml(tmp_path / "graph.graphml")  # what Gephi, yEd and networkx users do
    assert sorted(g.nodes) == ["nul\ufffdid", "plain"]
    assert g.nodes["nul\ufffdid"]["name"] == "NUL\ufffd and BEL\ufffd"
    assert g.nodes["nul\ufffdid"]["aliases"] == '["\\u001b[31mred\\u001b[0m"]'  # JSON-escaped
    assert g.nodes["plain"]["name"] == "plain \ufffd noncharacter"
    assert g.edges["nul\ufffdid", "plain"]["evidence"] == '["form\\ffeed \\u000b"]'  # JSON-escaped
    assert read_graph(tmp_path) == hostile_graph()  # graph.json keeps the text as it was


def test_graphml_refuses_ids_that_differ_only_by_unwritable_characters() -> None:
    graph = KnowledgeGraph(entities=[Entity(id="a\x00", name="a"), Entity(id="a\x01", name="b")])
    with pytest.raises(Exception, match="entity ids differ only by characters XML cannot hold"):
        graphml_text(graph)
    assert nx.read_graphml(io.BytesIO(graphml_text(hostile_graph()).encode("utf-8"))).number_of_nodes() == 2
