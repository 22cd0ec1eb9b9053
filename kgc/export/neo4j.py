"""Write a KnowledgeGraph to Neo4j in batched, idempotent, parallel transactions.

Entities become nodes with one label (default `Entity`) keyed by a uniqueness constraint on `id`;
relations become relationships typed by the relation schema (`Is-a-Prerequisite-of` ->
`IS_A_PREREQUISITE_OF`). What is written, and in which order, is planned and checked before the first
write (`kgc.export.neo4j_plan`): nodes first, then relationships "mixed and batched" so that parallel
writers never lock the same node (no deadlocks, no lock waits).

Into a label that holds no node yet, the export uses CREATE (nothing to look up); otherwise
`MERGE ... SET`, so re-running an export updates in place and never duplicates.

Stale data: each export stamps what it writes with a fresh `kgc_export` id. With `prune=False`
(the default) nodes and relationships that a newer graph no longer has are kept; with
`prune=True` the ones an earlier kgc export wrote (under the same label) and this one did not are
deleted at the end. Nodes and relationships that kgc did not write are never touched.

Resume: a transaction that fails transiently (a lost connection, a lock timeout) is retried by the
driver (`execute_write`). If the export still stops, re-running it is safe (a resumed export always
uses MERGE); with `checkpoint=PATH` it also skips the batches already committed, as long as the
graph, label, batch size, writers and database are the same.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import neo4j
from neo4j import exceptions as neo4j_errors
from pydantic import BaseModel, ValidationError

from kgc.config import Neo4jConfig
from kgc.errors import ExportError
from kgc.export.neo4j_connect import (
    BOLT_SCHEMES,
    DEFAULT_URI,
    DEFAULT_USER,
    Neo4jAuthError,
    Neo4jCredentials,
    Neo4jDatabaseNotFoundError,
    Neo4jTarget,
    Neo4jUnavailableError,
    connect,
    translate_error,
)
from kgc.export.neo4j_plan import (
    Batch,
    ExportPlan,
    constraint_query,
    node_query,
    plan_export,
    quoted_label,
    relationship_query,
)
from kgc.models import KnowledgeGraph
from kgc.rundir import atomic_write_text
from kgc.schema import RelationSchema

_DEFAULTS = Neo4jConfig()  # the defaults are declared once, in kgc.config
DEFAULT_BATCH_SIZE = _DEFAULTS.batch_size
DEFAULT_WRITERS = _DEFAULTS.writers
DEFAULT_LABEL = _DEFAULTS.label

# Connecting lives in kgc.export.neo4j_connect; its names are offered here too, the module users import.
__all__ = [
    "BOLT_SCHEMES",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_LABEL",
    "DEFAULT_URI",
    "DEFAULT_USER",
    "DEFAULT_WRITERS",
    "ExportCheckpoint",
    "ExportProgress",
    "ExportStats",
    "Neo4jAuthError",
    "Neo4jCredentials",
    "Neo4jDatabaseNotFoundError",
    "Neo4jTarget",
    "Neo4jUnavailableError",
    "connect",
    "export_graph",
    "translate_error",
]


class ExportProgress(BaseModel):
    """Passed to the progress callback after each committed batch (from the writer threads, one at a time)."""

    batches_done: int
    batches_total: int
    nodes_written: int
    relationships_written: int


class ExportStats(BaseModel):
    database: str | None
    label: str
    create: bool = False  # the label held no node: written with CREATE instead of MERGE
    writers: int = 1
    nodes_written: int = 0
    relationships_written: int = 0
    batches: int = 0  # batches committed by this call
    batches_skipped: int = 0  # batches a checkpoint showed as committed by an earlier call
    nodes_deleted: int = 0  # by prune
    relationships_deleted: int = 0  # by prune
    seconds: float = 0.0


class ExportCheckpoint(BaseModel):
    fingerprint: str
    export_id: str
    committed: list[int]  # indices of the plan's batches committed so far


# ---------------------------------------------------------------------------------------------
# Export


def export_graph(
    graph: KnowledgeGraph,
    target: Neo4jTarget,
    *,
    schema: RelationSchema,
    label: str = DEFAULT_LABEL,
    batch_size: int = DEFAULT_BATCH_SIZE,
    writers: int = DEFAULT_WRITERS,
    prune: bool = False,
    checkpoint: Path | None = None,
    on_progress: Callable[[ExportProgress], None] | None = None,
) -> ExportStats:
    """Write `graph` to `target` with `writers` parallel sessions and return what was written.

    Each batch is one managed write transaction (retried by the driver on transient errors). A
    connection lost for longer than the retry time raises Neo4jUnavailableError; run the same call
    again to finish (with the same `checkpoint`, committed batches are skipped). The checkpoint file
    is removed when the export completes.
    """
    started = time.perf_counter()
    plan = plan_export(graph, schema, label, batch_size, writers)
    # Hashing the whole graph costs about a second per 100k relations: only done for a checkpoint.
    fingerprint = "" if checkpoint is None else _fingerprint(graph, label, batch_size, writers, prune, target)
    state = _load_checkpoint(checkpoint, fingerprint) or ExportCheckpoint(
        fingerprint=fingerprint, export_id=uuid.uuid4().hex, committed=[]
    )
    stats = ExportStats(
        database=target.database, label=label, writers=writers, batches_skipped=len(state.committed)
    )
    tracker = _Tracker(len(plan.batches), state, stats, checkpoint, on_progress)
    action = f"exporting to Neo4j database {target.database or '(default)'}"
    try:
        with target.driver.session(database=target.database) as session:
            session.execute_write(_run_schema, constraint_query(label))
            # A resumed export may have committed batches whose outcome it never heard of: MERGE then.
            stats.create = not state.committed and session.execute_read(_label_is_empty, label)
        _write_rounds(target, plan, stats.create, tracker, writers)
        if prune:
            with target.driver.session(database=target.database) as session:
                stats.relationships_deleted, stats.nodes_deleted = _prune(
                    session, label, state.export_id, batch_size
                )
    except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as e:
        done = f"{len(state.committed)} of {len(plan.batches)} batches committed"
        raise translate_error(e, f"{action} ({done}; run it again to finish)", target.database) from e
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
    stats.seconds = round(time.perf_counter() - started, 3)
    return stats


def _label_is_empty(tx: neo4j.ManagedTransaction, label: str) -> bool:
    return tx.run(f"MATCH (n:{quoted_label(label)}) RETURN n LIMIT 1").single() is None


def _run_schema(tx: neo4j.ManagedTransaction, query: str) -> None:
    tx.run(query).consume()


class _Tracker:
    """What the writer threads share: counts, the checkpoint and the progress callback, under one lock."""

    def __init__(
        self,
        total: int,
        state: ExportCheckpoint,
        stats: ExportStats,
        checkpoint: Path | None,
        on_progress: Callable[[ExportProgress], None] | None,
    ) -> None:
        self.total = total
        self.state = state
        self.stats = stats
        self.checkpoint = checkpoint
        self.on_progress = on_progress
        self.lock = threading.Lock()
        self.stop = threading.Event()  # set when a writer failed: the others start no new batch

    def committed(self, batch: Batch, written: int) -> None:
        with self.lock:
            _count(self.stats, batch, written)
            self.state.committed.append(batch.index)
            if self.checkpoint is not None:
                _save_checkpoint(self.checkpoint, self.state)
            if self.on_progress is not None:
                self.on_progress(
                    ExportProgress(
                        batches_done=len(self.state.committed),
                        batches_total=self.total,
                        nodes_written=self.stats.nodes_written,
                        relationships_written=self.stats.relationships_written,
                    )
                )


def _write_rounds(
    target: Neo4jTarget, plan: ExportPlan, create: bool, tracker: _Tracker, writers: int
) -> None:
    """Each round's lanes in parallel, the rounds in order; the first error stops the export."""
    queries = _queries(plan, create)
    done = set(tracker.state.committed)
    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="kgc-neo4j") as pool:
        for lanes in plan.rounds:
            futures: list[Future[None]] = []
            for lane in lanes:
                todo = [batch for batch in lane if batch.index not in done]
                if todo:
                    futures.append(pool.submit(_write_lane, target, todo, queries, tracker))
            wait(futures)
            for future in futures:
                future.result()  # re-raises the first failure, in plan order


