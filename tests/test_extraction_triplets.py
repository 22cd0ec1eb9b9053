"""From raw triplets to graph triplets: names grounded in the passage, coordinations split, names
that are no concept refused, every drop counted by reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgc.artifacts import CANDIDATES, EXTRACTION_REPORT
from kgc.config import ExtractionConfig
from kgc.evaluate import evaluate_run
from kgc.extraction.answers import ExtractionAnswer, Triplet
from kgc.extraction.mentions import APART, NESTED, VARIANT, remainder
from kgc.extraction.names import NameRules
from kgc.extraction.spans import ConceptSpan, PassageSpans, find_spans, load_spacy
from kgc.extraction.triplets import (
    Grounder,
    PassageIndex,
    RawTriplet,
    clean_triplets,
    not_a_noun,
    one_per_statement,
)
from kgc.models import Chunk
from kgc.pipeline import build
from kgc.rundir import RunDir
from kgc.schema import RelationSchema, RelationType
from kgc.stages.extraction import ExtractionTask, candidates_of, validate_triplets
from kgc.testing.scripted_server import ScriptedServer
from tests.test_pipeline import server_config

TEXT = (
    "We apply GPT and neural machine translation to Named-Entity Recognition. "
    "Our proposed method uses conditional random fields (CRFs). BLEU scores are reported. "
    "Models that are trained on text help."
)
SCHEMA = RelationSchema(
    types=[
        RelationType(name="USED-FOR"),
        RelationType(name="CONJUNCTION", directed=False),
        RelationType(name="COMPARE", directed=False),
        RelationType(name="HYPONYM-OF"),
        RelationType(name="PART-OF"),
    ]
)
PASSAGE = find_spans(TEXT, finder="rules")


def clean(
    *raw: tuple[str, str, str],
    ground_names: bool = True,
    same_sentence: bool = True,
    text: str | None = None,
) -> tuple[list[tuple[str, str, str]], dict[str, int]]:
    passage = PASSAGE if text is None else find_spans(text, finder="rules")
    kept, dropped = clean_triplets(
        [RawTriplet(*r) for r in raw],
        PassageIndex(passage, ground_names=ground_names),
        SCHEMA,
        NameRules(),
        80,
        same_sentence=same_sentence,
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
        ("GPT", "conjunction", "neural machine translation"),  # kept, the relation spelled as the schema does
    )
    assert kept == [("GPT", "CONJUNCTION", "neural machine translation")]
    assert dropped == {
        "generic name": 1,
        "name not in the text": 1,
        "clause name": 1,
        "unknown relation": 1,
        "head equals tail": 1,
    }


def test_a_pair_is_kept_only_in_one_sentence_which_is_its_evidence() -> None:
    raw = [
        RawTriplet("CRFs", "USED-FOR", "BLEU scores"),  # in two sentences
        RawTriplet("GPT", "USED-FOR", "named entity recognition"),
    ]
    kept, dropped = clean_triplets(raw, PassageIndex(PASSAGE), SCHEMA, NameRules(), 80)
    assert [(t.as_tuple(), t.evidence) for t in kept] == [
        (
            ("GPT", "USED-FOR", "Named-Entity Recognition"),
            "We apply GPT and neural machine translation to Named-Entity Recognition.",
        )
    ]
    assert dropped == {APART: 1}
    # extraction.same_sentence = false: kept, its evidence the stretch of text from one to the other
    kept, dropped = clean_triplets(raw, PassageIndex(PASSAGE), SCHEMA, NameRules(), 80, same_sentence=False)
    assert (
        kept[0].evidence
        == "Our proposed method uses conditional random fields (CRFs). BLEU scores are reported."
    )
    assert kept[0].evidence in TEXT and dropped == {}


def test_each_conjunct_needs_its_own_sentence() -> None:
    text = "GPT is used for translation. BERT is used for parsing and translation."
    kept, dropped = clean(("GPT and BERT", "USED-FOR", "translation"), text=text)
    assert kept == [("GPT", "USED-FOR", "translation"), ("BERT", "USED-FOR", "translation")]
    kept, dropped = clean(("GPT and BERT", "USED-FOR", "parsing"), text=text)
    assert (kept, dropped) == ([("BERT", "USED-FOR", "parsing")], {APART: 1})


NESTED_TEXT = (
    "Our method improves the accuracy of a term aggregation system. "
    "We describe two parsing algorithms. "
    "Past work of generating referring expressions used a set of coherent corpora. "
    "We compare a neural language model with a count-based language model. "
    "Every neural language model is a language model."
)


def test_a_name_met_only_inside_the_other_is_re_anchored_to_what_it_adds() -> None:
    kept, dropped = clean(
        ("accuracy of a term aggregation system", "USED-FOR", "term aggregation system"), text=NESTED_TEXT
    )
    assert (kept, dropped) == ([("accuracy", "USED-FOR", "term aggregation system")], {})


def test_one_concept_written_twice_is_no_relation() -> None:
    kept, dropped = clean(
        ("two parsing algorithms", "HYPONYM-OF", "parsing algorithms"),  # a numeral: the same concept
        ("generating referring expressions", "USED-FOR", "referring expressions"),  # no second concept
        ("set of coherent corpora", "PART-OF", "coherent corpora"),  # a partitive: the same concept
        text=NESTED_TEXT,
        same_sentence=False,  # nested whatever the sentence rule
    )
    assert (kept, dropped) == ([], {NESTED: 3})


def test_names_mentioned_apart_stay_related_even_when_one_holds_the_other() -> None:
    kept, dropped = clean(
        ("neural language model", "COMPARE", "count-based language model"),
        ("neural language model", "HYPONYM-OF", "language model"),  # 'a language model' on its own
        text=NESTED_TEXT,
    )
    assert kept == [
        ("neural language model", "COMPARE", "count-based language model"),
        ("neural language model", "HYPONYM-OF", "language model"),
    ]
    assert dropped == {}


def test_what_a_name_adds_to_the_one_it_holds() -> None:
    assert remainder("accuracy of a term aggregation system", "term aggregation system") == "accuracy"
    assert remainder("fast computation of lexical affinity models", "fast computation") == (
        "lexical affinity models"
    )
    assert remainder("cycle structure of the region graph", "region graph") == "cycle structure"
    assert remainder("two parsing algorithms", "parsing algorithms") is None  # only modified
    assert remainder("Web search engines", "search engines") is None
    assert remainder("reweighted version of the sum product algorithm", "sum product algorithm") is None
    assert remainder("estimation of the pose of objects", "pose") is None  # words on both sides


def test_a_name_cut_inside_a_word_is_widened_to_the_whole_word() -> None:
    text = "We recover the shape of a rigidly-moving Lambertian object. Such objects are rare."
    # spaCy splits 'rigidly-moving' at its hyphen: the span finder offers '-moving Lambertian object'
    cut = ConceptSpan("-moving Lambertian object", 33, 58, 0, "phrase")
    assert text[cut.start : cut.end] == cut.text
    g = Grounder(PassageSpans(text, [(0, 59), (60, len(text))], [cut]))
    assert g.ground("-moving Lambertian object") == "rigidly-moving Lambertian object"
    assert g.ground("moving Lambertian object") == "rigidly-moving Lambertian object"
    assert g.ground("Lambertian object") == "Lambertian object"  # whole words already


def test_without_grounding_names_are_only_judged() -> None:
    kept, dropped = clean(
        ("support vector machine", "USED-FOR", "BLEU"), ("method", "USED-FOR", "BLEU"), ground_names=False
    )
    assert kept == [("support vector machine", "USED-FOR", "BLEU")]
    assert dropped == {"generic name": 1}


def test_provenance_names_the_chunk_that_holds_the_evidence() -> None:
    """A seed's passage joins chunks: both names are in both chunks, the statement in the second."""
    texts = ["CRF models are common. Tagging is a task.", "We use CRF models for tagging."]
    chunks = [Chunk(id=f"d{i}#0", doc_id=f"d{i}", text=t, start=0, end=len(t)) for i, t in enumerate(texts)]
    task = ExtractionTask(key="CRF/0", seed="CRF", chunks=chunks)
    answer = ExtractionAnswer(triplets=[Triplet(head="CRF models", relation="USED-FOR", tail="tagging")])
    kept, dropped = validate_triplets(answer, task, SCHEMA, ExtractionConfig(candidates="rules"))
    [candidate] = candidates_of(task, kept)
    assert dropped == {} and candidate.provenance[0].chunk_id == "d1#0"
    assert candidate.provenance[0].evidence == "We use CRF models for tagging."


