"""What an update changed in a run's corpus: documents added, changed and removed, and the change log.

Documents are compared by id and content hash. Every update that changes something appends one line
to `changes.jsonl` in the run directory, so the history of a graph's corpus can be read back.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime

from kgc.artifacts import CHANGES
from kgc.models import CorpusChange, Document
from kgc.rundir import RunDir

__all__ = ["CorpusChange", "describe_change", "diff_documents", "log_change", "read_changes"]


def documents_hash(documents: list[Document]) -> str:
    h = hashlib.sha256()
    for d in documents:
        h.update(f"{d.id}\0{d.hash}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def diff_documents(before: list[Document], after: list[Document], *, how: str = "build") -> CorpusChange:
    """The documents of `after` that are new or whose text changed, and the ids `after` no longer has.
    Ids keep the order of the corpus (removed ones the order they had)."""
    old = {d.id: d.hash for d in before}
    new_ids = {d.id for d in after}
    return CorpusChange(
        time=datetime.now(UTC).isoformat(timespec="seconds"),
        how=how,
        added=[d.id for d in after if d.id not in old],
        changed=[d.id for d in after if d.id in old and old[d.id] != d.hash],
        removed=[d.id for d in before if d.id not in new_ids],
        corpus_hash=documents_hash(after),
    )


def read_changes(run: RunDir) -> list[CorpusChange]:
    return run.read_optional(CHANGES) or []


def log_change(run: RunDir, change: CorpusChange) -> None:
    """Append `change` to changes.jsonl, unless it is empty or the last line already logged it
    (a run killed after logging and before writing the documents repeats the same update)."""
    if change.empty:
        return
    logged = read_changes(run)
    if logged and logged[-1].corpus_hash == change.corpus_hash:
        return
    with (run / CHANGES).open("a", encoding="utf-8") as f:
        f.write(change.model_dump_json() + "\n")
        f.flush()
        os.fsync(f.fileno())


def describe_change(counts: dict[str, int]) -> str:
    """{'added': 12, 'changed': 3, 'removed': 5} -> '+12 documents, ~3 changed, -5 removed'."""
    return (
        f"+{counts.get('added', 0):,} documents, ~{counts.get('changed', 0):,} changed, "
        f"-{counts.get('removed', 0):,} removed"
    )
