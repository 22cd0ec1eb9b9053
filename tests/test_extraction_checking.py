"""The relation check: every statement the schema allows between two names, both orders of a
directed relation, and the answer applied to the triplet."""

from __future__ import annotations

from pathlib import Path

from kgc.artifacts import CANDIDATES, EXTRACTION_REPORT
from kgc.estimate import estimate
from kgc.extraction.checking import NONE, check_messages, check_model, statements
from kgc.extraction.triplets import CleanTriplet
from kgc.pipeline import Pipeline, build
from kgc.resources import prompts_dir
from kgc.rundir import RunDir
from kgc.schema import RelationSchema, RelationType
from kgc.testing.scripted_server import ScriptedServer
from tests.test_pipeline import server_config

SCHEMA = RelationSchema(types=[RelationType(name="USED-FOR"), RelationType(name="COMPARE", directed=False)])


def one_sentence_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d1.txt").write_text("We use a CRF for named entity recognition on news.", encoding="utf-8")
    return corpus


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


def test_the_stage_takes_the_checked_relation_and_direction(tmp_path: Path) -> None:
    """Over HTTP to the scripted server: the extraction answer's direction is flipped by the check, a
    pair the check finds unrelated is dropped and counted."""
    corpus = one_sentence_corpus(tmp_path)
    rules = [
        {
            "task": "extraction",
            "reply": {
                "triplets": [
                    {"head": "named entity recognition", "relation": "Used-for", "tail": "CRF"},
                    {"head": "CRF", "relation": "Compare", "tail": "news"},
                ]
            },
        },
        {"contains": "- CRF Compare news", "reply": {"answer": NONE}},
        {"contains": "Statements:", "reply": {"answer": "CRF Used-for named entity recognition"}},
    ]
    with ScriptedServer(rules=rules) as server:
        cfg = server_config(server, **{"extraction.mode": "document", "extraction.relation_check": True})
        build(corpus, tmp_path / "run", cfg, until="extraction")
        assert server.stats.by_task == {"extraction": 1, "other": 2}
    run = RunDir(tmp_path / "run", create=False)
    assert [(c.head, c.relation, c.tail) for c in run.read(CANDIDATES)] == [
        ("CRF", "Used-for", "named entity recognition")
    ]
    assert run.read(EXTRACTION_REPORT).dropped == {"no relation on checking": 1}


def test_dry_run_bounds_the_checks_the_run_asks(tmp_path: Path) -> None:
    """--dry-run counts one check per triplet an answer may keep; the run asks no more than that."""
    corpus = one_sentence_corpus(tmp_path)
    rules = [
        {
            "task": "extraction",
            "reply": {
                "triplets": [{"head": "CRF", "relation": "Used-for", "tail": "named entity recognition"}]
            },
        },
        {"contains": "Statements:", "reply": {"answer": "CRF Used-for named entity recognition"}},
    ]
    with ScriptedServer(rules=rules) as server:
        overrides = {"extraction.mode": "document", "extraction.relation_check": True}
        cfg = server_config(server, **overrides, **{"extraction.max_answer_triplets": 3})
        with Pipeline(cfg, tmp_path / "run", corpus=corpus) as pipeline:
            guess = estimate(pipeline)
        assert guess.extraction_requests == 1
        assert guess.relation_check_max_requests == 3
        assert guess.relation_check_max_tokens > 0
        assert guess.total_max_tokens > guess.extraction_prompt_tokens + guess.relation_check_max_tokens
        build(corpus, tmp_path / "run", cfg, until="extraction")
        assert server.stats.by_task == {"extraction": 1, "other": 1}  # one triplet kept, one check
