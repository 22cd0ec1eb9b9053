"""Retrieval of chunks per seed: fuzzy threshold, ranking and character budget."""

from kgc.config import RetrievalConfig
from kgc.models import Chunk, Seed
from kgc.stages.retrieval import retrieve


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
