"""The name rules: what is a concept name, and what is generic, a clause or a conjunction."""

import pytest

from kgc.extraction.names import NameRules, classified, conjuncts, is_clause, is_generic, judge, key

RULES = NameRules()


@pytest.mark.parametrize(
    "name",
    [
        "method",
        "Methods",
        "proposed method",
        "our novel approaches",
        "the existing systems",
        "results",
        "test time",
        "it",
        "these",
        "42",
        "---",
        "state-of-the-art techniques",
        "form",  # a classifier noun: 'a form of tokenization', 'types such as date'
        "types",
        "the other kinds",
    ],
)
def test_generic_names(name: str) -> None:
    assert is_generic(name, RULES)


@pytest.mark.parametrize(
    "name",
    [
        "machine translation",
        "ranking algorithm",
        "CRF model",
        "BLEU",
        "statistical methods",
        "word2vec",
        "method of moments",
        "language model",
        "system combination",
        "part-of-speech tagging",  # a classifier noun inside a name
        "type inference",
        "accuracy",
        "tokenization",
        "perplexity",
        "precision",
        "recall",
        "lemmatization",
    ],
)
def test_specific_names(name: str) -> None:
    assert not is_generic(name, RULES)


def test_the_stop_list_is_configurable() -> None:
    rules = NameRules.of(["translator"], max_words=8)
    assert is_generic("translators", rules)
    assert not is_generic("method", rules)


def test_clauses_and_definitions_are_not_names() -> None:
    assert is_clause("dense, low-dimensional vectors that represent the meanings of word", RULES)
    assert is_clause("the model is trained", RULES)
    assert not is_clause("dense reconstruction of textured surfaces", RULES)
    assert is_clause("a b c d e f g h i", RULES)  # over max_words
    assert not is_clause("a b c d e f g h i", NameRules(max_words=9))


def test_a_name_led_by_a_pronoun_is_a_clause_cut_from_its_sentence() -> None:
    assert is_clause("former constrains flow", RULES)  # 'the former constrains flow and ...'
    assert is_clause("we propose a parser", RULES)
    assert not is_clause("IT systems", RULES)  # an acronym, not 'it'
    assert not is_clause("itemset mining", RULES)


def test_conjunctions_split_into_their_parts() -> None:
    assert conjuncts("GPT and neural machine translation") == ["GPT", "neural machine translation"]
    assert conjuncts("parsing, tagging, or chunking") == ["parsing", "tagging", "chunking"]
    assert conjuncts("machine translation") == ["machine translation"]
    assert conjuncts("Brandeis") == ["Brandeis"]  # 'and' inside a word is no conjunction


def test_judge_gives_the_first_reason() -> None:
    assert judge("GPT and neural machine translation", RULES) == "conjunction name"
    assert judge("vectors that represent words", RULES) == "clause name"
    assert judge("proposed method", RULES) == "generic name"
    assert judge("neural machine translation", RULES) is None


def test_key_ignores_case_plural_and_hyphens() -> None:
    assert key("Neural-Networks") == key("neural network")
    assert key("pre-trained language models") == key("pre trained language model")
    assert key("language model") != key("language")


def test_relation_examples_are_shown_with_their_definitions() -> None:
    from kgc.config import load_config
    from kgc.resources import demo_dir

    schema = load_config(demo_dir().parent / "scierc" / "kgc.toml").relations
    text = schema.describe()
    assert "- USED-FOR (directed): " in text
    assert (
        'Example: "We use a CRF for named entity recognition." gives (CRF, USED-FOR, named entity recognition).'
        in text
    )
    for relation, example in schema.examples():
        assert example.head in example.text and example.tail in example.text, relation.name


@pytest.mark.parametrize(
    ("name", "concept"),
    [
        ("form of tokenization", "tokenization"),
        ("a type of recurrent neural network", "recurrent neural network"),
        ("various types of linguistic structures", "linguistic structures"),
        ("two kinds of information", "information"),
        ("a wide variety of Tasks", "Tasks"),
        # no classifier noun in the lead: the name stays whole
        ("part of speech", "part of speech"),
        ("archetypes of grammar", "archetypes of grammar"),
        ("accuracy of parsers", "accuracy of parsers"),
        ("recurrent type of network", "recurrent type of network"),  # 'recurrent' says what it is
        ("type of", "type of"),
        ("types", "types"),
    ],
)
def test_a_classifier_noun_names_what_it_classifies(name: str, concept: str) -> None:
    assert classified(name) == concept
