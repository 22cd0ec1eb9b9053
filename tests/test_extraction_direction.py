"""Relation direction read from the preposition joining two names in their sentence (real spaCy
parses), and what the extraction stage does with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgc.artifacts import CANDIDATES, EXTRACTION_REPORT
from kgc.config import load_config
from kgc.export.graph_files import read_graph
from kgc.extraction.direction import link, orient
from kgc.extraction.mentions import Sentences
from kgc.extraction.spans import find_spans, load_spacy
from kgc.extraction.triplets import CleanTriplet
from kgc.pipeline import build
from kgc.rundir import RunDir
from kgc.testing.scripted_server import ScriptedServer
from tests.test_pipeline import server_config

pytestmark = pytest.mark.skipif(load_spacy() is None, reason="kgc[nlp] not installed")

SCIERC = load_config(Path(__file__).parents[1] / "data" / "scierc" / "kgc.toml").relations


def oriented(text: str, head: str, relation: str, tail: str) -> tuple[str, str, str]:
    sentences = Sentences(find_spans(text, finder="spacy"))
    (t,), _ = orient([CleanTriplet(head, relation, tail, text)], sentences, SCIERC)
    return t.as_tuple()


@pytest.mark.parametrize(
    ("text", "wrong", "right"),
    [
        (  # passive with an agent: the agent is the means
            "Reaching movements are produced by distributed neural networks.",
            ("reaching movements", "USED-FOR", "distributed neural networks"),
            ("distributed neural networks", "USED-FOR", "reaching movements"),
        ),
        (  # 'X for Y': X serves Y
            "We present a CRF for named entity recognition.",
            ("named entity recognition", "USED-FOR", "CRF"),
            ("CRF", "USED-FOR", "named entity recognition"),
        ),
        (  # 'Y from X' hung inside Y's phrase
            "This paper addresses the alignment of surfaces from video observations.",
            ("alignment of surfaces", "USED-FOR", "video observations"),
            ("video observations", "USED-FOR", "alignment of surfaces"),
        ),
        (  # 'apply X to Y': a verb's object and its 'to'
            "We apply a maximum entropy model to tagging.",
            ("tagging", "USED-FOR", "maximum entropy model"),
            ("maximum entropy model", "USED-FOR", "tagging"),
        ),
        (  # 'based on' as one preposition
            "The stemmer is based on statistical machine translation.",
            ("stemmer", "USED-FOR", "statistical machine translation"),
            ("statistical machine translation", "USED-FOR", "stemmer"),
        ),
        (  # Evaluate-for: 'X on Y' makes the data the head
            "We evaluate the parser on the Penn Treebank.",
            ("parser", "EVALUATE-FOR", "Penn Treebank"),
            ("Penn Treebank", "EVALUATE-FOR", "parser"),
        ),
        (  # Part-of: 'X in Y' makes X the head
            "The tagger in the parser is fast.",
            ("parser", "PART-OF", "tagger"),
            ("tagger", "PART-OF", "parser"),
        ),
        (  # Hyponym-of: 'Y such as X'
            "We study languages such as French.",
            ("languages", "HYPONYM-OF", "French"),
            ("French", "HYPONYM-OF", "languages"),
        ),
    ],
)
def test_a_preposition_turns_a_backward_relation_round(
    text: str, wrong: tuple[str, str, str], right: tuple[str, str, str]
) -> None:
    assert oriented(text, *wrong) == right
    assert oriented(text, *right) == right


@pytest.mark.parametrize(
    ("text", "triplet"),
    [
        # 'of' goes both ways for Used-for (18:12 on SciERC's tune split): the model's direction stands
        (
            "A method for error correction of ill-formed input is described.",
            ("error correction", "USED-FOR", "ill-formed input"),
        ),
        (
            "A method for error correction of ill-formed input is described.",
            ("ill-formed input", "USED-FOR", "error correction"),
        ),
        # hung on a verb, 'as' names a role, not a kind
        ("We cast tracking as a matching problem.", ("tracking", "HYPONYM-OF", "matching problem")),
        # undirected relations are never turned
        ("We present a CRF for named entity recognition.", ("named entity recognition", "COMPARE", "CRF")),
        # no preposition joins them
        ("The CRF outperforms the HMM.", ("HMM", "USED-FOR", "CRF")),
        # a relation without a kind (FEATURE-OF)
        ("The accuracy of the parser is high.", ("parser", "FEATURE-OF", "accuracy")),
    ],
)
def test_nothing_clear_leaves_the_direction_alone(text: str, triplet: tuple[str, str, str]) -> None:
    assert oriented(text, *triplet) == triplet


def test_link_names_the_preposition_and_where_it_hangs() -> None:
    doc = find_spans("Movements are produced by neural networks.", finder="spacy").doc
    assert doc is not None
    movements, networks = doc[0:1], doc[4:6]
    assert link(movements, networks) == ("by", "verb")
    assert link(networks, movements) is None
    doc = find_spans("We present a tagger based on CRFs and HMMs.", finder="spacy").doc
    assert doc is not None
    assert link(doc[3:4], doc[8:9]) == ("based on", "noun")  # HMMs, coordinated with CRFs


def test_orient_counts_and_merges_a_turned_duplicate() -> None:
    text = "We present a CRF for named entity recognition."
    sentences = Sentences(find_spans(text, finder="spacy"))
    found, counts = orient(
        [
            CleanTriplet("named entity recognition", "USED-FOR", "CRF", text),
            CleanTriplet("CRF", "USED-FOR", "named entity recognition", text),
        ],
        sentences,
        SCIERC,
    )
    assert [t.as_tuple() for t in found] == [("CRF", "USED-FOR", "named entity recognition")]
    assert counts == {"oriented": 1}


def test_the_stage_orients_the_models_triplets_and_reports(tmp_path: Path) -> None:
    """Over HTTP to the scripted server, with SciERC's schema: the model's backward Used-for is turned
    round with cue_retype on, kept as written with it off; the report counts it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d1.txt").write_text("Reaching movements are produced by neural networks.", encoding="utf-8")
    reply = {"triplets": [{"head": "reaching movements", "relation": "USED-FOR", "tail": "neural networks"}]}
    rows, reports = {}, {}
    for on in (True, False):
        with ScriptedServer(rules=[{"task": "extraction", "reply": reply}]) as server:
            cfg = server_config(server, **{"extraction.mode": "document", "extraction.cue_retype": on})
            cfg = cfg.model_copy(update={"relations": SCIERC})
            build(corpus, tmp_path / f"run-{on}", cfg, until="extraction")
        run = RunDir(tmp_path / f"run-{on}", create=False)
        rows[on] = [(c.head, c.relation, c.tail) for c in run.read(CANDIDATES)]
        reports[on] = run.read(EXTRACTION_REPORT).cues
    assert rows[True] == [("neural networks", "USED-FOR", "Reaching movements")]
    assert rows[False] == [("Reaching movements", "USED-FOR", "neural networks")]
    assert reports[True] == {"oriented": 1} and reports[False] == {}