def test_variants_of_one_statement_give_one_triplet_with_the_whole_mentions() -> None:
    text = (
        "We analyze a reweighted version of the Kikuchi approximation for estimating the log partition "
        "function. The Kikuchi approximation is also used for counting."
    )
    passage = find_spans(text, finder="rules")
    raw = [
        RawTriplet("Kikuchi approximation", "USED-FOR", "estimating the log partition function"),
        RawTriplet("reweighted version of the Kikuchi approximation", "USED-FOR", "log partition function"),
        RawTriplet("Kikuchi approximation", "USED-FOR", "counting"),  # another statement
        RawTriplet("Kikuchi approximation", "PART-OF", "log partition function"),  # another relation
    ]
    index = PassageIndex(passage)
    kept, _ = clean_triplets(raw, index, SCHEMA, NameRules(), 80)
    kept, dropped = one_per_statement(kept, index.sentences)
    assert [t.as_tuple() for t in kept] == [
        ("reweighted version of the Kikuchi approximation", "USED-FOR", "log partition function"),
        ("Kikuchi approximation", "USED-FOR", "counting"),
        ("Kikuchi approximation", "PART-OF", "log partition function"),
    ]
    assert dropped == {VARIANT: 1}


@pytest.mark.skipif(load_spacy() is None, reason="kgc[nlp] not installed")
def test_a_name_starts_where_a_noun_phrase_can() -> None:
    text = (
        "Video provides not only rich visual cues such as motion. The paper shows how conventional "
        "algorithms can be adapted. Past work mainly utilized attributes of objects."
    )
    g = Grounder(find_spans(text, finder="spacy"))
    assert g.ground("not only rich visual cues") == "rich visual cues"  # adverbs
    assert g.ground("how conventional algorithms") == "conventional algorithms"  # a wh-word
    assert g.ground("mainly utilized attributes of objects") == "utilized attributes of objects"
    assert g.ground("Past work") == "Past work"  # an adjective starts a noun phrase
    on_line = Grounder(find_spans("It exploits on-line encyclopedias.", finder="spacy"))
    assert on_line.ground("line encyclopedias") == "on-line encyclopedias"  # 'on' glued to 'line'
    assert Grounder(find_spans(text, finder="rules")).ground("how conventional algorithms") == (
        "how conventional algorithms"  # no parse: as written
    )


