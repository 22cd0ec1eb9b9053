"""The chunks' embeddings for the seeds stage, saved batch by batch so that a killed run resumes them.

Embedding is the long step of the seeds stage (11 min 45 s for a corpus of 8,198 chunks on 2 cores
with MiniLM). The vectors are kept in the run directory under a key of the model and the texts:
- `chunk_embeddings.<key>.npy` once complete, so a changed seeds setting re-uses them;
- `chunk_embeddings.<key>.parts/<first row>.npy` while under way: one file per batch, each written
  atomically, so a rerun loads the batches already done and embeds only the rest.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kgc.rundir import atomic_write_bytes

log = logging.getLogger(__name__)

Embed = Callable[[list[str]], np.ndarray]  # texts -> one L2-normalised row per text

BATCH_TEXTS = 256  # about 20 s of MiniLM on 2 cores: little lost to a kill, few files
LOG_FROM_TEXTS = 200  # fewer texts than this take seconds: no progress lines
LOG_EVERY_SECONDS = 30.0


def embedding_key(model: str, texts: list[str]) -> str:
    return hashlib.sha256(json.dumps([model, texts]).encode()).hexdigest()[:16]


def chunk_embeddings(
    run_path: Path, texts: list[str], model: str, embed: Embed, batch_texts: int = BATCH_TEXTS
) -> np.ndarray:
    """One row per text: loaded when complete, else embedded batch by batch from where a killed run
    stopped. Embeddings of other keys (older texts or model) are removed once these are complete."""
    key = embedding_key(model, texts)
    complete = run_path / f"chunk_embeddings.{key}.npy"
    if complete.is_file():
        log.info("seeds: re-using the chunk embeddings in %s", complete)
        return np.load(complete)
    parts = run_path / f"chunk_embeddings.{key}.parts"
    starts = list(range(0, len(texts), batch_texts))
    saved = _saved_batches(parts, starts, len(texts), batch_texts)
    batches = [saved.get(start) for start in starts]
    _embed_missing(texts, model, embed, batch_texts, starts, batches, parts)
    vectors = np.vstack([b for b in batches if b is not None]) if starts else embed([])
    _save(complete, vectors)
    shutil.rmtree(parts, ignore_errors=True)
    for stale in run_path.glob("chunk_embeddings.*"):
        if stale.name.split(".")[1] == key:
            continue
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    return vectors


def _embed_missing(
    texts: list[str],
    model: str,
    embed: Embed,
    batch_texts: int,
    starts: list[int],
    batches: list[np.ndarray | None],
    parts: Path,
) -> None:
    """Embed and save, in order, the batches still None; log the count, then the pace and an ETA."""
    missing = [i for i, batch in enumerate(batches) if batch is None]
    todo = sum(len(texts[starts[i] : starts[i] + batch_texts]) for i in missing)
    resumed = len(texts) - todo
    verbose = todo >= LOG_FROM_TEXTS
    if verbose or resumed:
        log.info(
            "seeds: embedding %s chunks with %s in batches of %d%s; each batch is saved, so a killed "
            "run resumes from the last one",
            f"{todo:,}",
            model,
            batch_texts,
            f" ({resumed:,} already embedded by an earlier run)" if resumed else "",
        )
    started = time.monotonic()
    logged_at: float | None = None
    done = 0
    for i in missing:
        batch_texts_i = texts[starts[i] : starts[i] + batch_texts]
        vectors = embed(batch_texts_i)
        _save(parts / f"{starts[i]:09d}.npy", vectors)
        batches[i] = vectors
        done += len(batch_texts_i)
        now = time.monotonic()
        if verbose and done < todo and (logged_at is None or now - logged_at >= LOG_EVERY_SECONDS):
            logged_at = now
            per_text = (now - started) / done
            log.info(
                "seeds: %s of %s chunks embedded, about %s left",
                f"{done:,}",
                f"{todo:,}",
                _duration((todo - done) * per_text),
            )


def _saved_batches(parts: Path, starts: list[int], total: int, batch_texts: int) -> dict[int, np.ndarray]:
    """The batches an earlier run saved, by first row; a file of the wrong shape is ignored (redone)."""
    saved: dict[int, np.ndarray] = {}
    for start in starts:
        path = parts / f"{start:09d}.npy"
        if not path.is_file():
            continue
        try:
            vectors = np.load(path)
        except (OSError, ValueError):
            continue
        if vectors.ndim == 2 and vectors.shape[0] == min(batch_texts, total - start):
            saved[start] = vectors
    return saved


def _save(path: Path, vectors: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, vectors)
    atomic_write_bytes(path, buffer.getvalue())


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
