"""One writer per run directory.

Two builds writing one run directory would pay every prompt twice and mix two corpora's artifacts.
The writer holds an OS file lock (filelock: `flock`, released by the kernel when the process dies,
so a killed run never leaves a stale lock) on `.kgc.lock` and notes who it is in `.kgc.lock.json`;
a second writer refuses with that note, or waits for the lock with `--wait`.
Readers (summary, view, report, eval, explain) take no lock: every artifact is replaced atomically.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
import sys
import time
from datetime import UTC, datetime
from typing import Any

from filelock import FileLock, Timeout

from kgc.artifacts import LOCK, LOCK_HOLDER
from kgc.errors import RunDirError
from kgc.rundir import RunDir

log = logging.getLogger(__name__)


class RunLock:
    """The write lock of one run directory; re-entrant, so nested holders (a pipeline inside a
    command that already holds it) just count."""

    def __init__(self, run: RunDir, *, wait: bool = False):
        self.run = run
        self.wait = wait
        self._lock = FileLock(run / LOCK, thread_local=False)
        self.waited = ""  # after a wait: how long and whom for ("3.2 s for pid 12 on host (kgc build ...)")

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def acquire(self) -> None:
        if self._lock.is_locked:
            self._lock.acquire()
            return
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            holder = self.holder()
            if not self.wait:
                raise RunDirError(
                    f"{self.run.path} is in use by {holder}: wait for it to finish, or pass --wait "
                    "to start when it does"
                ) from None
            log.info("waiting for %s, in use by %s", self.run.path, holder)
            started = time.monotonic()
            self._lock.acquire()
            self.waited = f"{time.monotonic() - started:,.1f} s for {holder}"
        self.run.write(LOCK_HOLDER, _me())

    def release(self) -> None:
        if self._lock.lock_counter == 1:
            (self.run / LOCK_HOLDER).unlink(missing_ok=True)
        self._lock.release()

    def holder(self) -> str:
        """Who holds the lock, as its note says."""
        try:
            note = self.run.read_optional(LOCK_HOLDER)
        except RunDirError:
            note = None
        if not note:
            return "another process"
        return (
            f"pid {note.get('pid')} on {note.get('host')} ({note.get('command')}) since {note.get('since')}"
        )

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _me() -> dict[str, Any]:
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    if program == "__main__.py":  # python -m kgc.cli
        program = "kgc"
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": shlex.join([program, *sys.argv[1:]]),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
