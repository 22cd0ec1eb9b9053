"""From raw triplets to graph triplets: names grounded in the passage, coordinations split, names
that are no concept refused, every drop counted by reason."""

from __future__ import annotations

from kgc.extraction.names import NameRules
from kgc.extraction.spans import find_spans
from kgc.extraction.triplets import Grounder, RawTriplet, clean_triplets
from kgc.schema import RelationSchema, RelationType

TEXT = (
    "We apply GPT and neural machine translation to Named-Entity Recognition. "
    "Our proposed method uses conditional random fields (CRFs). BLEU scores are reported. "
    "Models that are trained on text help."
)
SCHEMA = RelationSchema(
    types=[RelationType(name="USED-FOR"), RelationType(name="CONJUNCTION", directed=False)]
)
PASSAGE = find_spans(TEXT, finder="rules")


def clean(
    *raw: tuple[str, str, str], ground_names: bool = True
) -> tuple[list[tuple[str, str, str]], dict[str, int]]:
    kept, dropped = clean_triplets(
        [RawTriplet(*r) for r in raw], PASSAGE, SCHEMA, NameRules(), 80, ground_names=ground_names
    )
    return [t.as_tuple() for t in kept], dict(dropped)


def test_names_take_the_passage_spelling() -> None:
    g = Grounder(PASSAGE)
    assert g.ground("named entity recognition") == "Named-Entity Recognition"  # case and hyphen
    assert g.ground("conditional random field") == "conditional random fields"  # plural
    assert g.ground("BLEU score") == "BLEU scores"
    assert g.ground("neural machine translaton") == "neural machine translation"  # snapped: a typo
    assert g.ground("support vector machine") is None


def test_a_coordination_of_candidates_is_split() -> None:
    kept, dropped = clean(("GPT and neural machine translation", "USED-FOR", "named entity recognition"))
    assert kept == [
        ("GPT", "USED-FOR", "Named-Entity Recognition"),
        ("neural machine translation", "USED-FOR", "Named-Entity Recognition"),
    ]
    assert dropped == {}


def test_names_that_are_no_concept_are_dropped_by_reason() -> None:
    kept, dropped = clean(
        ("proposed method", "USED-FOR", "named entity recognition"),  # generic
        ("support vector machine", "USED-FOR", "BLEU scores"),  # not in the text
        ("CRFs", "USED-FOR", "models that are trained on text"),  # a clause
        ("GPT", "KNOWS", "BLEU scores"),  # not a relation of the schema
        ("GPT", "USED-FOR", "GPT"),
        ("GPT", "conjunction", "BLEU scores"),  # kept, the relation spelled as the schema does
    )
    assert kept == [("GPT", "CONJUNCTION", "BLEU scores")]
    assert dropped == {
        "generic name": 1,
        "name not in the text": 1,
        "clause name": 1,
        "unknown relation": 1,
        "head equals tail": 1,
    }


def test_evidence_is_the_sentence_holding_both_names() -> None:
    kept, _ = clean_triplets(
        [
            RawTriplet("CRFs", "USED-FOR", "BLEU scores"),
            RawTriplet("GPT", "USED-FOR", "named entity recognition"),
        ],
        PASSAGE,
        SCHEMA,
        NameRules(),
        80,
    )
    assert (
        kept[0].evidence
        == "Our proposed method uses conditional random fields (CRFs). BLEU scores are reported."
    )
    assert kept[1].evidence == "We apply GPT and neural machine translation to Named-Entity Recognition."


def test_without_grounding_names_are_only_judged() -> None:
    kept, dropped = clean(
        ("support vector machine", "USED-FOR", "BLEU"), ("method", "USED-FOR", "BLEU"), ground_names=False
    )
    assert kept == [("support vector machine", "USED-FOR", "BLEU")]
    assert dropped == {"generic name": 1}
