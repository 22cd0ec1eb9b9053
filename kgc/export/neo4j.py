"""Write a KnowledgeGraph to Neo4j in batched, idempotent transactions, and read it back.

Entities become nodes with one label (default `Entity`) keyed by a uniqueness constraint on `id`;
relations become relationships typed by the relation schema (`Is-a-Prerequisite-of` ->
`IS_A_PREREQUISITE_OF`). Every write is `UNWIND $rows ... MERGE ... SET`, so re-running an export
updates in place and never duplicates. Labels and relationship types cannot be query parameters:
they are checked against a strict pattern (and relationship types against the schema) before any
query text is built, and an unsafe name raises SchemaError without anything being sent.

Stale data: each export stamps what it writes with a fresh `kgc_export` id. With `prune=False`
(the default) nodes and relationships that a newer graph no longer has are kept; with
`prune=True` the ones an earlier kgc export wrote (under the same label) and this one did not are
deleted at the end. Nodes and relationships that kgc did not write are never touched.

Resume: a transaction that fails transiently is retried by the driver (`execute_write`). If the
export still stops, re-running it is safe (MERGE); with `checkpoint=PATH` it also skips the
batches already committed, as long as the graph, label, batch size and database are the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import neo4j
from neo4j import exceptions as neo4j_errors
from pydantic import BaseModel, SecretStr, ValidationError

from kgc.errors import ConfigError, ExportError, SchemaError
from kgc.models import Entity, KnowledgeGraph, Relation
from kgc.rundir import atomic_write_text
from kgc.schema import SAFE_NAME, RelationSchema

# In bench/bench_neo4j.py (bench/results/neo4j_export.md) batches of 2,000 to 10,000 rows cost the
# server the same CPU and 1,000 was slower; 5,000 keeps each transaction's state to a few MB of heap.
DEFAULT_BATCH_SIZE = 5000
DEFAULT_LABEL = "Entity"
DEFAULT_URI = "neo4j://localhost:7687"
DEFAULT_USER = "neo4j"
# Bolt only: the driver's HTTP transport (http://) is a preview feature that needs extra packages.
BOLT_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")

# What `RelationType.cypher_type` must look like. Checked again here (with fullmatch, so no trailing
# newline slips through) because the query text is built from it.
_CYPHER_TYPE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"
_PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]*")
# The uniqueness constraint's range index refuses a key over about 8 KiB (8,167 bytes less overhead)
# and the write fails, batch after batch, on every rerun. Half that is far above any kgc id (slugs of
# names of at most extraction.max_name_chars characters) and safely below the limit.
MAX_ID_BYTES = 4096
# IncompleteCommit: the connection died during COMMIT. Re-running is safe either way (MERGE).
_CONNECTION_LOST = (
    neo4j_errors.ServiceUnavailable,
    neo4j_errors.SessionExpired,
    neo4j_errors.IncompleteCommit,
)


def _property_names(model: type[BaseModel], key: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(name for name in model.model_fields if name not in key)
    unsafe = [name for name in names if not _PROPERTY_NAME.fullmatch(name)]
    if unsafe:
        raise SchemaError(f"{model.__name__} fields {unsafe} cannot be Neo4j property names")
    return names


# What is stored on nodes and relationships: every model field but the keys. Naming each one in SET
# (not `SET n += row`) spares the planner an Eager barrier that halved the write rate.
NODE_PROPERTIES = _property_names(Entity, ("id",))
RELATIONSHIP_PROPERTIES = _property_names(Relation, ("head", "tail"))


class Neo4jAuthError(ExportError):
    """The server rejected the user name or password."""


class Neo4jUnavailableError(ExportError):
    """The server cannot be reached, or the connection was lost and retries did not help."""


class Neo4jDatabaseNotFoundError(ExportError):
    """The server has no database of the requested name."""


@dataclass(frozen=True)
class Neo4jTarget:
    """A driver plus the database to use. Building one does no I/O; `connect()` also verifies it."""

    driver: neo4j.Driver
    database: str | None = None  # None: the user's home database
    database_id: str = ""  # the store id from db.info(); ties a checkpoint to one database

    def close(self) -> None:
        self.driver.close()

    def __enter__(self) -> Neo4jTarget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Neo4jCredentials(BaseModel):
    """Connection settings; unset fields come from NEO4J_URI, NEO4J_USER (or NEO4J_USERNAME, as in
    the credentials file Aura hands out), NEO4J_PASSWORD and NEO4J_DATABASE."""

    uri: str = DEFAULT_URI
    user: str = DEFAULT_USER
    password: SecretStr
    database: str | None = None

    @classmethod
    def from_env(
        cls,
        uri: str | None = None,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
    ) -> Neo4jCredentials:
        env = os.environ
        resolved_password = password or env.get("NEO4J_PASSWORD")
        if not resolved_password:
            raise ConfigError("no Neo4j password: set NEO4J_PASSWORD")
        return cls(
            uri=uri or env.get("NEO4J_URI") or DEFAULT_URI,
            user=user or env.get("NEO4J_USER") or env.get("NEO4J_USERNAME") or DEFAULT_USER,
            password=SecretStr(resolved_password),
            database=database or env.get("NEO4J_DATABASE") or None,
        )


class ExportProgress(BaseModel):
    """Passed to the progress callback after each committed batch."""

    batches_done: int
    batches_total: int
    nodes_written: int
    relationships_written: int


class ExportStats(BaseModel):
    database: str | None
    label: str
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
    batches_done: int


@dataclass(frozen=True)
class Batch:
    kind: Literal["nodes", "relationships"]
    query: str
    rows: list[dict[str, Any]]


# ---------------------------------------------------------------------------------------------
# Names that end up in query text


def checked_label(label: str) -> str:
    """`label` if it is a plain SAFE_NAME (fit for query text), else SchemaError."""
    if not SAFE_NAME.fullmatch(label):
        raise SchemaError(f"invalid node label {label!r}: it must match {SAFE_NAME.pattern}")
    return label


def checked_relationship_type(relation: str, schema: RelationSchema) -> str:
    """The Neo4j type of a relation name (fit for query text); SchemaError unless the schema knows it."""
    rel_type = schema.get(relation).cypher_type
    if not _CYPHER_TYPE.fullmatch(rel_type):
        raise SchemaError(f"relation {relation!r} maps to unsafe relationship type {rel_type!r}")
    return rel_type


def _quoted_label(label: str) -> str:
    # SAFE_NAME allows '-', which Cypher only accepts quoted; a checked name holds no backtick.
    return f"`{checked_label(label)}`"


def _constraint_query(label: str) -> str:
    name = f"`kgc_{checked_label(label)}_id`"
    return f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{_quoted_label(label)}) REQUIRE n.id IS UNIQUE"


def _set_clause(variable: str, properties: tuple[str, ...]) -> str:
    assignments = [f"{variable}.{name} = row.{name}" for name in properties]
    return ", ".join([*assignments, f"{variable}.kgc_export = $export_id"])


def _node_query(label: str) -> str:
    return (
        f"UNWIND $rows AS row MERGE (n:{_quoted_label(label)} {{id: row.id}}) "
        f"SET {_set_clause('n', NODE_PROPERTIES)} RETURN count(n) AS written"
    )


def _relationship_query(label: str, rel_type: str) -> str:
    if not _CYPHER_TYPE.fullmatch(rel_type):
        raise SchemaError(f"unsafe relationship type {rel_type!r}")
    node = _quoted_label(label)
    return (
        f"UNWIND $rows AS row MATCH (a:{node} {{id: row.head}}), (b:{node} {{id: row.tail}}) "
        f"MERGE (a)-[r:`{rel_type}`]->(b) SET {_set_clause('r', RELATIONSHIP_PROPERTIES)} "
        "RETURN count(r) AS written"
    )


# ---------------------------------------------------------------------------------------------
# Planning: pure, validates everything before the first write


def plan_export(
    graph: KnowledgeGraph,
    schema: RelationSchema,
    label: str = DEFAULT_LABEL,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[Batch]:
    """The batches an export writes, in order: all nodes, then relationships grouped by type.

    Raises SchemaError for an unsafe label or a relation outside the schema, and ExportError for
    duplicate entity ids, relations between unknown entities or duplicate edges, so an invalid
    graph writes nothing.
    """
    if batch_size < 1:
        raise ExportError(f"batch size must be at least 1, got {batch_size}")
    entity_ids = _unique_entity_ids(graph.entities)
    by_type: dict[str, list[dict[str, Any]]] = {}
    seen_edges: set[tuple[str, str, str]] = set()
    for rel in graph.relations:
        rel_type = checked_relationship_type(rel.relation, schema)
        _check_endpoints(rel, entity_ids)
        edge = (rel.head, rel_type, rel.tail)
        if edge in seen_edges:
            raise ExportError(f"duplicate relation {rel.head!r} -{rel_type}-> {rel.tail!r} in the graph")
        seen_edges.add(edge)
        by_type.setdefault(rel_type, []).append(rel.model_dump(mode="json"))

    batches = [
        Batch("nodes", _node_query(label), rows)
        for rows in _chunks([e.model_dump(mode="json") for e in graph.entities], batch_size)
    ]
    for rel_type in sorted(by_type):
        query = _relationship_query(label, rel_type)
        batches.extend(Batch("relationships", query, rows) for rows in _chunks(by_type[rel_type], batch_size))
    return batches


def _unique_entity_ids(entities: list[Entity]) -> set[str]:
    ids: set[str] = set()
    for e in entities:
        if e.id in ids:
            raise ExportError(f"duplicate entity id {e.id!r} in the graph")
        size = len(e.id.encode("utf-8", "surrogatepass"))
        if size > MAX_ID_BYTES:
            raise ExportError(
                f"entity {e.name[:80]!r} has an id of {size:,} bytes ({e.id[:40]!r}...); Neo4j's index "
                f"on id takes at most {MAX_ID_BYTES:,}: shorten it in graph.json (nothing was written)"
            )
        ids.add(e.id)
    return ids


def _check_endpoints(rel: Relation, entity_ids: set[str]) -> None:
    for end in (rel.head, rel.tail):
        if end not in entity_ids:
            raise ExportError(
                f"relation {rel.head!r} -{rel.relation}-> {rel.tail!r} names unknown entity {end!r}"
            )


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# ---------------------------------------------------------------------------------------------
# Connecting


def connect(
    uri: str,
    user: str,
    password: str,
    database: str | None = None,
    *,
    timeout: float = 15.0,
    retry_time: float = 30.0,
) -> Neo4jTarget:
    """Open a driver, check the credentials and that `database` exists; the caller closes it.

    The target names the database explicitly (the user's home database when `database` is None).

    `timeout` bounds each connection attempt; `retry_time` is how long a failing transaction is
    retried before the export gives up.
    """
    scheme = uri.partition("://")[0]
    if "://" not in uri or scheme not in BOLT_SCHEMES:
        raise ConfigError(
            f"invalid Neo4j URI {uri!r}: use one of {', '.join(s + '://' for s in BOLT_SCHEMES)}"
        )
    try:
        driver = neo4j.GraphDatabase.driver(
            uri,
            auth=(user, password),
            connection_timeout=timeout,
            max_transaction_retry_time=retry_time,
        )
    except (neo4j_errors.ConfigurationError, ValueError) as e:
        raise ConfigError(f"invalid Neo4j URI {uri!r}: {e}") from e
    try:
        driver.verify_connectivity()
        database_name, database_id = _database_identity(driver, database)
    except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as e:
        driver.close()
        raise _translate(e, f"connecting to {uri} as {user!r}", database) from e
    return Neo4jTarget(driver=driver, database=database_name, database_id=database_id)


def _database_identity(driver: neo4j.Driver, database: str | None) -> tuple[str, str]:
    """(name, store id) of `database`, or of the user's home database when it is None."""
    records = driver.execute_query(
        "CALL db.info() YIELD id, name RETURN id, name",
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    ).records
    return str(records[0]["name"]), str(records[0]["id"])


def _translate(error: Exception, action: str, database: str | None) -> ExportError:
    """A driver error as the KgcError a user can act on (matched by class and code, never text)."""
    if isinstance(error, neo4j_errors.AuthError):
        return Neo4jAuthError(f"{action}: the server rejected the user name or password")
    if isinstance(error, neo4j_errors.ClientError) and error.code == _DATABASE_NOT_FOUND:
        return Neo4jDatabaseNotFoundError(f"{action}: the server has no database {database!r}")
    if isinstance(error, _CONNECTION_LOST):
        return Neo4jUnavailableError(f"{action}: Neo4j is unreachable ({error})")
    return ExportError(f"{action}: {error}")


# ---------------------------------------------------------------------------------------------
# Export


def export_graph(
    graph: KnowledgeGraph,
    target: Neo4jTarget,
    *,
    schema: RelationSchema,
    label: str = DEFAULT_LABEL,
    batch_size: int = DEFAULT_BATCH_SIZE,
    prune: bool = False,
    checkpoint: Path | None = None,
    on_progress: Callable[[ExportProgress], None] | None = None,
) -> ExportStats:
    """Write `graph` to `target` and return what was written.

    Each batch is one managed write transaction (retried by the driver on transient errors). A
    connection lost for longer than the retry time raises Neo4jUnavailableError; run the same call
    again to finish (with the same `checkpoint`, finished batches are skipped). The checkpoint file
    is removed when the export completes.
    """
    started = time.perf_counter()
    batches = plan_export(graph, schema, label, batch_size)
    # Hashing the whole graph costs about a second per 100k relations: only done for a checkpoint.
    fingerprint = "" if checkpoint is None else _fingerprint(graph, label, batch_size, prune, target)
    state = _load_checkpoint(checkpoint, fingerprint) or ExportCheckpoint(
        fingerprint=fingerprint, export_id=uuid.uuid4().hex, batches_done=0
    )
    stats = ExportStats(database=target.database, label=label, batches_skipped=state.batches_done)
    action = f"exporting to Neo4j database {target.database or '(default)'}"
    try:
        with target.driver.session(database=target.database) as session:
            session.execute_write(_run_schema, _constraint_query(label))
            _write_batches(session, batches, state, stats, checkpoint, on_progress)
            if prune:
                stats.relationships_deleted, stats.nodes_deleted = _prune(
                    session, label, state.export_id, batch_size
                )
    except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as e:
        done = f"{state.batches_done} of {len(batches)} batches committed"
        raise _translate(e, f"{action} ({done}; run it again to finish)", target.database) from e
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
    stats.seconds = round(time.perf_counter() - started, 3)
    return stats


def _write_batches(
    session: neo4j.Session,
    batches: list[Batch],
    state: ExportCheckpoint,
    stats: ExportStats,
    checkpoint: Path | None,
    on_progress: Callable[[ExportProgress], None] | None,
) -> None:
    """Commit the batches the checkpoint `state` has not seen yet, one transaction each."""
    for index in range(state.batches_done, len(batches)):
        batch = batches[index]
        written = session.execute_write(_write_batch, batch.query, batch.rows, state.export_id)
        _count(stats, batch, written)
        state.batches_done = index + 1
        if checkpoint is not None:
            _save_checkpoint(checkpoint, state)
        if on_progress is not None:
            on_progress(
                ExportProgress(
                    batches_done=index + 1,
                    batches_total=len(batches),
                    nodes_written=stats.nodes_written,
                    relationships_written=stats.relationships_written,
                )
            )


def _run_schema(tx: neo4j.ManagedTransaction, query: str) -> None:
    tx.run(query).consume()


def _write_batch(tx: neo4j.ManagedTransaction, query: str, rows: list[dict[str, Any]], export_id: str) -> int:
    record = tx.run(query, rows=rows, export_id=export_id).single(strict=True)
    return int(record["written"])


def _count(stats: ExportStats, batch: Batch, written: int) -> None:
    if written != len(batch.rows):
        # MATCH found fewer endpoints than the plan checked: nodes were deleted meanwhile.
        raise ExportError(
            f"a batch of {len(batch.rows)} {batch.kind} wrote {written}: "
            "the database changed during the export; run it again"
        )
    stats.batches += 1
    if batch.kind == "nodes":
        stats.nodes_written += written
    else:
        stats.relationships_written += written


def _prune(session: neo4j.Session, label: str, export_id: str, batch_size: int) -> tuple[int, int]:
    """Delete what earlier kgc exports wrote under `label` and this one did not, in bounded batches."""
    node = _quoted_label(label)
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


def _fingerprint(graph: KnowledgeGraph, label: str, batch_size: int, prune: bool, target: Neo4jTarget) -> str:
    """Identifies one export job: a checkpoint is only trusted for exactly the same job."""
    h = hashlib.sha256()
    h.update(json.dumps([label, batch_size, prune, target.database, target.database_id]).encode())
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


# ---------------------------------------------------------------------------------------------
# Import


def import_graph(target: Neo4jTarget, *, label: str = DEFAULT_LABEL) -> KnowledgeGraph:
    """Read the nodes with `label` (that have an `id`) and the relationships between them.

    A relationship's relation name is its `relation` property, or its type when kgc did not
    write it. Entities are sorted by id, relations by (head, relation, tail).
    """
    node = _quoted_label(label)
    entity_query = (
        f"MATCH (n:{node}) WHERE n.id IS NOT NULL "
        f"RETURN n {{{_projection(('id', *NODE_PROPERTIES))}}} AS e ORDER BY n.id"
    )
    relation_query = (
        f"MATCH (a:{node})-[r]->(b:{node}) WHERE a.id IS NOT NULL AND b.id IS NOT NULL "
        "RETURN a.id AS head, b.id AS tail, type(r) AS type, "
        f"r {{{_projection(RELATIONSHIP_PROPERTIES)}}} AS p"
    )
    try:
        entity_rows = _read(target, entity_query)
        relation_rows = _read(target, relation_query)
    except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as e:
        raise _translate(
            e, f"reading from Neo4j database {target.database or '(default)'}", target.database
        ) from e
    try:
        entities = [_entity(row["e"]) for row in entity_rows]
        relations = [_relation(row) for row in relation_rows]
    except ValidationError as e:
        raise ExportError(f"Neo4j holds a {label} node or relationship kgc cannot read: {e}") from e
    relations.sort(key=lambda r: (r.head, r.relation, r.tail))
    return KnowledgeGraph(entities=entities, relations=relations)


def _projection(properties: tuple[str, ...]) -> str:
    return ", ".join(f".{name}" for name in properties)


def _read(target: Neo4jTarget, query: str) -> list[neo4j.Record]:
    result = target.driver.execute_query(query, database_=target.database, routing_=neo4j.RoutingControl.READ)
    return list(result.records)


def _present(props: dict[str, Any]) -> dict[str, Any]:
    """Missing properties come back as null; drop them so the model defaults apply."""
    return {k: v for k, v in props.items() if v is not None}


def _entity(props: dict[str, Any]) -> Entity:
    values = _present(props)
    values.setdefault("name", values["id"])
    return Entity.model_validate(values)


def _relation(row: neo4j.Record) -> Relation:
    values = {"head": row["head"], "tail": row["tail"], **_present(row["p"])}
    values.setdefault("relation", row["type"])  # a relationship kgc did not write
    return Relation.model_validate(values)
