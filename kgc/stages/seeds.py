"""Stage 1: seed entities from topic keyphrases (BERTopic, Graphusion-style) plus the user's own seeds.

The topic model (kgc.stages.seed_topics) is fitted on the embeddings of at most `fit_sample` chunks,
chosen by content hash; every other chunk is then given the topic whose keyphrases it shares most,
which needs no embedding, so a corpus of 100,000 chunks costs the embedding of the sample only. The
method is that of the clustering (`hdbscan`, `kmeans`, `per-document`), or `user-only`
(`user_seeds_only`: no topic modeling at all), or `empty` (no text with a candidate phrase).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter

import numpy as np
from pydantic import BaseModel, Field
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from kgc.artifacts import CHUNKS, SEEDS, SEEDS_SEEN, TOPICS
from kgc.config import EMBEDDING_KEYS, KgcConfig, SeedsConfig
from kgc.embeddings import Embedder, StoredEmbedder, VectorStore, load_embedder
from kgc.embeddings.legacy import migrate_chunk_vectors
from kgc.errors import ConfigError, KgcError
from kgc.link.vocabulary import file_sha256, load_vocabulary
from kgc.models import Chunk, Seed, SeedsSeen, TopicSummary
from kgc.stages.base import Stage, StageContext, StageOutcome, in_seed_mode
from kgc.stages.seed_phrases import candidate_phrases, phrase_vocabulary, select_seeds, user_seeds
from kgc.stages.seed_topics import SeedMethod, Topic, fit_topics
from kgc.stages.seed_updates import seeds_settings, update_seeds
from kgc.text import normalise_name

logger = logging.getLogger(__name__)


class SeedResult(BaseModel):
    seeds: list[Seed]
    topics: list[TopicSummary] = Field(default_factory=list)  # outlier topic -1 not included
    method: SeedMethod
    outliers: int = 0  # documents in no topic: HDBSCAN's outliers, and those sharing no keyphrase
    fitted: int = 0  # documents the topic model was fitted on
    labels: list[int] = Field(default_factory=list)  # the topic of each text (-1: none), when modeled


def fit_sample(texts: list[str], cfg: SeedsConfig) -> list[int]:
    """Positions of the texts the topic model is fitted on: every text that is not blank, or
    `cfg.fit_sample` of them, those of smallest hash of (random_state, text). The choice is the same on
    every run and in any order of the texts, and a grown corpus keeps most of its sample."""
    keep = [i for i, t in enumerate(texts) if t.strip()]
    if not cfg.fit_sample or len(keep) <= cfg.fit_sample:
        return keep

    def rank(i: int) -> bytes:
        return hashlib.blake2b(f"{cfg.random_state}|{texts[i]}".encode(), digest_size=8).digest()

    return sorted(sorted(keep, key=rank)[: cfg.fit_sample])


def find_seeds(
    texts: list[str],
    cfg: SeedsConfig,
    *,
    embedder: Embedder | None = None,
    embeddings: np.ndarray | None = None,
) -> SeedResult:
    """Seeds for a corpus: topic keyphrases, normalised and de-duplicated, plus `cfg.user_seeds`.

    The topic model is fitted on the texts of `fit_sample(texts, cfg)` (all of them up to
    `cfg.fit_sample`); every text gets a topic. `embedder` embeds the fitted texts and the candidate
    keyphrases (default: the default `[embedding]` model, loaded only when needed); `embeddings`, one
    row per fitted text from that embedder, skips embedding them when the caller already has them.
    """
    user = user_seeds(cfg.user_seeds)
    if cfg.user_seeds_only:
        logger.info("seeds: user_seeds_only, no topic modeling; %d user seeds", len(user))
        return SeedResult(seeds=user, method="user-only")
    sample = fit_sample(texts, cfg)
    if embeddings is not None and embeddings.shape[0] != len(sample):
        raise KgcError(f"find_seeds got {embeddings.shape[0]} embeddings for {len(sample)} texts")
    docs = [texts[i] for i in sample]
    if not any(candidate_phrases(d, cfg.ngram_range) for d in docs):  # stops at the first usable one
        logger.info("seeds: no text with a candidate phrase to model; %d user seeds", len(user))
        return SeedResult(seeds=user, method="empty")
    embedder = embedder or load_embedder()
    vectors = embeddings if embeddings is not None else embedder.encode(docs)
    vocabulary = phrase_vocabulary(docs, cfg.ngram_range, cfg.min_phrase_docs)
    model = fit_topics(docs, vectors, vocabulary, cfg, embedder)
    labels = np.full(len(texts), -1, dtype=np.int64)
    labels[sample] = model.labels
    fitted = set(sample)
    rest = [i for i, t in enumerate(texts) if i not in fitted and t.strip()]
    if rest:
        labels[rest] = model.assign([texts[i] for i in rest])
        logger.info("seeds: %d more documents given the topic of their keyphrases", len(rest))
    seeds = select_seeds(topic_seeds(model.topics), user, cfg.max_seeds)
    sizes = Counter(labels.tolist())
    outliers = sum(1 for i, t in enumerate(texts) if t.strip() and labels[i] == -1)
    logger.info(
        "seeds: %d documents (%d fitted), method %s, %d topics, %d outliers, %d seeds (%d from the user)",
        len(fitted) + len(rest),
        len(sample),
        model.method,
        len(model.topics),
        outliers,
        len(seeds),
        len(user),
    )
    return SeedResult(
        seeds=seeds,
        topics=[
            TopicSummary(topic=t.topic, size=sizes[t.topic], keywords=[k for k, _ in t.keywords])
            for t in model.topics
        ],
        method=model.method,
        outliers=outliers,
        fitted=len(sample),
        labels=labels.tolist(),
    )


# --- seeds ------------------------------------------------------------------------------------


def is_junk(name: str) -> bool:
    """Not a usable seed: 1-2 characters, no letter at all (numbers), or only stop words."""
    if len(name) <= 2 or not any(c.isalpha() for c in name):
        return True
    return all(word in ENGLISH_STOP_WORDS for word in name.split())


def topic_seeds(topics: list[Topic]) -> list[Seed]:
    """Normalised keyphrases of all topics, one seed per name with its best score and that topic."""
    best: dict[str, Seed] = {}
    for topic in topics:
        for phrase, score in topic.keywords:
            name = normalise_name(phrase)
            if is_junk(name):
                continue
            if name not in best or score > best[name].score:
                best[name] = Seed(name=name, topic=topic.topic, score=score, origin="topic")
    return sorted(best.values(), key=lambda s: (-s.score, s.name))


# --- the stage --------------------------------------------------------------------------------


def chunk_vectors(ctx: StageContext, chunks: list[Chunk], corpus: list[Chunk]) -> np.ndarray:
    """The vectors of `chunks`, kept in the run directory's vector store by content hash: a changed
    seeds setting re-runs the topic model, not the embedding (a minute per 1,000 abstracts here), an
    updated corpus embeds only its new chunks, and a run killed while embedding resumes from its last
    batch. The store then keeps the vectors of the `corpus` chunks only."""
    embedder = ctx.embedder
    texts = [c.text for c in chunks]
    with VectorStore.open(ctx.run.path, "chunks", embedder.key) as store:
        migrate_chunk_vectors(ctx.run.path, store, texts)
        vectors = StoredEmbedder(embedder, store, label="seeds", noun="chunks").encode(texts)
        store.keep_only({c.hash for c in corpus})
    return vectors


def seeds_config(cfg: KgcConfig) -> SeedsConfig:
    """cfg.seeds, the vocabulary's concept labels added to the user seeds when seeds.from_vocabulary."""
    if not cfg.seeds.from_vocabulary:
        return cfg.seeds
    if cfg.link.vocabulary is None:
        raise ConfigError("seeds.from_vocabulary needs link.vocabulary, the file of concepts")
    labels = [c.label for c in load_vocabulary(cfg.link.vocabulary).concepts]
    return cfg.seeds.model_copy(update={"user_seeds": [*cfg.seeds.user_seeds, *labels]})


