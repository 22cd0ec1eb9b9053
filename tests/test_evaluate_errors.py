"""The error breakdown of `kgc eval --gold` and the names that are no concept, on a graph whose every
relation was given one mistake by hand."""

from __future__ import annotations

from kgc.evaluate.errors import error_breakdown, name_problems
from kgc.evaluate.grounding import ground
from kgc.evaluate.triplets import score_triplets
from kgc.extraction.names import NameRules
from kgc.models import Candidate, Chunk, Provenance
from kgc.schema import RelationSchema, RelationType
from tests.test_evaluate_scores import gold, kg

SCHEMA = RelationSchema(
    types=[
        RelationType(name="USED-FOR"),
        RelationType(name="HYPONYM-OF"),
        RelationType(name="CONJUNCTION", directed=False),
    ]
)
GRAPH = kg(
    {
        "CRF": [],
        "named entity recognition": [],
        "sequence model": [],
        "HMM": [],
        "proposed method": [],
        "parsing": [],
        "GPT and neural machine translation": [],
        "BLEU": [],
        "word lattice": [],
    },
    [
        ("CRF", "USED-FOR", "named entity recognition"),  # right
        ("sequence model", "HYPONYM-OF", "CRF"),  # wrong direction
        ("HMM", "USED-FOR", "CRF"),  # wrong relation (gold: CONJUNCTION)
        ("proposed method", "USED-FOR", "parsing"),  # generic name
        ("GPT and neural machine translation", "USED-FOR", "parsing"),  # conjunction name
        ("BLEU", "USED-FOR", "parsing"),  # not in the gold
        ("word lattice", "USED-FOR", "parsing"),  # its name is not in its text
    ],
)
GOLD = gold(
    ("CRF", "USED-FOR", "named entity recognition"),
    ("CRF", "HYPONYM-OF", "sequence model"),
    ("CRF", "CONJUNCTION", "HMM"),
    ("Transformer", "USED-FOR", "parsing"),  # missed, a name missing from the graph
    ("HMM", "USED-FOR", "named entity recognition"),  # missed, both names in the graph
)


def test_each_wrong_relation_gets_its_reason() -> None:
    er = error_breakdown(GRAPH, GOLD, SCHEMA, rules=NameRules())
    assert er.relations == 7 and er.right == 1
    assert er.errors == {
        "conjunction or clause name": 1,
        "generic name": 1,
        "wrong direction": 1,
        "wrong relation": 1,
        "not in the gold": 2,
    }
    assert er.examples["wrong direction"] == ["(sequence model, HYPONYM-OF, CRF)"]
    assert (er.missed, er.missed_both_names_found) == (2, 1)


def test_a_name_not_in_its_text_comes_first() -> None:
    text = "CRF for named entity recognition. Parsing with word lattices? No: parsing with BLEU."
    chunks = [Chunk(id="d#0", doc_id="d", text=text, start=0, end=len(text))]
    candidates = [
        Candidate(head=h, relation="USED-FOR", tail=t, provenance=[Provenance(doc_id="d", chunk_id="d#0")])
        for h, t in [("word lattice", "parsing"), ("BLEU", "parsing"), ("proposed method", "parsing")]
    ]
    er = error_breakdown(GRAPH, GOLD, SCHEMA, rules=NameRules(), grounding=ground(GRAPH, candidates, chunks))
    # 'word lattice' occurs ('word lattices'); 'proposed method', GPT, HMM... do not: grounding decides
    assert er.errors["name not in the text"] == 4
    assert "generic name" not in er.errors


def test_names_that_are_no_concept() -> None:
    assert name_problems(GRAPH, NameRules()) == {
        "proposed-method": "generic name",
        "gpt-and-neural-machine-translation": "conjunction name",
    }


def test_a_symmetric_relation_in_either_order_is_right_never_a_wrong_direction() -> None:
    """CONJUNCTION (undirected) written tail-first is the gold triplet; USED-FOR (directed) written
    tail-first is a wrong direction."""
    graph = kg(
        {"HMM": [], "CRF": [], "tagging": []}, [("HMM", "CONJUNCTION", "CRF"), ("tagging", "USED-FOR", "CRF")]
    )
    truth = gold(("CRF", "CONJUNCTION", "HMM"), ("CRF", "USED-FOR", "tagging"))
    er = error_breakdown(graph, truth, SCHEMA, rules=NameRules())
    assert (er.right, er.errors) == (1, {"wrong direction": 1})
    assert score_triplets(graph, truth, SCHEMA).levels["strict"].true_positives == 1
