"""Common words as names: a one-word name general English uses often is dropped unless the corpus
builds longer concept names from it or it is a seed; one-word domain terms stay."""

from __future__ import annotations

from pathlib import Path

from kgc.artifacts import CANDIDATES, EXTRACTION_REPORT
from kgc.evaluate import evaluate_run
from kgc.evaluate.errors import name_problems
from kgc.extraction.names import NameRules
from kgc.extraction.specificity import COMMON_WORD, CommonWords, drop_common_words, english_frequency
from kgc.models import Candidate, Entity, KnowledgeGraph, Provenance
from kgc.pipeline import build
from kgc.rundir import RunDir
from kgc.testing.scripted_server import ScriptedServer
from kgc.text import slug
from tests.test_pipeline import server_config

# Zipf frequencies as wordfreq gives them (rounded), so the unit tests do not depend on its lists.
FREQUENCY = {
    "date": 5.2,
    "location": 4.9,
    "event": 5.2,
    "events": 5.1,
    "translation": 4.4,
    "parsing": 2.9,
    "tokenization": 1.7,
    "king": 5.2,
    "paul": 5.0,
    "collins": 4.6,
}


def frequency(word: str) -> float:
    return FREQUENCY.get(word, 0.0)


def cand(head: str, tail: str, seed: str | None = None) -> Candidate:
    return Candidate(
        head=head,
        relation="Used-for",
        tail=tail,
        provenance=[Provenance(doc_id="d", chunk_id="c", seed=seed)],
    )


def test_a_common_word_no_longer_name_holds_is_no_concept() -> None:
    common = CommonWords.of_candidates([cand("date", "location"), cand("king", "queen")], 4.0, frequency)
    assert "date" in common and "location" in common and "king" in common


def test_one_word_domain_terms_stay() -> None:
    corpus = [
        cand("tokenization", "parsing"),  # rare in general English
        cand("machine translation", "BLEU"),  # 'translation' is common, but the corpus builds names from it
        cand("translation", "alignment"),
        cand("event extraction", "events"),  # plural of a word a longer name holds
    ]
    common = CommonWords.of_candidates(corpus, 4.0, frequency)
    for name in ("tokenization", "parsing", "translation", "events", "event"):
        assert name not in common, name


def test_seeds_acronyms_capitalised_and_longer_names_are_never_common_words() -> None:
    common = CommonWords.of_candidates(
        [cand("date", "Date", seed="date"), cand("King", "KING")], 4.0, frequency
    )
    assert "date" not in common  # a seed
    assert "King" not in common and "KING" not in common and "Date" not in common
    assert "date of birth" not in common


def said(head: str, tail: str, evidence: str) -> Candidate:
    return Candidate(
        head=head,
        relation="Used-for",
        tail=tail,
        provenance=[Provenance(doc_id="d", chunk_id="c", evidence=evidence)],
    )


def test_a_common_word_capitalised_only_where_it_starts_a_sentence_is_that_word() -> None:
    """On bc4dcdc 'Date' passed as a capitalised name. The corpus writing it in lower case elsewhere
    (here in another evidence sentence) shows it is the everyday word."""
    starts = said("Date", "location", "Date is stored with the location.")
    elsewhere = said("tagger", "parsing", "A tagger finds the date before parsing.")
    assert "Date" in CommonWords.of_candidates([starts, elsewhere], 4.0, frequency)
    assert "Date" in CommonWords.of_candidates([starts, cand("date", "parsing")], 4.0, frequency)
    assert "Date" not in CommonWords.of_candidates([starts], 4.0, frequency)  # never seen lower-case


def test_proper_nouns_are_never_common_words() -> None:
    corpus = [
        said("Paul", "Collins", "Paul and Collins built a parser."),
        said("Collins parser", "parsing", "The Collins parser is used for parsing by Paul."),
    ]
    common = CommonWords.of_candidates(corpus, 4.0, frequency)
    assert "Paul" not in common and "Collins" not in common


