"""Stage 1: seed entities from topic keyphrases (BERTopic, Graphusion-style) plus the user's own seeds.

The documents are embedded once; clustering is chosen here, by corpus size, and BERTopic only turns the
clusters into keyphrases (c-TF-IDF candidates re-ranked by KeyBERTInspired), so every size of corpus
goes through one representation path:

- `hdbscan`: UMAP + HDBSCAN, Graphusion's setting, scaled down to the corpus;
- `kmeans`: k-means with k ~ sqrt(n/2), when the corpus is too small for HDBSCAN to find two topics of
  `min_topic_size` documents, or when HDBSCAN found fewer than two;
- `per-document`: below `MIN_DOCS_FOR_CLUSTERING` documents, each document is its own topic;
- `user-only`: `user_seeds_only`, no topic modeling at all; `empty`: no text with a candidate phrase.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from kgc.artifacts import CHUNKS, SEEDS, SEEDS_SEEN, TOPICS
from kgc.config import KgcConfig, SeedsConfig
from kgc.embeddings import Embedder, StoredEmbedder, VectorStore, load_embedder
from kgc.embeddings.legacy import migrate_chunk_vectors
from kgc.errors import ConfigError, KgcError
from kgc.link.vocabulary import file_sha256, load_vocabulary
from kgc.models import Chunk, Seed, SeedsSeen, TopicSummary
from kgc.stages.base import Stage, StageContext, StageOutcome, in_seed_mode
from kgc.stages.seed_phrases import candidate_phrases, phrase_vocabulary, select_seeds, user_seeds
from kgc.stages.seed_updates import seeds_settings, update_seeds
from kgc.text import normalise_name

if TYPE_CHECKING:
    from bertopic import BERTopic

logger = logging.getLogger(__name__)

SeedMethod = Literal["hdbscan", "kmeans", "per-document", "user-only", "empty"]

MIN_DOCS_FOR_CLUSTERING = 5
# Graphusion's UMAP; both are capped by the corpus size in `_umap_shape`.
UMAP_NEIGHBORS = 20
UMAP_COMPONENTS = 50
SCORE_DECIMALS = 4  # scores are cosine similarities; rounding keeps seeds.jsonl stable across machines


class SeedResult(BaseModel):
    seeds: list[Seed]
    topics: list[TopicSummary] = Field(default_factory=list)  # outlier topic -1 not included
    method: SeedMethod
    outliers: int = 0  # documents HDBSCAN put in no topic


def find_seeds(
    texts: list[str],
    cfg: SeedsConfig,
    *,
    embedder: Embedder | None = None,
    embeddings: np.ndarray | None = None,
) -> SeedResult:
    """Seeds for a corpus: topic keyphrases, normalised and de-duplicated, plus `cfg.user_seeds`.

    `embedder` embeds the texts and the candidate keyphrases (default: the default `[embedding]`
    model, loaded only when needed); `embeddings` (one row per text, from that embedder) skips
    embedding the texts when the caller already has them.
    """
    user = user_seeds(cfg.user_seeds)
    if cfg.user_seeds_only:
        logger.info("seeds: user_seeds_only, no topic modeling; %d user seeds", len(user))
        return SeedResult(seeds=user, method="user-only")
    if embeddings is not None and embeddings.shape[0] != len(texts):
        raise KgcError(f"find_seeds got {embeddings.shape[0]} embeddings for {len(texts)} texts")

    keep = [i for i, t in enumerate(texts) if t.strip()]
    docs = [texts[i] for i in keep]
    if not any(candidate_phrases(d, cfg.ngram_range) for d in docs):  # stops at the first usable one
        logger.info("seeds: no text with a candidate phrase to model; %d user seeds", len(user))
        return SeedResult(seeds=user, method="empty")
    embedder = embedder or load_embedder()
    vectors = embeddings[keep] if embeddings is not None else embedder.encode(docs)
    labels, method = cluster_documents(vectors, cfg)
    vocabulary = phrase_vocabulary(docs, cfg.ngram_range, cfg.min_phrase_docs)
    topics = describe_topics(docs, vectors, labels, vocabulary, cfg, embedder)
    seeds = select_seeds(topic_seeds(topics), user, cfg.max_seeds)
    outliers = int(np.sum(labels == -1))
    logger.info(
        "seeds: %d documents, method %s, %d topics, %d outliers, %d seeds (%d from the user)",
        len(docs),
        method,
        len(topics),
        outliers,
        len(seeds),
        len(user),
    )
    return SeedResult(
        seeds=seeds,
        topics=[
            TopicSummary(topic=t.topic, size=t.size, keywords=[k for k, _ in t.keywords]) for t in topics
        ],
        method=method,
        outliers=outliers,
    )


# --- clustering -------------------------------------------------------------------------------


def cluster_documents(vectors: np.ndarray, cfg: SeedsConfig) -> tuple[np.ndarray, SeedMethod]:
    """One topic label per document (-1 for HDBSCAN's outliers) and the method that gave them."""
    n = vectors.shape[0]
    if n < MIN_DOCS_FOR_CLUSTERING:
        logger.info("seeds: %d documents < %d, each document is its own topic", n, MIN_DOCS_FOR_CLUSTERING)
        return np.arange(n), "per-document"
    if n < 2 * cfg.min_topic_size:
        logger.info("seeds: %d documents cannot hold two topics of %d, k-means", n, cfg.min_topic_size)
        return kmeans_labels(vectors, cfg.random_state), "kmeans"
    labels = hdbscan_labels(vectors, cfg.min_topic_size, cfg.random_state)
    found = len(set(labels.tolist()) - {-1})
    if found < 2:
        logger.info("seeds: HDBSCAN found %d topic(s) in %d documents, falling back to k-means", found, n)
        return kmeans_labels(vectors, cfg.random_state), "kmeans"
    return labels, "hdbscan"


def kmeans_k(n_docs: int) -> int:
    """The rule-of-thumb number of clusters sqrt(n/2), at least 2 and at most n."""
    return min(n_docs, max(2, round(math.sqrt(n_docs / 2))))


def kmeans_labels(vectors: np.ndarray, random_state: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    # The vectors are L2-normalised, so Euclidean k-means groups by cosine similarity.
    model = KMeans(n_clusters=kmeans_k(vectors.shape[0]), n_init=10, random_state=random_state)
    return np.asarray(model.fit_predict(vectors))


def umap_shape(n_docs: int) -> tuple[int, int]:
    """(n_neighbors, n_components): Graphusion's 20 and 50, capped so UMAP's spectral layout works."""
    neighbors = max(2, min(UMAP_NEIGHBORS, n_docs - 1))
    components = max(2, min(UMAP_COMPONENTS, n_docs // 4))
    return neighbors, components


def hdbscan_labels(vectors: np.ndarray, min_topic_size: int, random_state: int) -> np.ndarray:
    from hdbscan import HDBSCAN
    from umap import UMAP

    neighbors, components = umap_shape(vectors.shape[0])
    # A fixed random_state also makes UMAP single-threaded: slower, but the same input gives the same seeds.
    reducer = UMAP(
        n_neighbors=neighbors,
        n_components=components,
        min_dist=0.0,
        metric="cosine",
        random_state=random_state,
        n_jobs=1,  # what random_state implies anyway; said explicitly so UMAP does not warn
    )
    reduced = reducer.fit_transform(vectors)
    clusterer = HDBSCAN(min_cluster_size=min_topic_size, metric="euclidean", cluster_selection_method="eom")
    return np.asarray(clusterer.fit_predict(reduced))


# --- keyphrases -------------------------------------------------------------------------------


class _Topic(BaseModel):
    topic: int
    size: int
    keywords: list[tuple[str, float]]  # (phrase, cosine to the topic), best first


def _vocabulary_phrases(text: str, ngram_range: tuple[int, int], vocabulary: frozenset[str]) -> list[str]:
    """The CountVectorizer analyzer: candidate phrases of the vocabulary only."""
    return [p for p in candidate_phrases(text, ngram_range) if p in vocabulary]


def describe_topics(
    docs: list[str],
    vectors: np.ndarray,
    labels: np.ndarray,
    vocabulary: frozenset[str],
    cfg: SeedsConfig,
    embedder: Embedder,
) -> list[_Topic]:
    """BERTopic's keyphrases, from `vocabulary`, for the given clusters (its own reduction and
    clustering are bypassed); `embedder` embeds the candidate phrases."""
    model = _bertopic(cfg, vocabulary, embedder)
    model.fit(docs, embeddings=vectors, y=labels)
    sizes = model.get_topic_freq().set_index("Topic")["Count"].to_dict()
    topics: list[_Topic] = []
    for topic_id, words in sorted(model.get_topics().items()):
        if topic_id == -1:
            continue
        keywords = [(w, round(float(s), SCORE_DECIMALS)) for w, s in words if w]
        topics.append(_Topic(topic=int(topic_id), size=int(sizes.get(topic_id, 0)), keywords=keywords))
    return topics


def _bertopic(cfg: SeedsConfig, vocabulary: frozenset[str], embedder: Embedder) -> BERTopic:
    from bertopic import BERTopic
    from bertopic.backend import BaseEmbedder
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from sklearn.feature_extraction.text import CountVectorizer

    class KgcEmbedder(BaseEmbedder):
        """kgc's embedder (either backend) as BERTopic calls it: unit vectors, so cosines are unchanged."""

        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            return embedder.encode(list(documents))

    analyzer = partial(_vocabulary_phrases, ngram_range=cfg.ngram_range, vocabulary=vocabulary)
    return BERTopic(
        # KeyBERTInspired embeds candidate phrases and representative documents with this model.
        embedding_model=KgcEmbedder(),
        umap_model=BaseDimensionalityReduction(),  # pass-through: clustering is done before
        hdbscan_model=BaseCluster(),  # takes the labels given as `y`
        vectorizer_model=CountVectorizer(analyzer=analyzer),
        representation_model=_keybert_inspired(cfg.keywords_per_topic, cfg.random_state),
        top_n_words=cfg.keywords_per_topic,
        nr_topics=cfg.nr_topics,
        min_topic_size=cfg.min_topic_size,
        calculate_probabilities=False,
    )


def _keybert_inspired(top_n_words: int, random_state: int) -> Any:
    """BERTopic's KeyBERTInspired, with topic embeddings taken from the right documents.

    BERTopic 0.17 (since MaartenGr/BERTopic#2368) averages the precomputed embeddings at the positions
    of the representative documents in its flat list of them, not at their document ids, so every
    topic but the first is described against the embeddings of unrelated documents. This subclass
    averages `embeddings[ids]` per topic, and embeds the candidate phrases in sorted order (not set
    order) so the result does not depend on PYTHONHASHSEED.
    """
    from bertopic.representation import KeyBERTInspired
    from sklearn.metrics.pairwise import cosine_similarity

    class KeyBERTInspiredByDocumentIds(KeyBERTInspired):
        def extract_topics(
            self,
            topic_model: BERTopic,
            documents: Any,
            c_tf_idf: Any,
            topics: Mapping[int, list[tuple[str, float]]],
            embeddings: np.ndarray | None = None,
        ) -> Mapping[int, list[tuple[str, float]]]:
            if embeddings is None:
                return super().extract_topics(topic_model, documents, c_tf_idf, topics)
            *_, repr_doc_ids = topic_model._extract_representative_docs(
                c_tf_idf, documents, topics, self.nr_samples, self.nr_repr_docs
            )
            candidates = self._extract_candidate_words(topic_model, c_tf_idf, topics)
            topic_vectors = np.vstack([embeddings[ids].mean(axis=0) for ids in repr_doc_ids])
            vocab = sorted({w for words in candidates.values() for w in words})
            word_vectors = topic_model._extract_embeddings(vocab, method="document", verbose=False)
            return self._extract_top_words(vocab, candidates, cosine_similarity(topic_vectors, word_vectors))

    return KeyBERTInspiredByDocumentIds(top_n_words=top_n_words, random_state=random_state)


# --- seeds ------------------------------------------------------------------------------------


def is_junk(name: str) -> bool:
    """Not a usable seed: 1-2 characters, no letter at all (numbers), or only stop words."""
    if len(name) <= 2 or not any(c.isalpha() for c in name):
        return True
    return all(word in ENGLISH_STOP_WORDS for word in name.split())


def topic_seeds(topics: list[_Topic]) -> list[Seed]:
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
        vectors = chunk_vectors(ctx, fitted, chunks)
        return find_seeds([c.text for c in fitted], cfg.seeds, embedder=ctx.embedder, embeddings=vectors)

    seen = _seen(ctx, settings) if cfg.seeds.keep_on_update else None
    counts: dict[str, int] = {}
    waiting: list[Chunk] = []
    if seen is None:
        result = fit(chunks)
        seeds, topics = result.seeds, result.topics
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
    sections=("seeds", "embedding"),
    inputs=(CHUNKS,),
    outputs=(SEEDS, TOPICS, SEEDS_SEEN),
    run=_run,
    fingerprint=_vocabulary_fingerprint,
    enabled=in_seed_mode,
)