@pytest.mark.skipif(load_spacy() is None, reason="kgc[nlp] not installed")
def test_a_word_the_passage_uses_only_as_adjective_or_verb_is_no_name() -> None:
    text = (
        "Subword tokenization splits rare words into smaller, frequent pieces. We report accuracy, "
        "perplexity, precision and recall of BERT, LSTM and GloVe after parsing and lemmatization. "
        "Annotators often forget rare senses."
    )
    passage = find_spans(text, finder="spacy")
    for modifier_or_action in ("smaller", "frequent", "forget", "often"):
        assert not_a_noun(modifier_or_action, passage), modifier_or_action
    technical = ("accuracy", "perplexity", "precision", "recall", "BERT", "LSTM", "GloVe", "parsing")
    for name in (*technical, "tokenization", "lemmatization", "rare words", "frequent pieces"):
        assert not not_a_noun(name, passage), name
    kept, dropped = clean_triplets(
        [RawTriplet("smaller", "PART-OF", "rare words"), RawTriplet("parsing", "USED-FOR", "accuracy")],
        PassageIndex(passage),
        SCHEMA,
        NameRules(),
        80,
    )
    assert [t.as_tuple() for t in kept] == [("parsing", "USED-FOR", "accuracy")]
    assert dropped == {"generic name": 1}
    # without a parse (the rules finder) nothing is refused on part of speech
    assert not not_a_noun("smaller", find_spans(text, finder="rules"))


def test_the_stage_and_kgc_eval_count_pairs_across_sentences(tmp_path: Path) -> None:
    """Over HTTP to the scripted server, document mode: a pair stated in one sentence enters the graph
    with that sentence, a pair mentioned only in two is dropped and counted where users read drops."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d1.txt").write_text(
        "We use a CRF for named entity recognition. BLEU scores are reported.", encoding="utf-8"
    )
    reply = {
        "triplets": [
            {"head": "CRF", "relation": "Used-for", "tail": "named entity recognition"},
            {"head": "BLEU scores", "relation": "Evaluate-for", "tail": "CRF"},
        ]
    }
    with ScriptedServer(rules=[{"task": "extraction", "reply": reply}]) as server:
        build(corpus, tmp_path / "run", server_config(server, **{"extraction.mode": "document"}))
    run = RunDir(tmp_path / "run", create=False)
    assert [(c.head, c.tail, c.provenance[0].evidence) for c in run.read(CANDIDATES)] == [
        ("CRF", "named entity recognition", "We use a CRF for named entity recognition.")
    ]
    assert run.read(EXTRACTION_REPORT).dropped == {APART: 1}
    report = evaluate_run(tmp_path / "run")
    assert report.conformance is not None and report.conformance.dropped == {APART: 1}


def test_a_classifier_name_becomes_what_it_classifies() -> None:
    """'a type of recurrent neural network' names the network; 'a form of tokenization' Part-of
    'tokenization' is then one concept twice, no relation."""
    text = "An LSTM is a type of recurrent neural network. Subword tokenization is a form of tokenization."
    kept, dropped = clean(
        ("LSTM", "HYPONYM-OF", "type of recurrent neural network"),
        ("form of tokenization", "PART-OF", "tokenization"),
        text=text,
    )
    assert kept == [("LSTM", "HYPONYM-OF", "recurrent neural network")]
    assert dropped == {"head equals tail": 1}