def _queries(plan: ExportPlan, create: bool) -> dict[tuple[str, str], str]:
    """The query text of each (kind, label or relationship type) the plan writes."""
    queries: dict[tuple[str, str], str] = {}
    for batch in plan.batches:
        for key in batch.groups:
            if (batch.kind, key) not in queries:
                build = node_query(key, create) if batch.kind == "nodes" else None
                queries[(batch.kind, key)] = build or relationship_query(plan.label, key, create)
    return queries


def _write_lane(
    target: Neo4jTarget, lane: list[Batch], queries: dict[tuple[str, str], str], tracker: _Tracker
) -> None:
    with target.driver.session(database=target.database) as session:
        for batch in lane:
            if tracker.stop.is_set():
                return
            try:
                written = session.execute_write(_write_batch, batch, queries, tracker.state.export_id)
                tracker.committed(batch, written)
            except BaseException:
                tracker.stop.set()
                raise


def _write_batch(
    tx: neo4j.ManagedTransaction, batch: Batch, queries: dict[tuple[str, str], str], export_id: str
) -> int:
    written = 0
    for key, rows in batch.groups.items():
        record = tx.run(queries[(batch.kind, key)], rows=rows, export_id=export_id).single(strict=True)
        written += int(record["written"])
    return written


def _count(stats: ExportStats, batch: Batch, written: int) -> None:
    if written != batch.size:
        # MATCH found fewer endpoints than the plan checked: nodes were deleted meanwhile.
        raise ExportError(
            f"a batch of {batch.size} {batch.kind} wrote {written}: "
            "the database changed during the export; run it again"
        )
    stats.batches += 1
    if batch.kind == "nodes":
        stats.nodes_written += written
    else:
        stats.relationships_written += written


