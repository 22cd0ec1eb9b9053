"""Candidate concept spans: every span is text of its passage; both finders find the names."""

import pytest

from kgc.extraction import spans as spans_module
from kgc.extraction.spans import find_spans, load_spacy, split_sentences

TEXT = (
    "We present an efficient ranking algorithm for estimating object pose. "
    "Minimum Bayes-Risk (MBR) decoding and neural machine translation are compared on the WMT data. "
    "The proposed method uses GPT."
)

FINDERS = [
    "rules",
    pytest.param("spacy", marks=pytest.mark.skipif(load_spacy() is None, reason="kgc[nlp] not installed")),
]


@pytest.mark.parametrize("finder", FINDERS)
def test_every_span_is_text_of_the_passage(finder: str) -> None:
    passage = find_spans(TEXT, finder=finder)  # type: ignore[arg-type]
    assert passage.spans
    for s in passage.spans:
        assert TEXT[s.start : s.end] == s.text
        start, end = passage.sentences[s.sentence]
        assert start <= s.start and s.end <= end


@pytest.mark.parametrize("finder", FINDERS)
def test_the_finders_split_coordinations_and_keep_definitions(finder: str) -> None:
    names = {n.lower() for n in find_spans(TEXT, finder=finder).names()}  # type: ignore[arg-type]
    assert "neural machine translation" in names
    assert "minimum bayes-risk (mbr) decoding" in names or "minimum bayes-risk" in names
    assert "mbr" in names  # the acronym of a definition
    assert not any(" and " in n for n in names)


@pytest.mark.skipif(load_spacy() is None, reason="kgc[nlp] not installed")
def test_spacy_widens_and_narrows_noun_phrases() -> None:
    names = {n.lower() for n in find_spans(TEXT, finder="spacy").names()}
    assert "ranking algorithm" in names  # without the evaluative 'efficient'
    assert "estimating object pose" in names  # a gerund with its object
    assert "wmt data" in names
    assert "gpt" in names


def test_seeds_in_the_passage_become_spans() -> None:
    passage = find_spans(TEXT, finder="rules", seeds=("object pose", "absent seed"))
    seeds = [s for s in passage.spans if s.source == "seed"]
    assert [s.text for s in seeds] == ["object pose"]


def test_auto_falls_back_to_rules_without_spacy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spans_module, "load_spacy", lambda: None)
    assert find_spans(TEXT).names() == find_spans(TEXT, finder="rules").names()


def test_sentences() -> None:
    text = "One. Two three. 4 is four"
    assert [text[s:e] for s, e in split_sentences(text)] == ["One.", "Two three.", "4 is four"]
