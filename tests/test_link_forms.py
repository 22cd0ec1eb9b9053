"""Names that write a label another way link to it; names that only look alike do not (kgc.link.forms)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgc.link import Concept, Vocabulary, link_names
from kgc.link.forms import without_head

VOCAB = Vocabulary(
    [
        Concept("asr", "speech recognition"),
        Concept("tl", "transfer learning"),
        Concept("gru", "gated recurrent units"),
        Concept("sa", "sentiment analysis"),
        Concept("nlp", "natural language processing"),
        Concept("lm", "language modeling"),
        Concept("lang", "language"),
        Concept("ccg", "combinatory categorial grammar"),
        Concept("nmt", "neural machine translation"),
        Concept("att", "attention models"),
        Concept("nn", "neural networks"),
        Concept("pos", "part of speech tagging"),
        Concept("ire", "evaluation of information retrieval"),
        Concept("crf", "sequence classification and conditional random fields"),
        Concept("dsa", "data structures and algorithms"),
        Concept("lstm", "long short-term memory networks"),
        Concept("vqa", "Visual QA"),
        Concept("vae", "variational autoencoders"),
        Concept("ve", "variable elimination"),
        Concept("adv", "adversarial search"),
        Concept("trk", "tracking"),
        Concept("app", "approach"),
        Concept("smt", "SMT system"),
        Concept("mt", "machine translation"),
    ]
)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KGC_HOME", str(tmp_path / "home"))


def decide(*names: str) -> dict[str, tuple[str, str | None]]:
    return {x.name: (x.match, x.id) for x in link_names(list(names), VOCAB).links}


@pytest.mark.parametrize(
    ("name", "concept"),
    [
        ("transfer learning methods", "tl"),  # a head word that adds nothing
        ("GRU networks", "gru"),
        ("sentiment analysis task", "sa"),
        ("state-of-the-art neural machine translation", "nmt"),  # a modifier that adds nothing
        ("language models", "lm"),  # a model for its modelling
        ("attention-based models", "att"),
        ("neural nets", "nn"),
        ("recognition of speech", "asr"),  # one action on one object, written three ways
        ("recognizing speech", "asr"),
        ("tagging parts of speech", "pos"),
        ("evaluating information retrieval", "ire"),
        ("conditional random fields", "crf"),  # one of the two topics of a label
        ("CRFs", "crf"),
        ("LSTM", "lstm"),  # the initials of the label without its head word
        ("VQA", "vqa"),  # a label with an acronym in it
        ("statistical MT systems", "smt"),  # the label abbreviates the name
    ],
)
def test_a_label_written_another_way_links_exactly(name: str, concept: str) -> None:
    assert decide(name)[name] == ("exactMatch", concept)


def test_head_words_that_name_something_else_are_kept() -> None:
    got = decide("NLP tasks", "language model", "CCG corpora", "algorithms")
    assert got["NLP tasks"][0] != "exactMatch"  # the tasks of a field, not the field
    assert got["language model"] == ("exactMatch", "lm")  # not 'language'
    assert got["CCG corpora"][0] != "exactMatch"  # corpora annotated with CCG
    assert got["algorithms"][0] != "exactMatch"  # one word of 'data structures and algorithms'
    assert without_head("nlp task", "NLP task") == "nlp"  # one NLP task, written singular
    assert without_head("nlp task", "NLP tasks") is None


def test_acronyms_with_letters_from_inside_words_are_not_linked() -> None:
    got = decide("VAE", "ADS", "VEL")
    # v(a)riable (e)limination has the letters too, but 'auto' is a prefix: variational AutoEncoders
    assert got["VAE"] == ("exactMatch", "vae")
    assert got["ADS"] == ("uncertain", None)  # a(d)versarial (s)earch: letters, not initials
    assert got["VEL"] == ("uncertain", None)  # v(e)ariable (el)imination: no prefix to part


def test_an_acronym_of_a_whole_label_before_one_of_a_shortened_label() -> None:
    vocab = Vocabulary(
        [
            Concept("nmt", "neural machine translation"),
            Concept("nmtm", "neural machine translation methods"),  # NMT: the initials without 'methods'
            Concept("ner", "named entity recognition"),
            Concept("nerd", "named entity recognition and disambiguation"),  # NER: one part of it
            Concept("rl", "reinforcement learning"),
            Concept("rlo", "robotic locomotion"),
        ]
    )
    got = {x.name: (x.match, x.id) for x in link_names(["NMT", "NER", "RL", "NMTM"], vocab).links}
    assert got["NMT"] == ("exactMatch", "nmt")
    assert got["NMTM"] == ("exactMatch", "nmtm")
    assert got["NER"] == ("exactMatch", "ner")
    assert got["RL"] == ("ambiguous", None)  # two whole labels: a tie stays a tie


def test_a_clause_or_a_relation_is_no_narrower_form() -> None:
    got = decide(
        "improving neural machine translation",
        "translation quality in neural machine translation",
        "part of speech tagging and speech recognition",
        "chinese speech recognition",
        "non-sequential tracking approaches",
    )
    assert got["improving neural machine translation"][0] not in ("exactMatch", "broadMatch")
    assert got["translation quality in neural machine translation"][0] not in ("exactMatch", "broadMatch")
    assert got["part of speech tagging and speech recognition"][0] not in ("exactMatch", "broadMatch")
    assert got["chinese speech recognition"] == ("broadMatch", "asr")
    assert got["non-sequential tracking approaches"] == ("broadMatch", "trk")  # not 'approach'
