"""Relations between members of one list (real spaCy parses): re-typed to the schema's conjunction
between adjacent members, dropped between members apart, counted by reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgc.artifacts import CANDIDATES, EXTRACTION_REPORT
from kgc.extraction.coordination import ADJACENT, CONJOINED, MEMBERS_APART, conjoin, coordination
from kgc.extraction.spans import Finder, find_spans, load_spacy
from kgc.extraction.triplets import CleanTriplet, PassageIndex
from kgc.pipeline import build
from kgc.rundir import RunDir
from kgc.schema import RelationSchema, RelationType
from kgc.testing.scripted_server import ScriptedServer
from tests.test_pipeline import server_config

pytestmark = pytest.mark.skipif(load_spacy() is None, reason="kgc[nlp] not installed")

GRAPHUSION = RelationSchema()
LIST = "Word embeddings are used for parsing, tagging, chunking and translation."


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("parsing", "tagging", "adjacent"),
        ("chunking", "translation", "adjacent"),
        ("tagging", "parsing", "adjacent"),
        ("parsing", "translation", "apart"),
        ("tagging", "translation", "apart"),
        ("Word embeddings", "parsing", None),
        ("parsing", "parsing", None),
    ],
)
def test_conjuncts_of_one_coordination_are_adjacent_or_apart(a: str, b: str, expected: str | None) -> None:
    doc = find_spans(LIST, finder="spacy").doc
    assert doc is not None
    x, y = (doc.char_span(LIST.index(n), LIST.index(n) + len(n)) for n in (a, b))
    assert x is not None and y is not None
    assert coordination(x, y) == expected


def test_a_list_introduced_by_ie_is_no_coordination_with_its_class() -> None:
    """spaCy chains 'cues' into the list it introduces ('cues conj positions'): SciERC's annotators
    relate such pairs by HYPONYM-OF (6 of 6 on the tune split), so they are not members of one list."""
    text = "The tracker combines multiple cues, i.e., positions, velocities and appearance."
    doc = find_spans(text, finder="spacy").doc
    assert doc is not None
    cues, positions, velocities, appearance = (
        doc.char_span(text.index(n), text.index(n) + len(n))
        for n in ("cues", "positions", "velocities", "appearance")
    )
    assert cues is not None and positions is not None and velocities is not None and appearance is not None
    assert positions.root.dep_ == "conj" and positions.root.head.i == cues.root.i  # the parse this is about
    assert coordination(cues, positions) is None and coordination(appearance, cues) is None
    assert coordination(positions, velocities) == "adjacent"
    kept, retyped, dropped = conjoined(
        text, ("positions", "Hyponym-Of", "cues"), ("velocities", "Used-for", "positions")
    )
    assert kept == [("positions", "Hyponym-Of", "cues"), ("velocities", "Conjunction", "positions")]
    assert (retyped, dropped) == ({CONJOINED: 1}, {})


def conjoined(
    text: str, *triplets: tuple[str, str, str], schema: RelationSchema = GRAPHUSION, finder: Finder = "spacy"
) -> tuple[list[tuple[str, str, str]], dict[str, int], dict[str, int]]:
    index = PassageIndex(find_spans(text, finder=finder))
    given = []
    for head, relation, tail in triplets:
        stated = index.sentences.stated(head, tail)
        assert stated.sentence is not None, (head, tail)
        given.append(CleanTriplet(head, relation, tail, index.sentences.sentence(stated.sentence)))
    kept, retyped, dropped = conjoin(given, index.sentences, schema)
    return [t.as_tuple() for t in kept], dict(retyped), dict(dropped)


def test_list_members_are_conjoined_or_dropped_and_other_relations_stay() -> None:
    kept, retyped, dropped = conjoined(
        LIST,
        ("parsing", "Hyponym-Of", "tagging"),  # adjacent: the list says they go together
        ("translation", "Used-for", "chunking"),
        ("parsing", "Part-of", "translation"),  # apart: the list says nothing of the pair
        ("tagging", "Compare", "chunking"),  # compare and conjunction stay as the model said
        ("chunking", "Conjunction", "tagging"),
        ("Word embeddings", "Used-for", "parsing"),  # not members of the list
    )
    assert kept == [
        ("parsing", "Conjunction", "tagging"),
        ("translation", "Conjunction", "chunking"),
        ("tagging", "Compare", "chunking"),
        ("chunking", "Conjunction", "tagging"),
        ("Word embeddings", "Used-for", "parsing"),
    ]
    assert retyped == {CONJOINED: 2}
    assert dropped == {MEMBERS_APART: 1}


def test_only_the_evidence_sentence_counts() -> None:
    """Coordinated in one sentence, related by a verb in the evidence sentence: left as it is."""
    text = "Tagging is used for parsing. We study parsing and tagging."
    kept, retyped, dropped = conjoined(text, ("tagging", "Used-for", "parsing"))
    assert kept == [("tagging", "Used-for", "parsing")]
    assert (retyped, dropped) == ({}, {})
    kept, retyped, _ = conjoined(text.split(". ")[1], ("tagging", "Used-for", "parsing"))
    assert kept == [("tagging", "Conjunction", "parsing")] and retyped == {CONJOINED: 1}


def test_a_schema_without_a_conjunction_relation_drops_adjacent_members() -> None:
    schema = RelationSchema(
        types=[RelationType(name="uses", description="the head uses the tail", cue="used-for")]
    )
    kept, retyped, dropped = conjoined(LIST, ("parsing", "uses", "tagging"), schema=schema)
    assert (kept, retyped, dropped) == ([], {}, {ADJACENT: 1})


def test_without_a_parse_nothing_changes() -> None:
    kept, retyped, dropped = conjoined(LIST, ("parsing", "Hyponym-Of", "tagging"), finder="rules")
    assert (kept, retyped, dropped) == ([("parsing", "Hyponym-Of", "tagging")], {}, {})


def test_the_stage_drops_members_apart_and_reports_it(tmp_path: Path) -> None:
    """Over HTTP to the scripted server, with `cue_retype` on: the model's relation between the first
    and the last member of a list is dropped and counted; off, it stays."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d1.txt").write_text(LIST, encoding="utf-8")
    reply = {"triplets": [{"head": "parsing", "relation": "Hyponym-Of", "tail": "translation"}]}
    rows = {}
    for on in (True, False):
        with ScriptedServer(rules=[{"task": "extraction", "reply": reply}]) as server:
            settings = {
                "extraction.mode": "document",
                "extraction.cue_retype": on,
                "extraction.cue_add": False,
            }
            build(corpus, tmp_path / f"run-{on}", server_config(server, **settings), until="extraction")
        run = RunDir(tmp_path / f"run-{on}", create=False)
        rows[on] = ([(c.head, c.relation, c.tail) for c in run.read(CANDIDATES)], run.read(EXTRACTION_REPORT))
    assert rows[False][0] == [("parsing", "Hyponym-Of", "translation")]
    assert rows[True][0] == []
    assert rows[True][1].dropped == {MEMBERS_APART: 1}
    assert MEMBERS_APART not in rows[False][1].dropped