def test_a_run_turns_a_tied_direction_to_the_one_a_sentence_states(tmp_path: Path) -> None:
    """Over HTTP to the scripted server: one document's model answer gives 'alpha parser Used-for beta
    tagger' (its sentence states no direction); another's sentence says the alpha parser uses the beta
    tagger (a relation cue, added by cue_add). The documents tie; fusion keeps the stated direction."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d1.txt").write_text("The alpha parser helps the beta tagger.", encoding="utf-8")
    (corpus / "d2.txt").write_text("The alpha parser uses the beta tagger.", encoding="utf-8")
    said = {"triplets": [{"head": "alpha parser", "relation": "Used-for", "tail": "beta tagger"}]}
    rules = [
        {"task": "extraction", "contains": "helps", "reply": said},
        {"task": "extraction", "reply": {"triplets": []}},
    ]
    with ScriptedServer(rules=rules) as server:
        settings = {"extraction.mode": "document", "extraction.cue_retype": True, "extraction.cue_add": True}
        build(corpus, tmp_path / "run", server_config(server, **settings), until="fusion")
    run = RunDir(tmp_path / "run", create=False)
    assert sorted((c.head, c.tail, c.provenance[0].cue) for c in run.read(CANDIDATES)) == [
        ("alpha parser", "beta tagger", None),
        ("beta tagger", "alpha parser", "Y uses X"),
    ]
    [rel] = read_graph(tmp_path / "run").relations
    assert (rel.head, rel.relation, rel.tail) == ("beta-tagger", "Used-for", "alpha-parser")
    assert (rel.sources, rel.reversed_sources) == (["d2"], ["d1"])
