"""The seeds stage's topic model: documents clustered on their embeddings, each cluster described by
keyphrases (BERTopic's c-TF-IDF candidates re-ranked by KeyBERTInspired), and any other document
assigned to the topic whose keyphrases it shares most.

Clustering is chosen by the number of documents fitted:
- `hdbscan`: UMAP + HDBSCAN, Graphusion's setting, scaled down to the corpus;
- `kmeans`: k-means with k ~ sqrt(n/2), when there are too few documents for HDBSCAN to find two topics
  of `min_topic_size`, or when HDBSCAN found fewer than two;
- `per-document`: below `MIN_DOCS_FOR_CLUSTERING` documents, each document is its own topic.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from kgc.config import SeedsConfig
from kgc.embeddings import Embedder
from kgc.stages.seed_phrases import candidate_phrases

if TYPE_CHECKING:
    from bertopic import BERTopic

logger = logging.getLogger(__name__)

SeedMethod = Literal["hdbscan", "kmeans", "per-document", "user-only", "empty"]

MIN_DOCS_FOR_CLUSTERING = 5
# Graphusion's UMAP; both are capped by the corpus size in `umap_shape`.
UMAP_NEIGHBORS = 20
UMAP_COMPONENTS = 50
SCORE_DECIMALS = 4  # scores are cosine similarities; rounding keeps seeds.jsonl stable across machines
ASSIGN_BATCH = 10_000  # documents assigned at once: bounds the (documents x topics) similarity matrix


@dataclass
class Topic:
    topic: int
    size: int  # documents fitted in it
    keywords: list[tuple[str, float]]  # (phrase, cosine to the topic), best first


@dataclass
class TopicModel:
    """A fitted topic model: its topics, the label of each fitted document (-1: an outlier) and the
    BERTopic model that assigns other documents."""

    topics: list[Topic]
    labels: np.ndarray
    method: SeedMethod
    model: BERTopic

    def assign(self, docs: list[str]) -> np.ndarray:
        """The topic of each document whose keyphrases are closest (cosine of c-TF-IDF vectors) to a
        topic's, -1 when it shares none with any: the c-TF-IDF strategy of BERTopic's
        `reduce_outliers`. It needs no embedding, so a corpus of any size is assigned in seconds per
        10,000 documents."""
        from sklearn.metrics.pairwise import cosine_similarity

        topic_ids = np.array(sorted(self.model.get_topics()))  # the rows of c_tf_idf_, -1 first if any
        rows = topic_ids != -1
        labels = []
        for start in range(0, len(docs), ASSIGN_BATCH):
            bags = self.model.vectorizer_model.transform(docs[start : start + ASSIGN_BATCH])
            similarity = cosine_similarity(
                self.model.ctfidf_model.transform(bags), self.model.c_tf_idf_[rows]
            )
            best = np.argmax(similarity, axis=1)
            found = similarity[np.arange(len(best)), best] > 0
            labels.append(np.where(found, topic_ids[rows][best], -1))
        return np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)


def fit_topics(
    docs: list[str], vectors: np.ndarray, vocabulary: frozenset[str], cfg: SeedsConfig, embedder: Embedder
) -> TopicModel:
    """Cluster the documents, then describe each cluster by its keyphrases from `vocabulary`."""
    labels, method = cluster_documents(vectors, cfg)
    model = _bertopic(cfg, vocabulary, embedder)
    model.fit(docs, embeddings=vectors, y=labels)
    sizes = model.get_topic_freq().set_index("Topic")["Count"].to_dict()
    topics: list[Topic] = []
    for topic_id, words in sorted(model.get_topics().items()):
        if topic_id == -1:
            continue
        keywords = [(w, round(float(s), SCORE_DECIMALS)) for w, s in words if w]
        topics.append(Topic(topic=int(topic_id), size=int(sizes.get(topic_id, 0)), keywords=keywords))
    # BERTopic's own labels: renumbered by size, and merged when `nr_topics` reduces them.
    return TopicModel(topics, np.asarray(model.topics_, dtype=np.int64), method, model)


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


def _vocabulary_phrases(text: str, ngram_range: tuple[int, int], vocabulary: frozenset[str]) -> list[str]:
    """The CountVectorizer analyzer: candidate phrases of the vocabulary only."""
    return [p for p in candidate_phrases(text, ngram_range) if p in vocabulary]


def _bertopic(cfg: SeedsConfig, vocabulary: frozenset[str], embedder: Embedder) -> BERTopic:
    """BERTopic describing clusters found before: its own reduction and clustering are bypassed."""
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
