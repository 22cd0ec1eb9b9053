"""The chunks' embeddings kept by content hash, so an updated corpus embeds only its new text.

`embeddings_by_chunk.npz` in the run directory holds one row per chunk hash (and the model that made
them). A chunk already there is never embedded again, whatever the rest of the corpus became; the
new ones go through `kgc.stages.chunk_embeddings` (batch by batch, resumable) and are added.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kgc.models import Chunk
from kgc.rundir import atomic_write_bytes

STORE_FILE = "embeddings_by_chunk.npz"

Embed = Callable[[list[str]], np.ndarray]  # texts -> one row per text, resumable (see chunk_embeddings)


def embeddings_by_hash(run_path: Path, chunks: list[Chunk], model: str, embed_new: Embed) -> np.ndarray:
    """One row per chunk, in order: the stored rows of known hashes, `embed_new` for the others.
    The store keeps the rows of these chunks only (removed text leaves it)."""
    stored = _load(run_path / STORE_FILE, model)
    new = list({c.hash: c.text for c in chunks if c.hash not in stored}.items())
    if new:
        stored |= dict(zip([h for h, _ in new], embed_new([t for _, t in new]), strict=True))
    rows = np.vstack([stored[c.hash] for c in chunks]) if chunks else np.zeros((0, 0), dtype=np.float32)
    current = {c.hash: stored[c.hash] for c in chunks}
    if new or len(current) != len(stored):
        _save(run_path / STORE_FILE, model, current)
    return rows


def _load(path: Path, model: str) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    try:
        with np.load(path) as data:
            if str(data["model"]) != model:
                return {}
            return dict(zip(data["hashes"].tolist(), data["vectors"], strict=True))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return {}  # a damaged store is rebuilt


def _save(path: Path, model: str, rows: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    vectors = np.vstack(list(rows.values())) if rows else np.zeros((0, 0), dtype=np.float32)
    np.savez(buffer, model=np.array(model), hashes=np.array(list(rows), dtype=str), vectors=vectors)
    atomic_write_bytes(path, buffer.getvalue())
