"""Relation cues: typed, directed statements read from a sentence's syntax (real spaCy parses), their
relation in a schema, and what they do to extracted triplets."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from kgc.artifacts import CANDIDATES, EXTRACTION_REPORT
from kgc.config import load_config
from kgc.evaluate import EvalReport, conformance, graph_health, render
from kgc.extraction.cues import cue_triplets, find_cues, retype
from kgc.extraction.names import NameRules
from kgc.extraction.spans import find_spans, load_spacy
from kgc.extraction.triplets import CleanTriplet, PassageIndex
from kgc.llm.factory import with_backend_defaults
from kgc.models import KnowledgeGraph
from kgc.pipeline import build
from kgc.rundir import RunDir
from kgc.schema import RelationSchema, RelationType
from kgc.testing.scripted_server import ScriptedServer
from tests.test_pipeline import server_config

pytestmark = pytest.mark.skipif(load_spacy() is None, reason="kgc[nlp] not installed")

GRAPHUSION = RelationSchema()


def cues(text: str) -> set[tuple[str, str, str]]:
    return {(c.head, c.cue, c.tail) for c in find_cues(find_spans(text, finder="spacy"))}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "NLP applications such as machine translation and speech recognition need large lexicons.",
            {
                ("machine translation", "kind-of", "NLP applications"),
                ("speech recognition", "kind-of", "NLP applications"),
                ("machine translation", "conjunction", "speech recognition"),
            },
        ),
        (
            "Byte pair encoding is a subword tokenization method.",
            {("Byte pair encoding", "kind-of", "subword tokenization method")},
        ),
        (
            "Stemming, a normalization technique, cuts suffixes.",
            {("Stemming", "kind-of", "normalization technique")},
        ),
        ("The parser consists of a tagger.", {("tagger", "part-of", "parser")}),
        ("The parser contains a tagger.", {("tagger", "part-of", "parser")}),
        ("The tagger is part of the parser.", {("tagger", "part-of", "parser")}),
        (
            "Word embeddings are used for text classification.",
            {("Word embeddings", "used-for", "text classification")},
        ),
        (
            "We present a detection method for orthographic variants.",
            {("detection method", "used-for", "orthographic variants")},
        ),
        ("We induce a grammar from parallel corpora.", {("parallel corpora", "used-for", "grammar")}),
        (
            "We present a bootstrapping approach to dependency parsing.",
            {("bootstrapping approach", "used-for", "dependency parsing")},
        ),
        (
            "The stemming model is based on statistical machine translation.",
            {("statistical machine translation", "used-for", "stemming model")},
        ),
        ("The tagger uses ranking rules.", {("ranking rules", "used-for", "tagger")}),
        (
            "We use a small set of face metrics for face modeling.",
            {("face metrics", "used-for", "face modeling")},
        ),
        ("We evaluate the tagger on the Penn Treebank.", {("Penn Treebank", "evaluate-for", "tagger")}),
        ("The accuracy of the tagger is high.", {("accuracy", "evaluate-for", "tagger")}),
        (
            "BERT outperforms ELMo on GLUE.",
            {("BERT", "compare", "ELMo"), ("GLUE", "evaluate-for", "BERT"), ("GLUE", "evaluate-for", "ELMo")},
        ),
        (
            "The s-VSM model outperforms the VSM model in the song classification task.",
            {
                ("s-VSM model", "compare", "VSM model"),
                ("song classification task", "evaluate-for", "s-VSM model"),
                ("song classification task", "evaluate-for", "VSM model"),
            },
        ),
        (
            "The system uses a meaning representation called a semantic frame.",
            {
                ("meaning representation", "used-for", "system"),
                ("semantic frame", "kind-of", "meaning representation"),
            },
        ),
        (
            "We use a smoothing technique known as Kneser-Ney smoothing.",
            {("Kneser-Ney smoothing", "kind-of", "smoothing technique")},
        ),
        ("The HDAG kernel is superior to string kernels.", {("HDAG kernel", "compare", "string kernels")}),
        (
            "Results on several citation data sets show that the method outperforms current algorithms.",
            {("citation data sets", "evaluate-for", "method"), ("method", "compare", "current algorithms")},
        ),
        (
            "Experiments on the Penn Treebank demonstrate the merit of the parser.",
            {("Penn Treebank", "evaluate-for", "parser")},
        ),
        ("CRFs are more accurate than HMMs.", {("CRFs", "compare", "HMMs")}),
        ("Compared with HMMs, CRFs are more accurate.", {("CRFs", "compare", "HMMs")}),
        ("We combine CNNs and LSTMs.", {("CNNs", "conjunction", "LSTMs")}),
        ("Coreference resolution requires a parser.", {("parser", "prerequisite", "Coreference resolution")}),
        ("Tokenization is a prerequisite of tagging.", {("Tokenization", "prerequisite", "tagging")}),
    ],
)
def test_each_pattern_states_its_relation_and_direction(
    text: str, expected: set[tuple[str, str, str]]
) -> None:
    assert cues(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Stemming is not a kind of lemmatization.",
        "Byte pair encoding is not a subword tokenization method.",
        "The parser does not contain a tagger.",
        "We trained the tagger for three days.",  # 'for' a time: no use
        "The tagger ran for a long time.",
        "We did not evaluate the tagger on the Penn Treebank.",
        "BERT does not outperform ELMo.",
        "Stemming is not faster than lemmatization.",
        "CNNs were trained and LSTMs were tested.",  # coordinated clauses, not names
        "Coreference resolution does not require a parser.",
        "The parser is not superior to the tagger.",
        "The tagger was named after its author.",  # 'named after': no name given
        "BERT does not outperform ELMo on GLUE.",
        "Results on the Penn Treebank do not show that the tagger is fast.",
        "We report a significant improvement for speaker adaptation.",  # a result is no means
        "We induce a grammar from scratch.",
        "The tagger can be used in situations where speech is noisy.",
    ],
)
def test_near_misses_state_nothing(text: str) -> None:
    assert cues(text) == set()


def test_y_and_other_x_is_a_list_not_a_kind_of() -> None:
    """Hearst's 'Y and other X' measured 0 right of 4 on SciERC's tune split (its annotators relate
    the two as a conjunction), and the list rule of kgc.extraction.coordination re-types the LLM's
    triplets on such a pair to Conjunction: a kind-of cue for it would contradict that."""
    text = "Decision trees and other classifiers are trained on the data."
    assert cues(text) == {("Decision trees", "conjunction", "classifiers")}


def test_cue_kinds_map_onto_the_schema_by_name_or_by_the_cue_field() -> None:
    schema = RelationSchema(
        types=[
            RelationType(name="is_a"),  # by name
            RelationType(name="Broader-than", cue="kind-of"),  # declared (and read head-to-tail)
            RelationType(name="Used-for", cue="none"),  # opted out
            RelationType(name="treats"),
        ]
    )
    assert schema.for_cue("kind-of") == schema.types[0]
    assert schema.for_cue("used-for") is None
    assert schema.for_cue("part-of") is None
    declared = RelationSchema(types=[RelationType(name="Broader-than", cue="kind-of")])
    assert declared.for_cue("kind-of") == declared.types[0]
    scierc = load_config(Path(__file__).parents[1] / "data" / "scierc" / "kgc.toml").relations
    assert scierc.for_cue("kind-of").name == "HYPONYM-OF"  # type: ignore[union-attr]
    assert scierc.for_cue("prerequisite") is None  # SciERC has no such relation


def test_a_schema_without_cue_kinds_gets_no_cue_triplets() -> None:
    text = "NLP applications such as machine translation need large lexicons."
    passage = find_spans(text, finder="spacy")
    custom = RelationSchema(types=[RelationType(name="treats"), RelationType(name="causes")])
    found, counts = cue_triplets(find_cues(passage), PassageIndex(passage), custom, NameRules(), 80, known=[])
    assert found == [] and not counts
    found, counts = cue_triplets(
        find_cues(passage), PassageIndex(passage), GRAPHUSION, NameRules(), 80, known=[]
    )
    assert [(t.as_tuple(), pattern) for t, pattern in found] == [
        (("machine translation", "Hyponym-Of", "NLP applications"), "X such as Y")
    ]
    assert found[0][0].evidence == text and counts == {"added": 1}


def test_retyping_takes_the_cue_relation_and_direction_and_counts() -> None:
    text = "NLP applications such as machine translation need lexicons. We combine CNNs and LSTMs."
    found = find_cues(find_spans(text, finder="spacy"))
    llm = [
        CleanTriplet("NLP applications", "Used-for", "machine translation", "..."),  # wrong and reversed
        CleanTriplet("LSTMs", "Used-for", "CNNs", "..."),  # wrong relation; undirected: not flipped
        CleanTriplet("lexicons", "Used-for", "NLP applications", "..."),  # no cue: kept as is
    ]
    retyped, counts = retype(llm, found, GRAPHUSION)
    assert [t.as_tuple() for t in retyped] == [
        ("machine translation", "Hyponym-Of", "NLP applications"),
        ("LSTMs", "Conjunction", "CNNs"),
        ("lexicons", "Used-for", "NLP applications"),
    ]
    assert retyped[0].evidence == "NLP applications such as machine translation need lexicons."
    assert counts == {"retyped": 2, "flipped": 1}


def test_a_pair_the_llm_relates_is_not_added_again() -> None:
    text = "NLP applications such as machine translation need large lexicons."
    passage = find_spans(text, finder="spacy")
    known = [CleanTriplet("machine translation", "Used-for", "NLP applications", text)]
    found, counts = cue_triplets(
        find_cues(passage), PassageIndex(passage), GRAPHUSION, NameRules(), 80, known
    )
    assert found == [] and counts == {}


def test_generic_names_of_cues_are_refused_by_the_name_rules() -> None:
    text = "Methods such as CRFs label words."
    passage = find_spans(text, finder="spacy")
    found, counts = cue_triplets(
        find_cues(passage), PassageIndex(passage), GRAPHUSION, NameRules(), 80, known=[]
    )
    assert found == [] and counts == {"refused": 1}


def test_a_cue_whose_name_grounding_respells_is_still_added() -> None:
    # The span 'not only rich visual cues' is written 'rich visual cues' once grounded (leading
    # adverbs cut): the cue's triplet keeps its cue (looked up by the names as written, it vanished).
    text = "Video provides not only rich visual cues such as motion and color."
    passage = find_spans(text, finder="spacy")
    found, counts = cue_triplets(find_cues(passage), PassageIndex(passage), GRAPHUSION, NameRules(), 80, [])
    assert [(t.as_tuple(), pattern) for t, pattern in found] == [
        (("motion", "Hyponym-Of", "rich visual cues"), "X such as Y"),
        (("color", "Hyponym-Of", "rich visual cues"), "X such as Y"),
        (("motion", "Conjunction", "color"), "X and Y"),
    ]
    assert all(t.evidence == text for t, _ in found) and counts == {"added": 3}


def test_the_backends_choose_the_cue_defaults_and_the_config_overrides_them() -> None:
    embedded = with_backend_defaults(load_config(None, {"llm.backend": "embedded"})).extraction
    assert (embedded.cue_retype, embedded.cue_add) == (True, True)
    served = with_backend_defaults(load_config(None, {"llm.backend": "openai"})).extraction
    assert (served.cue_retype, served.cue_add) == (False, False)
    chosen = load_config(None, {"llm.backend": "embedded", "extraction.cue_add": False})
    assert with_backend_defaults(chosen).extraction.cue_add is False


def test_the_stage_retypes_adds_and_reports(tmp_path: Path) -> None:
    """Over HTTP to the scripted server: the model's reversed Used-for becomes the cue's Hyponym-Of, the
    sentence's other statements enter with their pattern as provenance, the report counts both."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "NLP applications such as machine translation and speech recognition need large lexicons."
    (corpus / "d1.txt").write_text(text, encoding="utf-8")
    reply = {
        "triplets": [{"head": "NLP applications", "relation": "Used-for", "tail": "machine translation"}]
    }
    rows = {}
    for on in (True, False):
        with ScriptedServer(rules=[{"task": "extraction", "reply": reply}]) as server:
            settings = {"extraction.mode": "document", "extraction.cue_retype": on, "extraction.cue_add": on}
            build(corpus, tmp_path / f"run-{on}", server_config(server, **settings), until="extraction")
        run = RunDir(tmp_path / f"run-{on}", create=False)
        rows[on] = [(c.head, c.relation, c.tail, c.provenance[0].cue) for c in run.read(CANDIDATES)]
        report = run.read(EXTRACTION_REPORT)
    assert rows[False] == [("NLP applications", "Used-for", "machine translation", None)]
    assert rows[True] == [
        ("machine translation", "Hyponym-Of", "NLP applications", None),
        ("speech recognition", "Hyponym-Of", "NLP applications", "X such as Y"),
        ("machine translation", "Conjunction", "speech recognition", "X and Y"),
    ]
    assert RunDir(tmp_path / "run-True", create=False).read(EXTRACTION_REPORT).cues == {
        "retyped": 1,
        "flipped": 1,
        "added": 2,
    }
    assert report.cues == {}


def test_kgc_eval_shows_what_the_cues_did() -> None:
    c = conformance({"dropped": {}, "failed_tasks": [], "cues": {"retyped": 2, "added": 5}}, 7)
    assert c.cues == {"retyped": 2, "added": 5}
    report = EvalReport(
        run_dir="r", created_at="now", kgc_version="0", health=graph_health(KnowledgeGraph()), conformance=c
    )
    console = Console(record=True, width=120, file=io.StringIO())
    console.print(render(report))
    text = console.export_text()
    assert "relation cues" in text and "retyped 2, added 5" in text
