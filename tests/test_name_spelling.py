"""British spelling and accents are not a different name (kgc.resolve.keys.name_key), for resolution
and for linking alike."""

from __future__ import annotations

import pytest

from kgc.link import Concept, Vocabulary, link_names
from kgc.resolve import name_key, resolve_names
from kgc.resolve.keys import plain_spelling


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("Tokenisation", "tokenization"),
        ("text summarisation", "text summarization"),
        ("language modelling", "language modeling"),
        ("semantic role labelling", "semantic role labeling"),
        ("dialogue systems", "dialog system"),
        ("optimisers", "optimizer"),
        ("analysed data", "analyzed data"),
        ("behaviour", "behavior"),
        ("colour", "color"),
        ("centre", "center"),
        ("Naïve Bayes", "naive Bayes"),
        ("Schrödinger equation", "Schrodinger equation"),
    ],
)
def test_british_spelling_and_accents_share_the_key(british: str, american: str) -> None:
    assert name_key(british) == name_key(american)


@pytest.mark.parametrize(
    "word", ["supervised", "advise", "precise", "exercise", "comprise", "noise", "rise", "four", "spelling"]
)
def test_words_whose_ending_is_no_british_suffix_are_kept(word: str) -> None:
    assert plain_spelling(word) == word


def test_different_words_keep_different_keys() -> None:
    assert name_key("filling") != name_key("filing")
    assert name_key("tokenisation") != name_key("tokenization model")


def test_resolution_and_linking_both_read_british_spelling() -> None:
    resolved = resolve_names(["tokenisation", "tokenization", "text normalisation"])
    assert resolved.lookup("tokenisation") == resolved.lookup("tokenization")
    vocab = Vocabulary([Concept("c:1", "tokenization"), Concept("c:2", "dialog system")])
    result = link_names(["Tokenisation", "dialogue systems"], vocab)
    assert result.lookup("Tokenisation") == "c:1"
    assert result.lookup("dialogue systems") == "c:2"
