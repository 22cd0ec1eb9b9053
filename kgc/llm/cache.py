"""The on-disk answer cache: a rerun (or a resume after a stop) costs zero requests.

One sqlite3 file in WAL mode, so several processes may share it and readers never block the writer.
Only answers that validated are stored, keyed by a hash of everything that determines the answer.

The cache holds every answer paid for, so its errors never advise deleting it unless sqlite's
integrity check fails: a full disk or a locked folder is said as such.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from kgc.errors import DISK_FULL_HINT, DiskFullError, KgcError, LLMError, is_disk_full

LOW_SPACE_BYTES = 1 << 20  # with less free space than this a cache that cannot be opened is put down to it


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
            # sqlite would create the file 0644 whatever the umask: a team sharing the run could not resume.
            if not path.exists():
                with contextlib.suppress(OSError):  # sqlite says what is wrong with the folder
                    path.touch(mode=0o666)
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
            raise cache_error(path, e, "opened") from e

    def get(self, key: str) -> str | None:
        with self._lock:
            try:
                row = self._db.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone()
            except sqlite3.DatabaseError as e:
                raise cache_error(self.path, e, "read") from e
        return None if row is None else str(row[0])

    def put(self, key: str, stage: str, answer: str) -> None:
        with self._lock:
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO answers (key, stage, answer, created) VALUES (?, ?, ?, ?)",
                    (key, stage, answer, time.time()),
                )
                self._db.commit()
            except sqlite3.DatabaseError as e:
                raise cache_error(self.path, e, "written") from e

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


def cache_error(path: Path, error: sqlite3.DatabaseError, failed: str) -> KgcError:
    """What to tell when the cache at `path` could not be `failed` ("opened", "read", "written"): a
    full disk, a damaged file (sqlite's integrity check fails) or another cause, never deleting an
    intact cache."""
    answers, problem = check_file(path)
    if problem:
        return LLMError(
            f"the LLM cache {path} cannot be {failed} ({error}): the file is damaged ({problem}). Delete "
            "it and its -wal and -shm files to start afresh (its answers will be asked again)"
        )
    free = shutil.disk_usage(path.parent).free
    kept = "its integrity could not be checked" if answers is None else f"it is intact ({answers} answers)"
    if is_disk_full(error) or free < LOW_SPACE_BYTES:
        return DiskFullError(
            f"the disk is full: the LLM cache {path} cannot be {failed} ({error}; {free // 1024:,} KB free). "
            f"Do not delete the cache, {kept}. " + DISK_FULL_HINT
        )
    return LLMError(
        f"the LLM cache {path} cannot be {failed} ({error}). Do not delete it, {kept}: check that its "
        "folder is writable and that no other program holds the file"
    )


def check_file(path: Path) -> tuple[int | None, str]:
    """(answers, problem) of a cache file by sqlite's quick_check: (n, "") when intact, (None, why)
    when damaged, (None, "") when it cannot be read at all to tell."""
    if not path.is_file() or path.stat().st_size == 0:
        return 0, ""
    # Read-only first; `immutable` reads even when the -shm file cannot be made (a full disk).
    for options in ("mode=ro", "immutable=1"):
        try:
            with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?{options}", uri=True)) as db:
                verdict = db.execute("PRAGMA quick_check").fetchone()[0]
                if verdict != "ok":
                    return None, f"integrity check: {verdict}"
                if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'answers'").fetchone() is None:
                    return 0, ""
                return int(db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]), ""
        except sqlite3.DatabaseError as e:
            if getattr(e, "sqlite_errorcode", 0) & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
                return None, str(e)
    return None, ""
