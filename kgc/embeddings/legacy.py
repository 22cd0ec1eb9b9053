"""The seeds stage's embedding files of kgc before `embeddings.sqlite`, moved into the store once.

- `embeddings_by_chunk.npz` (the embedder key, chunk hashes, vectors): its rows move into the
  `chunks` collection when they were made by the embedder in use; else they are dropped, and said so.
- `chunk_embeddings.<job>.parts/<first row>.npy`, batches of an embedding job a kill interrupted, and
  `chunk_embeddings.<job>.npy`, a finished job: rows without hashes, of the texts that job embedded
  (the distinct chunk texts the npz lacked, in order, batches of 256). When `<job>` is the hash of
  exactly those texts under this key, the rows move into the store; else they are dropped.
Either way the old files are removed and a log line says what was kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kgc.embeddings.store import STORE_FILE, VectorStore
from kgc.models import content_hash

log = logging.getLogger(__name__)

OLD_STORE = "embeddings_by_chunk.npz"
OLD_JOB = "chunk_embeddings.{job}"
OLD_BATCH_TEXTS = 256


def migrate_chunk_vectors(run_path: Path, store: VectorStore, texts: Sequence[str]) -> None:
    """Move the old embedding files of `run_path` into `store` (of the chunks about to be embedded,
    `texts`), or remove them; a no-op once they are gone."""
    npz = run_path / OLD_STORE
    jobs = sorted(run_path.glob(OLD_JOB.format(job="*")))
    if not npz.exists() and not jobs:
        return
    kept = _migrate_npz(npz, store) if npz.exists() else set()
    # The texts the last job embedded: the distinct chunk texts not in the npz, in chunk order.
    new = list({h: t for h, t in ((content_hash(t), t) for t in texts) if h not in kept}.items())
    job = hashlib.sha256(json.dumps([store.key, [t for _, t in new]]).encode()).hexdigest()[:16]
    for path in jobs:
        if path.name.split(".")[1] == job:
            rows = _job_rows(path, len(new))
            if rows:
                store.put([new[i][0] for i in rows], np.vstack(list(rows.values())))
            log.info("seeds: %d vectors of an earlier embedding job moved into %s", len(rows), STORE_FILE)
        elif not new:  # a finished job: its rows were saved in the npz too
            log.info("seeds: %s repeats vectors of %s: removed", path.name, OLD_STORE)
        else:
            log.info("seeds: %s of an earlier kgc version is not of these chunks: removed", path.name)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def _migrate_npz(npz: Path, store: VectorStore) -> set[str]:
    """The hashes moved from the old store into `store`; the old file is removed."""
    try:
        with np.load(npz) as data:
            key, hashes, vectors = str(data["model"]), data["hashes"].tolist(), data["vectors"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        log.warning("seeds: %s is unreadable (%s): removed, its chunks are embedded again", npz, e)
        npz.unlink()
        return set()
    if key == store.key and len(hashes) == len(vectors):
        store.put(hashes, vectors)
        log.info("seeds: %d chunk vectors moved from %s into %s", len(hashes), npz.name, STORE_FILE)
        moved = set(hashes)
    else:
        log.info(
            "seeds: %s was made by %r, not %r: removed, the chunks are embedded again",
            npz.name,
            key,
            store.key,
        )
        moved = set()
    npz.unlink()
    return moved


def _job_rows(path: Path, total: int) -> dict[int, np.ndarray]:
    """Row index -> vector of an old job: a finished one's file, or the intact batches of its folder."""
    files = {0: path} if path.is_file() else {int(p.stem): p for p in path.glob("*.npy") if p.stem.isdigit()}
    rows: dict[int, np.ndarray] = {}
    for start, file in files.items():
        expected = total - start if path.is_file() else min(OLD_BATCH_TEXTS, total - start)
        try:
            vectors = np.load(file)
        except (OSError, ValueError):
            continue
        if vectors.ndim == 2 and vectors.shape[0] == expected > 0:
            rows.update({start + i: v for i, v in enumerate(vectors)})
    return rows
