"""The relation check: every statement the schema allows between two names, both orders of a
directed relation, and the answer applied to the triplet."""

from __future__ import annotations

from kgc.extraction.checking import NONE, check_messages, check_model, statements
from kgc.extraction.triplets import CleanTriplet
from kgc.resources import prompts_dir
from kgc.schema import RelationSchema, RelationType

SCHEMA = RelationSchema(types=[RelationType(name="USED-FOR"), RelationType(name="COMPARE", directed=False)])


def test_both_orders_of_a_directed_relation_and_none() -> None:
    assert statements("CRF", "NER", SCHEMA) == {
        "CRF USED-FOR NER": ("CRF", "USED-FOR", "NER"),
        "NER USED-FOR CRF": ("NER", "USED-FOR", "CRF"),
        "CRF COMPARE NER": ("CRF", "COMPARE", "NER"),
        NONE: None,
    }


def test_the_question_shows_the_sentence_and_the_statements() -> None:
    triplet = CleanTriplet("CRF", "USED-FOR", "NER", "We use a CRF for NER.")
    messages, options = check_messages(triplet, SCHEMA, prompts_dir(), "relation_check.md")
    assert messages[0]["role"] == "system" and "USED-FOR (directed)" in messages[0]["content"]
    user = messages[-1]["content"]
    assert 'Sentence: "We use a CRF for NER."' in user
    assert "- NER USED-FOR CRF\n" in user and "- none" in user
    schema = check_model(tuple(options)).model_json_schema()
    assert schema["properties"]["answer"]["enum"] == list(options)