def _vocabulary_fingerprint(ctx: StageContext) -> str:
    """The vocabulary file's content, when its concepts are seeds: an edited file re-runs the stage."""
    vocab = ctx.cfg.link.vocabulary
    return (
        file_sha256(vocab) if ctx.cfg.seeds.from_vocabulary and vocab is not None and vocab.is_file() else ""
    )


def _run(ctx: StageContext) -> StageOutcome:
    cfg = ctx.cfg.model_copy(update={"seeds": seeds_config(ctx.cfg)})
    chunks = ctx.run.read(CHUNKS)
    settings = seeds_settings(cfg)

    def fit(fitted: list[Chunk]) -> SeedResult:
        if cfg.seeds.user_seeds_only:  # no topic model: nothing to embed
            return find_seeds([], cfg.seeds)
        texts = [c.text for c in fitted]
        vectors = chunk_vectors(ctx, [fitted[i] for i in fit_sample(texts, cfg.seeds)], chunks)
        return find_seeds(texts, cfg.seeds, embedder=ctx.embedder, embeddings=vectors)

    seen = _seen(ctx, settings) if cfg.seeds.keep_on_update else None
    counts: dict[str, int] = {}
    waiting: list[Chunk] = []
    if seen is None:
        result = fit(chunks)
        seeds, topics = result.seeds, result.topics
        counts["fitted_chunks"] = result.fitted
    else:  # an update of the corpus: the seeds stay, new ones only for text they do not cover
        kept = ctx.run.read(SEEDS)
        seeds, waiting = update_seeds(kept, seen, chunks, cfg.seeds, lambda fitted: fit(fitted).seeds)
        topics = ctx.run.read(TOPICS)
        counts |= {"new_seeds": len(seeds) - len(kept), "uncovered_chunks_waiting": len(waiting)}
    ctx.run.write(SEEDS, seeds)
    ctx.run.write(TOPICS, topics)
    seen_now = ({c.hash for c in chunks} | (seen or set())) - {c.hash for c in waiting}
    ctx.run.write(SEEDS_SEEN, SeedsSeen(settings=settings, chunks=sorted(seen_now)))
    return StageOutcome({"seeds": len(seeds), "topics": len(topics), **counts})


def _seen(ctx: StageContext, settings: str) -> set[str] | None:
    """The chunks the run's seeds were chosen from, when they were chosen with these settings."""
    seen = ctx.run.read_optional(SEEDS_SEEN)
    if seen is None or not ctx.run.exists(SEEDS):
        return None
    return set(seen.chunks) if seen.settings == settings else None


STAGE = Stage(
    name="seeds",
    sections=("seeds", *EMBEDDING_KEYS),
    inputs=(CHUNKS,),
    outputs=(SEEDS, TOPICS, SEEDS_SEEN),
    run=_run,
    fingerprint=_vocabulary_fingerprint,
    enabled=in_seed_mode,
)
