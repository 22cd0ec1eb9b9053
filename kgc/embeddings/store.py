"""Vectors kept by the content hash of their text, in one SQLite file of the run directory.

`embeddings.sqlite` holds one row per (collection, embedder key, text hash): `chunks` for the seeds
stage, `names` for fusion's name neighbours. Each batch is saved in one transaction, so a run killed
while embedding keeps every batch it finished; a text already stored under the embedder's key is
never embedded again, whatever the rest of the corpus became. `keep_only` drops the rows a finished
pass no longer needs (removed text, another model), so the file follows the corpus.

A damaged file is set aside and started afresh (its vectors are embedded again, with a warning):
it is a cache, never the only copy of anything.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from kgc.artifacts import VECTORS
from kgc.errors import KgcError

log = logging.getLogger(__name__)

STORE_FILE = VECTORS.name
DTYPE = np.float32

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (collection, key, hash)
)
"""
# Rows of 1.5-3 kB (384-768 float32): with 16 kB pages a vector rarely spills onto an overflow page,
# and a rowid table keeps them out of the key's B-tree; 100k MiniLM vectors take 168 MB, not 468.
PAGE_SIZE = 16384


class VectorStore:
    """The vectors of one collection made by one embedder key; use `open` (a context manager)."""

    def __init__(self, connection: sqlite3.Connection, collection: str, key: str) -> None:
        self._db = connection
        self.collection = collection
        self.key = key

    @classmethod
    @contextmanager
    def open(cls, run_path: Path, collection: str, key: str) -> Iterator[VectorStore]:
        """The store of `run_path` (created on first use), closed when the block ends."""
        run_path.mkdir(parents=True, exist_ok=True)
        db = _connect(run_path / STORE_FILE)
        try:
            yield cls(db, collection, key)
        finally:
            db.close()

    def get(self, hashes: Collection[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those of `hashes` this store has (a damaged row counts as missing)."""
        wanted = set(hashes)
        found: dict[str, np.ndarray] = {}
        width: int | None = None
        rows = self._db.execute(
            "SELECT hash, vector FROM vectors WHERE collection = ? AND key = ?", (self.collection, self.key)
        )
        for text_hash, blob in rows:
            if text_hash not in wanted:
                continue
            vector = np.frombuffer(blob, dtype=DTYPE)
            width = width or vector.size
            if vector.size == width:
                found[text_hash] = vector
        return found

    def put(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Save one batch (one row of `vectors` per hash) in one transaction."""
        if len(hashes) != len(vectors):
            raise ValueError(f"{len(hashes)} hashes for {len(vectors)} vectors")
        rows = [
            (self.collection, self.key, h, np.ascontiguousarray(v, dtype=DTYPE).tobytes())
            for h, v in zip(hashes, vectors, strict=True)
        ]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)

    def keep_only(self, hashes: Collection[str]) -> int:
        """Drop this collection's rows of other texts or other keys; how many were dropped."""
        keep = set(hashes)
        stored = self._db.execute(
            "SELECT key, hash FROM vectors WHERE collection = ?", (self.collection,)
        ).fetchall()
        dropped = [(self.collection, k, h) for k, h in stored if k != self.key or h not in keep]
        if dropped:
            with self._db:
                self._db.executemany(
                    "DELETE FROM vectors WHERE collection = ? AND key = ? AND hash = ?", dropped
                )
        return len(dropped)

    def keys(self) -> dict[str, int]:
        """Rows of this collection per embedder key (what a log line can tell the user)."""
        rows = self._db.execute(
            "SELECT key, COUNT(*) FROM vectors WHERE collection = ? GROUP BY key", (self.collection,)
        )
        return {k: int(n) for k, n in rows}


def _connect(path: Path) -> sqlite3.Connection:
    """A connection to a usable store at `path`; a damaged file is moved aside and replaced."""
    try:
        return _open_checked(path)
    except sqlite3.OperationalError as e:  # cannot open or locked: not a question of the file's content
        raise KgcError(f"cannot open the vector store {path}: {e}") from e
    except sqlite3.DatabaseError as e:
        damaged = path.with_name(path.name + ".damaged")
        log.warning("%s is damaged (%s): moved to %s; its vectors are embedded again", path, e, damaged)
        path.replace(damaged)
        path.with_name(path.name + "-journal").unlink(missing_ok=True)
        return _open_checked(path)


def _open_checked(path: Path) -> sqlite3.Connection:
    if not path.exists():  # sqlite would create it 0644 whatever the umask (the journal copies its mode)
        with contextlib.suppress(OSError):  # sqlite says what is wrong with the folder
            path.touch(mode=0o666)
    db = sqlite3.connect(path)
    try:
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # takes effect in a new file only
        db.execute(_SCHEMA)
        db.execute("SELECT COUNT(*) FROM vectors").fetchone()
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db