def _prune(session: neo4j.Session, label: str, export_id: str, batch_size: int) -> tuple[int, int]:
    """Delete what earlier kgc exports wrote under `label` and this one did not, in bounded batches."""
    node = quoted_label(label)
    stale_relationships = (
        f"MATCH (:{node})-[r]->(:{node}) WHERE r.kgc_export <> $export_id "
        "WITH r LIMIT $limit DELETE r RETURN count(*) AS deleted"
    )
    stale_nodes = (
        f"MATCH (n:{node}) WHERE n.kgc_export <> $export_id "
        "WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS deleted"
    )
    return (
        _delete_all(session, stale_relationships, export_id, batch_size),
        _delete_all(session, stale_nodes, export_id, batch_size),
    )


def _delete_all(session: neo4j.Session, query: str, export_id: str, batch_size: int) -> int:
    total = 0
    while True:
        deleted = session.execute_write(_delete_some, query, export_id, batch_size)
        total += deleted
        if deleted < batch_size:
            return total


def _delete_some(tx: neo4j.ManagedTransaction, query: str, export_id: str, limit: int) -> int:
    return int(tx.run(query, export_id=export_id, limit=limit).single(strict=True)["deleted"])


def _fingerprint(
    graph: KnowledgeGraph, label: str, batch_size: int, writers: int, prune: bool, target: Neo4jTarget
) -> str:
    """Identifies one export job: a checkpoint is only trusted for exactly the same job."""
    h = hashlib.sha256()
    h.update(json.dumps([label, batch_size, writers, prune, target.database, target.database_id]).encode())
    h.update(graph.model_dump_json(include={"entities", "relations"}).encode())
    return h.hexdigest()[:32]


def _save_checkpoint(path: Path, state: ExportCheckpoint) -> None:
    try:
        atomic_write_text(path, state.model_dump_json())
    except OSError as e:
        raise ExportError(f"cannot write the export checkpoint {path}: {e}") from e


def _load_checkpoint(path: Path | None, fingerprint: str) -> ExportCheckpoint | None:
    """The checkpoint at `path` if it belongs to this export job; anything else starts afresh."""
    if path is None or not path.is_file():
        return None
    try:
        state = ExportCheckpoint.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None
    return state if state.fingerprint == fingerprint else None
