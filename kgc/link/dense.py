"""The dense band: candidates re-ranked by the cosine of name (+ context) and label (+ definition).

The vectors go through a `VectorStore` keyed by the text's content hash and the embedder's key, so a
vocabulary's labels are embedded once: the link stage keeps them in the run's `embeddings.sqlite`,
`kgc link --dense` in `$KGC_HOME/link/embeddings.sqlite` (shared by every vocabulary: an edited
vocabulary re-embeds only the labels and definitions it changed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from kgc.embeddings.base import Embed, Embedder
from kgc.embeddings.store import VectorStore
from kgc.embeddings.stored import StoredEmbedder
from kgc.link.bands import Candidate, NameQuery
from kgc.link.index import VocabIndex

COLLECTION = "link"  # the store's collection: labels (+ definitions) and names (+ context)


@contextmanager
def stored_embed(embedder: Embedder, folder: Path) -> Iterator[Embed]:
    """`embedder.encode` in front of the vector store of `folder` (open while the block runs)."""
    with VectorStore.open(folder, COLLECTION, embedder.key) as store:
        yield StoredEmbedder(embedder, store, label="link", noun="labels and names").encode


def concept_text(index: VocabIndex, concept: int) -> str:
    c = index.vocab.concepts[concept]
    return f"{c.label}: {c.definition[:200]}" if c.definition else c.label


def rerank(queries: list[NameQuery], cands: list[list[Candidate]], index: VocabIndex, embed: Embed) -> None:
    """Cosine of name (+ context) and label (+ definition) as a feature; candidates re-ranked by it
    within their band."""
    concepts = sorted({c.concept for cs in cands for c in cs})
    if not concepts:
        return
    texts = [concept_text(index, i) for i in concepts]
    cvec = dict(zip(concepts, np.asarray(embed(texts), dtype=np.float32), strict=True))
    qvec = np.asarray(embed([f"{q.name}: {q.context[:200]}" if q.context else q.name for q in queries]))
    for qv, cs in zip(qvec, cands, strict=True):
        for c in cs:
            c.features["dense"] = round(float(cvec[c.concept] @ qv), 4)
            if "dense" not in c.bands:
                c.bands.append("dense")
        cs.sort(key=lambda c: (c.tier, -(c.score + c.features["dense"]) / 2, c.concept))
