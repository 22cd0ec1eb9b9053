"""Retrieval of chunks per seed: fuzzy threshold or BM25 with every word, ranking and character budget."""

from kgc.config import RetrievalConfig
from kgc.models import Chunk, Seed
from kgc.stages.retrieval import phrase_pattern, retrieve, s_stems


def chunk(i: int, text: str) -> Chunk:
    return Chunk(id=f"d{i}#0", doc_id=f"d{i}", text=text, start=0, end=len(text))


CHUNKS = [
    chunk(1, "Word embeddings map words to vectors."),
    chunk(2, "We train a word embedding model on news text."),
    chunk(3, "Parsing builds syntax trees."),
    chunk(4, "Word-embeddings are dense." + " filler" * 50),
]


def test_seed_gets_matching_chunks_best_first_within_budget() -> None:
    [ctx] = retrieve([Seed(name="word embeddings")], CHUNKS, RetrievalConfig(), max_chars=100)
    assert ctx.seed == "word embeddings"
    # d4 matches as well as d1 but does not fit in what is left of the budget; d2 (93) does.
    assert ctx.chunk_ids == ["d1#0", "d2#0"]
    assert ctx.scores == [100.0, 93.0]


def test_unmatched_seed_and_chunk_limit() -> None:
    ctxs = retrieve(
        [Seed(name="quantum chromodynamics"), Seed(name="word embedding")],
        CHUNKS,
        RetrievalConfig(max_chunks=1),
        max_chars=10_000,
    )
    assert [(c.seed, c.chunk_ids) for c in ctxs] == [
        ("quantum chromodynamics", []),
        ("word embedding", ["d1#0"]),
    ]  # ties: corpus order


# --- bm25 -------------------------------------------------------------------------------------------

BM25 = RetrievalConfig(method="bm25")
PHRASES = [
    chunk(1, "An embedding of every word, and a model of it."),  # both words, not as the phrase
    chunk(2, "Word embeddings are trained on text. Word embeddings help."),
    chunk(3, "We study word-embedding models."),
    chunk(4, "Parsing builds syntax trees with a word grammar."),
    chunk(5, "The state of the art in parsing."),
]


def test_bm25_keeps_chunks_with_every_word_the_phrase_first() -> None:
    [ctx] = retrieve([Seed(name="word embedding")], PHRASES, BM25, max_chars=10_000)
    # d4 lacks 'embedding'; d1 has both words apart, so it comes after the two with the phrase
    # (plural or hyphenated), which BM25 orders by term frequency and length.
    assert ctx.chunk_ids == ["d2#0", "d3#0", "d1#0"]
    assert ctx.scores == sorted(ctx.scores[:2], reverse=True) + ctx.scores[2:]
    assert all(s > 0 for s in ctx.scores)


def test_bm25_seed_with_an_unknown_word_or_only_stop_words_gets_nothing() -> None:
    ctxs = retrieve([Seed(name="word quantum"), Seed(name="the of it")], PHRASES, BM25, max_chars=10_000)
    assert [c.chunk_ids for c in ctxs] == [[], []]


def test_bm25_ignores_stop_words_inside_a_seed_and_keeps_the_budget() -> None:
    [ctx] = retrieve([Seed(name="state of the art")], PHRASES, BM25, max_chars=10_000)
    assert ctx.chunk_ids == ["d5#0"]
    [limited] = retrieve(
        [Seed(name="word embedding")], PHRASES, RetrievalConfig(method="bm25", max_chunks=1), max_chars=10_000
    )
    [short] = retrieve([Seed(name="word embedding")], PHRASES, BM25, max_chars=40)
    assert limited.chunk_ids == ["d2#0"]
    assert short.chunk_ids == ["d2#0"]  # the best chunk is kept even over the budget; then none fits


def test_s_stems_fold_plurals_only() -> None:
    words = [
        "embeddings",
        "queries",
        "models",
        "analysis",
        "bias",
        "class",
        "generation",
        "generator",
        "llms",
    ]
    assert s_stems(words) == [
        "embedding",
        "query",
        "model",
        "analysis",
        "bias",
        "class",
        "generation",
        "generator",
        "llm",
    ]


def test_phrase_pattern_finds_plural_and_hyphenated_forms() -> None:
    pattern = phrase_pattern("word embedding")
    assert pattern.search("Word-Embeddings work")
    assert pattern.search("two word  embeddings")
    assert not pattern.search("word sense embedding")
    assert phrase_pattern("query strategy").search("three query strategies")
