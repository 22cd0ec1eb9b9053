"""Aliases kgc.resolve finds without an LLM, class by class, and the names that must stay apart."""

from __future__ import annotations

import pytest

from kgc.resolve import NameRecord, Resolution, resolve_names


def together(r: Resolution, a: str, b: str, doc: str | None = None) -> bool:
    return r.lookup(a, doc) is not None and r.lookup(a, doc) == r.lookup(b, doc)


def test_a_definition_inside_a_name() -> None:
    names = [
        "machine translation (MT) systems", "MT systems", "machine translation", "MT",
        "Named Entity (NE) items", "NE items",
        "Minimum Bayes-Risk (MBR) decoding", "MBR decoding",
        "Automatic Speech Recognition (ASR) System", "ASR system",
        "out-of-vocabulary (OOV) words", "OOV words",
        "dedicated word sense disambiguation (WSD) models", "dedicated WSD models",
    ]  # fmt: skip
    r = resolve_names(names)
    for a, b in zip(names[::2], names[1::2], strict=True):
        if a != "machine translation":
            assert together(r, a, b), (a, b)
    assert together(r, "machine translation", "MT")
    assert not together(r, "MT systems", "MT")  # a system is not the task


def test_lower_case_acronyms_join_what_a_definition_gives_them() -> None:
    texts = {"d1": "We induce subcategorization frames (scfs) from corpora; scfs help parsing."}
    records = [NameRecord(n, 1, ("d1",)) for n in ("scfs", "subcategorization frames", "grs", "map")]
    records += [
        NameRecord("grammatical relations (grs)", 1, ("d2",)),
        NameRecord("maximum a posteriori", 1, ("d2",)),
    ]
    r = resolve_names(records, texts=texts)
    assert together(r, "scfs", "subcategorization frames", "d1")
    assert together(r, "grs", "grammatical relations (grs)")
    assert not together(r, "map", "maximum a posteriori")  # a word, and nothing defines it


def test_a_verb_and_its_noun_and_x_of_y() -> None:
    pairs = [
        ("estimating object pose", "object pose estimation"),
        ("detecting sentence boundaries", "Sentence boundary detection"),
        ("Interpreting metaphors", "metaphor interpretation"),
        ("estimation of object pose", "object pose estimation"),
        ("failures of reference", "reference failures"),
        ("animation of visual speech", "visual speech animation"),
        ("low rank matrices", "low rank matrix"),
    ]
    r = resolve_names([n for p in pairs for n in p])
    for a, b in pairs:
        assert together(r, a, b), (a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("translating texts", "text transliteration"),  # another word, though it starts alike
        ("detecting objects", "object detector"),  # the thing that detects
        ("learning tasks", "learning"),  # a kind of task, not 'learning (the) tasks'
        ("predictions of intelligibility", "predictors of intelligibility"),
        ("state of the art", "art"),
    ],
)
def test_forms_that_are_other_words_stay_apart(a: str, b: str) -> None:
    assert not together(resolve_names([a, b]), a, b)


def test_head_words_that_add_nothing() -> None:
    names = [
        "detection task", "detection",
        "CRF model", "conditional random field (CRF)",
        "bootstrapping approach", "bootstrapping procedure",
        "SmartKom architecture", "SmartKom",
        "BERT model", "BERT",
        "stacked auto-encoder architecture", "Stacked Auto-Encoders (SAE)",
    ]  # fmt: skip
    r = resolve_names(names)
    for a, b in zip(names[::2], names[1::2], strict=True):
        assert together(r, a, b), (a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("language model", "language"),
        ("Horn clauses", "clauses"),
        ("3-D reconstruction", "reconstruction"),
        ("Japanese", "Japanese text"),
        ("NLP tasks", "NLP"),  # the tasks of a field
        ("deep learning tasks", "deep learning"),
        ("machine learning task", "machine learning"),  # a task machine learning solves
        ("vision language model", "vision languages"),
        ("language model", "language model task"),
    ],
)
def test_a_broader_or_narrower_name_stays_apart(a: str, b: str) -> None:
    assert not together(resolve_names([a, b]), a, b)


def test_an_acronym_of_a_task_does_not_join_a_system() -> None:
    r = resolve_names(
        [
            "machine translation",
            "MT",
            "MT system",
            "machine translation system",
            "task-oriented dialogue (ToD)",
            "ToD system",
        ]
    )
    assert together(r, "MT", "machine translation")
    assert together(r, "MT system", "machine translation system")
    assert not together(r, "MT system", "machine translation")
    assert not together(r, "ToD system", "task-oriented dialogue")


def test_a_document_that_defines_an_acronym_otherwise_keeps_it_apart() -> None:
    texts = {"d2": "A statistical singing voice conversion (SVC) technique converts the voice."}
    records = [
        NameRecord("singing voice characteristics", 1, ("d1",)),
        NameRecord("SVC", 1, ("d1", "d2")),
    ]
    r = resolve_names(records, texts=texts)
    assert together(r, "SVC", "singing voice characteristics", "d1")
    assert not together(r, "SVC", "singing voice characteristics", "d2")


def test_one_name_written_many_ways_is_one_entity_whatever_the_order() -> None:
    names = ["generate candidate answers", "generating candidate answers", "generation of candidate answers"]
    names += ["candidate answers generation", "Generation of candidate answers"]
    for order in (names, names[::-1]):
        r = resolve_names(order)
        assert len({r.lookup(n) for n in names}) == 1, order


def test_an_acronym_brings_its_spellings_and_abbreviations_to_its_expansion() -> None:
    names = ["RNN", "RNNs", "RNN model", "RNN models", "recurrent neural network models"]
    names += ["recurrent neural network", "Recurrent Neural Networks", "recurrence neural network"]
    r = resolve_names(names)
    assert len({r.lookup(n) for n in names}) == 1
