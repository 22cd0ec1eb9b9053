"""Stage 1 with the real bundled MiniLM and real BERTopic, on a 3-topic corpus written here and on the
first abstracts of the Graphusion corpus."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kgc.config import SeedsConfig
from kgc.embeddings import load_embedder
from kgc.errors import KgcError
from kgc.models import Seed
from kgc.stages.seed_phrases import candidate_phrases, phrase_vocabulary, select_seeds, user_seeds
from kgc.stages.seed_topics import kmeans_k, umap_shape
from kgc.stages.seeds import SeedResult, find_seeds, is_junk
from kgc.text import normalise_name

ABSTRACTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "graphusion" / "abstracts.txt"

BAKING = [
    "Knead the bread dough for ten minutes until the gluten develops.",
    "Sourdough bread needs a lively starter and a long fermentation.",
    "Preheat the oven before you bake the bread loaf.",
    "Whole wheat flour absorbs more water than white flour in bread dough.",
    "Let the bread dough rise in a warm kitchen until it doubles.",
    "A baking stone gives the bread loaf a crisp crust in the oven.",
    "Instant yeast can be mixed straight into the flour for bread dough.",
    "Shape the proofed bread dough gently to keep the air bubbles.",
    "Steam in the oven during the first minutes helps the bread crust.",
    "Rye flour makes a dense bread with a sour flavour.",
    "Fold the sourdough bread dough every half hour during bulk fermentation.",
    "Cool the baked bread loaf on a rack before slicing it.",
    "Salt slows the yeast and strengthens the gluten in bread dough.",
]
ASTRONOMY = [
    "A black hole bends light so strongly that nothing escapes its event horizon.",
    "The space telescope observed a distant galaxy cluster in infrared light.",
    "Astronomers measured the mass of the black hole at the galaxy centre.",
    "Neutron stars form when massive stars collapse after a supernova explosion.",
    "The radio telescope detected pulses from a spinning neutron star.",
    "Gravitational waves from two merging black holes reached the detectors.",
    "A supernova explosion can outshine its whole galaxy for weeks.",
    "The space telescope mapped dark matter around the galaxy cluster.",
    "Light from the distant galaxy is shifted to red by cosmic expansion.",
    "Planets orbiting other stars are found when they dim their star's light.",
    "The event horizon of a black hole was imaged by a network of radio telescopes.",
    "Massive stars burn their fuel quickly and end as neutron stars or black holes.",
    "Telescope mirrors collect faint starlight from the early universe.",
]
FOOTBALL = [
    "The striker scored a penalty kick in the final minute of the football match.",
    "The goalkeeper saved the penalty kick with a diving stop.",
    "The football coach changed the formation at half time.",
    "A red card left the home team with ten players for the rest of the match.",
    "The midfielder passed the ball to the winger on the counter attack.",
    "The referee awarded a penalty kick after a foul in the box.",
    "The football team won the league title after a long season.",
    "Fans sang in the stadium as the striker celebrated the goal.",
    "The defender blocked the shot and the goalkeeper caught the ball.",
    "The football club signed a young striker in the transfer window.",
    "A free kick curled over the wall into the top corner of the goal.",
    "The coach praised the defence after a clean sheet in the football match.",
    "Extra time and a penalty shootout decided the cup final.",
]
CORPUS = BAKING + ASTRONOMY + FOOTBALL
# Words that mark each topic: a topic is covered when a seed name contains one of them.
MARKERS = {
    "baking": {"bread", "dough", "flour", "yeast", "oven", "sourdough", "loaf", "gluten"},
    "astronomy": {"black hole", "telescope", "galaxy", "neutron star", "supernova", "star"},
    "football": {"penalty", "football", "goalkeeper", "striker", "referee", "kick"},
}
MINILM = load_embedder()  # loaded on first use, once for the module
CFG = SeedsConfig(ngram_range=(1, 2))  # default min_topic_size 10: HDBSCAN can find 13-document topics


@pytest.fixture(scope="module")
def corpus_vectors() -> np.ndarray:
    return MINILM.encode(CORPUS)


@pytest.fixture(scope="module")
def three_topics(corpus_vectors: np.ndarray) -> SeedResult:
    return find_seeds(CORPUS, CFG, embeddings=corpus_vectors, embedder=MINILM)


def covered_topics(seeds: list[Seed]) -> set[str]:
    return {topic for topic, words in MARKERS.items() for s in seeds if any(w in s.name for w in words)}


@pytest.mark.slow
def test_hdbscan_finds_the_three_topics_and_each_gives_seeds(three_topics: SeedResult) -> None:
    assert three_topics.method == "hdbscan"
    assert sorted(t.size for t in three_topics.topics) == [13, 13, 13]
    assert three_topics.outliers == 0
    assert covered_topics(three_topics.seeds) == set(MARKERS)
    # Each topic's own seeds are about that topic only: the clusters and their keyphrases agree.
    for topic in three_topics.topics:
        own = [s for s in three_topics.seeds if s.topic == topic.topic]
        assert len(covered_topics(own)) == 1, own
    assert {"bread dough", "black hole", "penalty kick"} <= {s.name for s in three_topics.seeds}


@pytest.mark.slow
def test_seed_names_are_normalised_unique_and_not_junk(three_topics: SeedResult) -> None:
    names = [s.name for s in three_topics.seeds]
    assert len(names) == len(set(names))
    assert all(name == normalise_name(name) and not is_junk(name) for name in names)
    assert not [n for n in names if n + "s" in names]  # no 'black hole' next to 'black holes'
    assert "black hole" in names and "black holes" not in names
    assert all(s.origin == "topic" and s.topic >= 0 for s in three_topics.seeds)
    # The topics take turns: the first three seeds are the best of each topic, largest topic first.
    assert [s.topic for s in three_topics.seeds[:3]] == [0, 1, 2]
    for topic in range(3):
        scores = [s.score for s in three_topics.seeds if s.topic == topic]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_topics_list_the_keyphrases_as_found(three_topics: SeedResult) -> None:
    assert len(three_topics.topics) == 3
    for topic in three_topics.topics:
        assert len(topic.keywords) == CFG.keywords_per_topic
    assert "black holes" in {k for t in three_topics.topics for k in t.keywords}


@pytest.mark.slow
def test_same_input_gives_the_same_seeds(three_topics: SeedResult) -> None:
    # Embedded again and modeled again: nothing is reused from the first run.
    again = find_seeds(CORPUS, CFG, embedder=MINILM)
    assert again.model_dump() == three_topics.model_dump()


@pytest.mark.slow
def test_hdbscan_finding_too_few_topics_falls_back_to_kmeans(corpus_vectors: np.ndarray) -> None:
    # 39 documents can hold two topics of 15, but the real ones have 13 documents: HDBSCAN finds none.
    result = find_seeds(
        CORPUS, SeedsConfig(ngram_range=(1, 2), min_topic_size=15), embeddings=corpus_vectors, embedder=MINILM
    )
    assert result.method == "kmeans"
    assert len(result.topics) == kmeans_k(len(CORPUS)) == 4
    assert sum(t.size for t in result.topics) == len(CORPUS)
    assert covered_topics(result.seeds) == set(MARKERS)


@pytest.mark.slow
def test_a_corpus_too_small_for_two_topics_goes_straight_to_kmeans(corpus_vectors: np.ndarray) -> None:
    result = find_seeds(
        CORPUS, SeedsConfig(ngram_range=(1, 2), min_topic_size=20), embeddings=corpus_vectors, embedder=MINILM
    )
    assert result.method == "kmeans"
    assert covered_topics(result.seeds) == set(MARKERS)


@pytest.mark.slow
def test_a_three_document_corpus_makes_each_document_a_topic() -> None:
    texts = [BAKING[0], ASTRONOMY[0], FOOTBALL[0]]
    result = find_seeds(texts, SeedsConfig(), embedder=MINILM)
    assert result.method == "per-document"
    assert [t.size for t in result.topics] == [1, 1, 1]
    assert covered_topics(result.seeds) == set(MARKERS)
    assert {"bread dough", "black hole", "penalty kick"} <= {s.name for s in result.seeds}


@pytest.mark.slow
def test_blank_texts_are_ignored() -> None:
    result = find_seeds(["", "   ", BAKING[0]], SeedsConfig(), embedder=MINILM)
    assert result.method == "per-document"
    assert [t.size for t in result.topics] == [1]
    assert "bread dough" in {s.name for s in result.seeds}


@pytest.mark.parametrize("texts", [[], ["", " "], ["the of it", "2023 - 42", "a an"]])
def test_no_usable_text_gives_only_the_user_seeds(texts: list[str]) -> None:
    result = find_seeds(texts, SeedsConfig(user_seeds=["Knowledge Graphs"]), embedder=MINILM)
    assert result.method == "empty"
    assert result.seeds == [Seed(name="knowledge graph", topic=-1, score=1.0, origin="user")]
    assert result.topics == []


class NeverEmbeds:
    """An embedder that fails when used: proves that nothing was embedded or modeled."""

    key = "never"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        raise AssertionError(f"embedded {len(texts)} texts")


def test_user_seeds_only_skips_topic_modeling_and_returns_them_normalised() -> None:
    cfg = SeedsConfig(
        user_seeds=["Large Language Models", "large language model", " LLMs ", "Knowledge Graphs."],
        user_seeds_only=True,
    )
    result = find_seeds(CORPUS, cfg, embedder=NeverEmbeds())
    assert result.method == "user-only"
    assert result.topics == []
    assert result.seeds == [
        Seed(name="large language model", topic=-1, score=1.0, origin="user"),
        Seed(name="llm", topic=-1, score=1.0, origin="user"),
        Seed(name="knowledge graph", topic=-1, score=1.0, origin="user"),
    ]


@pytest.mark.slow
def test_max_seeds_keeps_the_user_seeds_and_the_best_topic_seeds(
    corpus_vectors: np.ndarray, three_topics: SeedResult
) -> None:
    cfg = SeedsConfig(ngram_range=(1, 2), max_seeds=5, user_seeds=["Oven Temperatures", "Black Holes"])
    result = find_seeds(CORPUS, cfg, embeddings=corpus_vectors, embedder=MINILM)
    assert len(result.seeds) == 5
    assert [(s.name, s.origin) for s in result.seeds[:2]] == [
        ("oven temperature", "user"),
        ("black hole", "user"),
    ]
    # The topic seed 'black hole' gave way to the user's; each topic gives its best other seed.
    others = [s for s in three_topics.seeds if s.name != "black hole"]
    assert result.seeds[2:] == [next(s for s in others if s.topic == topic) for topic in (0, 1, 2)]


@pytest.mark.slow
def test_user_seeds_are_all_kept_even_beyond_max_seeds(corpus_vectors: np.ndarray) -> None:
    cfg = SeedsConfig(ngram_range=(1, 2), max_seeds=2, user_seeds=["a seed", "another seed", "third seed"])
    result = find_seeds(CORPUS, cfg, embeddings=corpus_vectors, embedder=MINILM)
    assert [s.name for s in result.seeds] == ["a seed", "another seed", "third seed"]


@pytest.mark.slow
def test_embeddings_of_another_length_are_refused(corpus_vectors: np.ndarray) -> None:
    with pytest.raises(KgcError, match="got 39 embeddings for 3 texts"):
        find_seeds(CORPUS[:3], CFG, embeddings=corpus_vectors, embedder=MINILM)


@pytest.mark.slow
@pytest.mark.skipif(not ABSTRACTS.is_file(), reason=f"reference data not found at {ABSTRACTS}")
def test_graphusion_abstracts_give_nlp_concepts() -> None:
    with ABSTRACTS.open(encoding="utf-8") as f:
        abstracts = [next(f) for _ in range(150)]
    result = find_seeds(abstracts, SeedsConfig(ngram_range=(2, 4)), embedder=MINILM)
    names = {s.name for s in result.seeds}
    assert result.method == "hdbscan"
    assert len(result.topics) >= 3
    assert {"machine translation", "question answering", "task-oriented dialogue"} <= names
    assert len(names) >= 30


# --- the pure helpers -----------------------------------------------------------------------------


def test_candidate_phrases_keep_real_phrases_only() -> None:
    text = "Named Entity Recognition (NER) is the state-of-the-art; a chain of thought and the parser."
    assert candidate_phrases(text, (1, 3)) == [
        # a phrase never crosses punctuation, so 'recognition ner' is not one
        *["named", "entity", "recognition", "named entity", "entity recognition", "named entity recognition"],
        "ner",
        "state-of-the-art",  # hyphenated words stay whole
        # 'of' may stand inside a phrase; no phrase starts or ends with a stop word
        *["chain", "thought", "parser", "chain of thought"],
    ]


def test_is_junk() -> None:
    assert [is_junk(n) for n in ["ai", "2023", "1.5 %", "of the", "about which", "bert", "gpt-4"]] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
    ]


def test_user_seeds_are_normalised_deduplicated_in_order() -> None:
    assert [s.name for s in user_seeds(["Transformers", "transformer", "", "  Graph Neural Networks "])] == [
        "transformer",
        "graph neural network",
    ]


def test_select_seeds_caps_topic_seeds_only() -> None:
    found = [Seed(name=f"topic seed {i}", topic=0, score=1 - i / 10) for i in range(5)]
    user = [Seed(name="topic seed 3", topic=-1, origin="user")]
    assert [s.name for s in select_seeds(found, user, 3)] == ["topic seed 3", "topic seed 0", "topic seed 1"]


def topic_seed(name: str, topic: int, score: float) -> Seed:
    return Seed(name=name, topic=topic, score=score, origin="topic")


def test_select_seeds_lets_the_topics_take_turns() -> None:
    found = [  # best first, as topic_seeds gives them: topic 1 has the three best scores
        topic_seed("relation extraction", 1, 0.9),
        topic_seed("knowledge base", 1, 0.8),
        topic_seed("information extraction", 1, 0.7),
        topic_seed("machine translation", 0, 0.6),
        topic_seed("bleu", 0, 0.5),
        topic_seed("word embedding", 2, 0.4),
    ]
    assert [s.name for s in select_seeds(found, [], 4)] == [
        "machine translation",  # round 1: topic 0 (the largest), 1, 2
        "relation extraction",
        "word embedding",
        "bleu",  # round 2
    ]
    assert len(select_seeds(found, [], 100)) == 6


def test_select_seeds_skips_a_seed_that_abbreviates_a_chosen_one_or_is_spelled_out_by_it() -> None:
    found = [
        topic_seed("long short-term memory", 0, 0.9),
        topic_seed("machine translation", 1, 0.9),
        topic_seed("lstm", 0, 0.8),  # the acronym of a chosen seed
        topic_seed("model training", 1, 0.8),  # the same initials as 'machine translation': kept
        topic_seed("named entity recognition", 0, 0.7),  # spelled out by the user's 'ner'
        topic_seed("bleu", 1, 0.7),
    ]
    user = [Seed(name="ner", topic=-1, origin="user")]
    assert [s.name for s in select_seeds(found, user, 10)] == [
        "ner",
        "long short-term memory",
        "machine translation",
        "model training",
        "bleu",
    ]


def test_phrase_vocabulary_keeps_phrases_of_several_documents() -> None:
    docs = [
        "Neural machine translation uses attention.",
        "Attention helps machine translation a lot.",
        "A parser reads sentences.",
    ]
    assert phrase_vocabulary(docs, (1, 2), 2) == {
        "attention",
        "machine",
        "translation",
        "machine translation",
    }
    # No phrase in two documents: every phrase stays a candidate rather than none.
    assert phrase_vocabulary(docs[2:], (1, 1), 2) == {"parser", "reads", "sentences"}
    assert "neural machine" in phrase_vocabulary(docs, (1, 2), 1)


def test_umap_shape_is_graphusions_capped_by_the_corpus() -> None:
    assert umap_shape(1073) == (20, 50)
    assert umap_shape(39) == (20, 9)
    assert umap_shape(10) == (9, 2)


def test_kmeans_k_is_sqrt_of_half_the_documents() -> None:
    assert [kmeans_k(n) for n in (5, 18, 39, 200)] == [2, 3, 4, 10]