def test_the_threshold_decides_how_common_is_too_common() -> None:
    corpus = [cand("translation", "date")]
    assert "translation" in CommonWords.of_candidates(corpus, 4.0, frequency)
    assert "translation" not in CommonWords.of_candidates(corpus, 4.5, frequency)
    assert "date" in CommonWords.of_candidates(corpus, 4.5, frequency)


def test_drops_are_counted_and_the_check_can_be_off() -> None:
    corpus = [cand("date", "location"), cand("tokenization", "parsing"), cand("king", "tokenization")]
    kept, dropped = drop_common_words(corpus, 4.0, frequency)
    assert [(c.head, c.tail) for c in kept] == [("tokenization", "parsing")]
    assert dropped == {COMMON_WORD: 2}
    assert drop_common_words(corpus, "off", frequency) == (corpus, {})
    assert drop_common_words(corpus, 4.0, None) == (corpus, {})


def test_english_frequencies_separate_everyday_words_from_domain_terms() -> None:
    """wordfreq's lists (kgc[nlp], installed by .ci/setup): the default threshold 4.0 sits between."""
    zipf = english_frequency()
    assert zipf is not None
    for everyday in ("date", "location", "person", "king", "document"):
        assert zipf(everyday) >= 4.0, everyday
    for term in ("tokenization", "parsing", "perplexity", "lemmatization", "embedding", "summarization"):
        assert zipf(term) < 4.0, term


def build_date_location_run(tmp_path: Path, **settings: object) -> None:
    """A document-mode run in tmp_path/run over HTTP to the scripted server, whose answer relates
    'tokenization' to 'part-of-speech tagging' and the everyday words 'date' and 'location'."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d1.txt").write_text(
        "Tokenization is a prerequisite of part-of-speech tagging. "
        "A tagger labels a date and a location in the text.",
        encoding="utf-8",
    )
    reply = {
        "triplets": [
            {"head": "tokenization", "relation": "Is-a-Prerequisite-of", "tail": "part-of-speech tagging"},
            {"head": "date", "relation": "Conjunction", "tail": "location"},
        ]
    }
    with ScriptedServer(rules=[{"task": "extraction", "reply": reply}]) as server:
        build(corpus, tmp_path / "run", server_config(server, **{"extraction.mode": "document", **settings}))


def test_the_stage_drops_common_words_and_kgc_eval_counts_them(tmp_path: Path) -> None:
    """Over HTTP to the scripted server, document mode: 'date' and 'location' (everyday words no
    longer name of the corpus holds) stay out of the graph, 'tokenization' stays; the drop is counted
    in the extraction report and in kgc eval's conformance table."""
    build_date_location_run(tmp_path)
    run = RunDir(tmp_path / "run", create=False)
    assert [(c.head, c.tail) for c in run.read(CANDIDATES)] == [("Tokenization", "part-of-speech tagging")]
    assert run.read(EXTRACTION_REPORT).dropped == {COMMON_WORD: 1}
    report = evaluate_run(tmp_path / "run")
    assert report.conformance is not None and report.conformance.dropped == {COMMON_WORD: 1}


def test_kgc_eval_counts_common_words_of_a_graph_built_without_the_rule(tmp_path: Path) -> None:
    """The same rule (kgc.extraction.specificity) over the graph's own names: on bc4dcdc kgc eval
    knew no common words, so a graph built with the rule off (or by another tool) showed none."""
    build_date_location_run(tmp_path, **{"extraction.common_word_zipf": "off"})
    report = evaluate_run(tmp_path / "run")
    assert report.conformance is not None and report.conformance.dropped == {}
    assert report.conformance.entity_names == {COMMON_WORD: 2}
    assert sorted(report.conformance.entity_name_examples) == ["date", "location"]


def test_name_problems_of_a_graph_know_common_words_unless_the_graph_builds_names_from_them() -> None:
    graph = KnowledgeGraph(
        entities=[
            Entity(id=slug(n), name=n)
            for n in ("date", "location", "translation", "machine translation", "tokenization")
        ]
    )
    rules = NameRules()
    assert name_problems(graph, rules, 4.5) == {"date": COMMON_WORD, "location": COMMON_WORD}
    assert name_problems(graph, rules) == {}  # no threshold: not checked
