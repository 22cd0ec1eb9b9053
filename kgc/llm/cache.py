"""The on-disk answer cache: a rerun (or a resume after a stop) costs zero requests.

One sqlite3 file in WAL mode, so several processes may share it and readers never block the writer.
Only answers that validated are stored, keyed by a hash of everything that determines the answer.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from kgc.errors import LLMError


def request_key(
    identity: str, messages: list[dict[str, str]], schema: dict[str, Any], temperature: float, max_tokens: int
) -> str:
    """sha256 of the request: backend identity, messages, JSON Schema, sampling settings."""
    payload = json.dumps(
        {
            "identity": identity,
            "messages": messages,
            "schema": schema,
            "temperature": temperature,
            "max_tokens": max_tokens,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class AnswerCache:
    """A thread-safe key -> answer store. Use as a context manager or call `close()`."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            # One connection shared under a lock: sqlite serialises writes anyway.
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS answers ("
                " key TEXT PRIMARY KEY, stage TEXT NOT NULL, answer TEXT NOT NULL, created REAL NOT NULL)"
            )
            self._db.commit()
        except sqlite3.DatabaseError as e:
            raise LLMError(f"cannot open the LLM cache {path}: {e}; delete the file to start afresh") from e

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, stage: str, answer: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO answers (key, stage, answer, created) VALUES (?, ?, ?, ?)",
                (key, stage, answer, time.time()),
            )
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> AnswerCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
