"""An embedder in front of a vector store: each distinct text is embedded once, batch by batch.

`StoredEmbedder.encode(texts)` looks the texts up by content hash, embeds only the missing ones in
batches of `batch_texts` (saving each batch as soon as it is done, so a killed run resumes from the
last one) and returns one row per text. Locally the batches are encoded one after the other; a
`RayEmbedder` (kgc.embeddings.ray_pool) spreads them over its Ray workers and yields each batch's
vectors in order, while the store stays here, with the caller (the driver).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence

import numpy as np

from kgc.embeddings.base import BATCH_TEXTS, Embedder
from kgc.embeddings.ray_pool import RayEmbedder
from kgc.embeddings.store import VectorStore
from kgc.models import content_hash

log = logging.getLogger(__name__)

LOG_FROM_TEXTS = 200  # fewer texts than this take seconds: no progress lines
LOG_EVERY_SECONDS = 30.0


def encode_batches(embedder: Embedder, batches: list[list[str]]) -> Iterator[np.ndarray]:
    """The vectors of each batch, in the batches' order: on Ray all at once over its workers."""
    if isinstance(embedder, RayEmbedder):
        yield from embedder.map_batches(batches)
        return
    for batch in batches:
        yield embedder.encode(batch)


class StoredEmbedder:
    """An `Embedder` whose vectors go through `store`; `seen` collects the hashes it returned."""

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        *,
        label: str,
        noun: str = "texts",
        batch_texts: int = BATCH_TEXTS,
    ) -> None:
        """`label` and `noun` name the work in log lines: "seeds: embedding 1,000 chunks with minilm ..."."""
        if store.key != embedder.key:
            raise ValueError(f"a store of {store.key!r} for an embedder of {embedder.key!r}")
        self.embedder = embedder
        self.store = store
        self.label = label
        self.noun = noun
        self.batch_texts = batch_texts
        self.seen: set[str] = set()

    @property
    def key(self) -> str:
        return self.embedder.key

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        hashes = [content_hash(t) for t in texts]
        vectors = self.store.get(hashes)
        todo = {h: t for h, t in zip(hashes, texts, strict=True) if h not in vectors}
        if todo:
            self._embed_missing(list(todo.items()), stored=len(set(hashes)) - len(todo), into=vectors)
        self.seen.update(hashes)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([vectors[h] for h in hashes])

    def _embed_missing(self, todo: list[tuple[str, str]], stored: int, into: dict[str, np.ndarray]) -> None:
        """Embed and save `todo` (hash, text) batch by batch; log the count, then the pace and an ETA."""
        batches = [todo[i : i + self.batch_texts] for i in range(0, len(todo), self.batch_texts)]
        verbose = len(todo) >= LOG_FROM_TEXTS
        if verbose or stored:
            log.info(
                "%s: embedding %s %s with %s in batches of %d%s; each batch is saved, so a killed run "
                "resumes from the last one",
                self.label,
                f"{len(todo):,}",
                self.noun,
                self.key,
                self.batch_texts,
                f" ({stored:,} already embedded)" if stored else "",
            )
        started = time.monotonic()
        logged_at: float | None = None
        done = 0
        texts = [[t for _, t in batch] for batch in batches]
        for batch, encoded in zip(batches, encode_batches(self.embedder, texts), strict=True):
            vectors = np.asarray(encoded, dtype=np.float32)  # the dtype the store keeps
            batch_hashes = [h for h, _ in batch]
            self.store.put(batch_hashes, vectors)
            into.update(zip(batch_hashes, vectors, strict=True))
            done += len(batch)
            now = time.monotonic()
            if verbose and done < len(todo) and (logged_at is None or now - logged_at >= LOG_EVERY_SECONDS):
                logged_at = now
                left = (len(todo) - done) * (now - started) / done
                log.info(
                    "%s: %s of %s %s embedded, about %s left",
                    self.label,
                    f"{done:,}",
                    f"{len(todo):,}",
                    self.noun,
                    _duration(left),
                )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
