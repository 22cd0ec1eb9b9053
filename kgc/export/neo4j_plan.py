"""What a Neo4j export writes, planned and checked before the first write (pure: no I/O).

Nodes are written first, in batches that any number of writers may commit at once (distinct ids).
Relationships are "mixed and batched" so that parallel writers do not wait on each other's locks:
creating a relationship locks both end nodes, so two concurrent transactions that share a node
serialise, and two that share two nodes in opposite order deadlock. (Neo4j also locks the first
relationship of each end node's chain, which may belong to a node of another partition, so a
deadlock remains possible, though rare; the driver retries it as the transient error it is.) Each node id is hashed into
one of `2 * writers` partitions; a relationship belongs to the bucket of its two partitions (an
unordered pair). The buckets are run in rounds: one round of all same-partition buckets {i, i}, then
the rounds of a round-robin tournament over the partitions, each pairing every partition exactly once.
Buckets of one round touch disjoint node sets, so they run in parallel; the rounds run one after
another. A batch may mix relationship types: its transaction runs one query per type.

Labels and relationship types cannot be query parameters: they are checked against a strict pattern
(and relationship types against the schema) before any query text is built.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from kgc.config import Neo4jConfig
from kgc.errors import ExportError, SchemaError
from kgc.models import Entity, KnowledgeGraph, Relation
from kgc.schema import SAFE_NAME, RelationSchema

# What `RelationType.cypher_type` must look like. Checked again here (with fullmatch, so no trailing
# newline slips through) because the query text is built from it.
_CYPHER_TYPE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]*")
# The uniqueness constraint's range index refuses a key over about 8 KiB (8,167 bytes less overhead)
# and the write fails, batch after batch, on every rerun. Half that is far above any kgc id (slugs of
# names of at most extraction.max_name_chars characters) and safely below the limit.
MAX_ID_BYTES = 4096

Rows = list[dict[str, Any]]
_DEFAULTS = Neo4jConfig()  # the defaults are declared once, in kgc.config


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


@dataclass(frozen=True)
class Batch:
    """One write transaction. `groups` maps the node label (nodes) or each relationship type to its rows."""

    index: int  # position in the plan: what a checkpoint records as committed
    kind: Literal["nodes", "relationships"]
    groups: dict[str, Rows]

    @property
    def size(self) -> int:
        return sum(len(rows) for rows in self.groups.values())


# A lane is a list of batches committed one after another by one writer; a round is a list of lanes
# that may run in parallel; rounds run in order.
Lane = list[Batch]
Round = list[Lane]


@dataclass(frozen=True)
class ExportPlan:
    label: str
    rounds: list[Round]

    @property
    def batches(self) -> list[Batch]:
        return [batch for round_ in self.rounds for lane in round_ for batch in lane]


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


def quoted_label(label: str) -> str:
    # SAFE_NAME allows '-', which Cypher only accepts quoted; a checked name holds no backtick.
    return f"`{checked_label(label)}`"


def constraint_query(label: str) -> str:
    name = f"`kgc_{checked_label(label)}_id`"
    return f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{quoted_label(label)}) REQUIRE n.id IS UNIQUE"


def _set_clause(variable: str, properties: tuple[str, ...]) -> str:
    assignments = [f"{variable}.{name} = row.{name}" for name in properties]
    return ", ".join([*assignments, f"{variable}.kgc_export = $export_id"])


def _map_literal(properties: tuple[str, ...]) -> str:
    return ", ".join([*(f"{name}: row.{name}" for name in properties), "kgc_export: $export_id"])


def node_query(label: str, create: bool) -> str:
    """`create`: the target holds no node with this label, so nothing needs looking up first."""
    node = quoted_label(label)
    if create:
        write = f"CREATE (n:{node} {{id: row.id, {_map_literal(NODE_PROPERTIES)}}})"
    else:
        write = f"MERGE (n:{node} {{id: row.id}}) SET {_set_clause('n', NODE_PROPERTIES)}"
    return f"UNWIND $rows AS row {write} RETURN count(n) AS written"


def relationship_query(label: str, rel_type: str, create: bool) -> str:
    """`create`: the relationships cannot exist yet (their nodes were created by this export)."""
    if not _CYPHER_TYPE.fullmatch(rel_type):
        raise SchemaError(f"unsafe relationship type {rel_type!r}")
    node = quoted_label(label)
    if create:
        write = f"CREATE (a)-[r:`{rel_type}` {{{_map_literal(RELATIONSHIP_PROPERTIES)}}}]->(b)"
    else:
        write = f"MERGE (a)-[r:`{rel_type}`]->(b) SET {_set_clause('r', RELATIONSHIP_PROPERTIES)}"
    return (
        f"UNWIND $rows AS row MATCH (a:{node} {{id: row.head}}) MATCH (b:{node} {{id: row.tail}}) "
        f"{write} RETURN count(r) AS written"
    )


# ---------------------------------------------------------------------------------------------
# Planning


def plan_export(
    graph: KnowledgeGraph,
    schema: RelationSchema,
    label: str = _DEFAULTS.label,
    batch_size: int = _DEFAULTS.batch_size,
    writers: int = _DEFAULTS.writers,
) -> ExportPlan:
    """The rounds of batches an export writes: nodes, then relationships mixed and batched.

    Raises SchemaError for an unsafe label or a relation outside the schema, and ExportError for
    duplicate entity ids, relations between unknown entities or duplicate edges, so an invalid
    graph writes nothing.
    """
    if batch_size < 1:
        raise ExportError(f"batch size must be at least 1, got {batch_size}")
    if writers < 1:
        raise ExportError(f"the number of writers must be at least 1, got {writers}")
    checked_label(label)
    partitions = 2 * writers
    buckets: dict[tuple[int, int], list[tuple[str, dict[str, Any]]]] = {}
    for rel_type, rel in typed_relations(graph, schema):
        pair = sorted((partition_of(rel.head, partitions), partition_of(rel.tail, partitions)))
        buckets.setdefault((pair[0], pair[1]), []).append((rel_type, rel.model_dump(mode="json")))

    counter = itertools.count()
    node_rows = [e.model_dump(mode="json") for e in graph.entities]
    rounds: list[Round] = [
        [[Batch(next(counter), "nodes", {label: rows})] for rows in _chunks(node_rows, batch_size)]
    ]
    for pairs in relationship_rounds(partitions):
        lanes = [_lane(buckets[pair], batch_size, counter) for pair in pairs if pair in buckets]
        rounds.append(lanes)
    return ExportPlan(label=label, rounds=[round_ for round_ in rounds if round_])


def typed_relations(graph: KnowledgeGraph, schema: RelationSchema) -> list[tuple[str, Relation]]:
    """Each relation with its checked Neo4j type, after checking the whole graph can be written:
    SchemaError for a relation outside the schema, ExportError for duplicate or oversized entity ids,
    relations between unknown entities, or duplicate edges."""
    entity_ids = _unique_entity_ids(graph.entities)
    typed: list[tuple[str, Relation]] = []
    seen_edges: set[tuple[str, str, str]] = set()
    for rel in graph.relations:
        rel_type = checked_relationship_type(rel.relation, schema)
        _check_endpoints(rel, entity_ids)
        edge = (rel.head, rel_type, rel.tail)
        if edge in seen_edges:
            raise ExportError(f"duplicate relation {rel.head!r} -{rel_type}-> {rel.tail!r} in the graph")
        seen_edges.add(edge)
        typed.append((rel_type, rel))
    return typed


def partition_of(node_id: str, partitions: int) -> int:
    """A stable partition of a node id (crc32: the same in every process, unlike hash())."""
    return zlib.crc32(node_id.encode("utf-8")) % partitions


def relationship_rounds(partitions: int) -> list[list[tuple[int, int]]]:
    """Rounds of partition pairs, each round touching every partition at most once (`partitions` even).

    First the pairs {i, i}; then the circle method of a round-robin tournament: partition
    `partitions - 1` stays put while the others rotate, which pairs every two partitions exactly once.
    """
    rounds = [[(i, i) for i in range(partitions)]]
    others = partitions - 1
    for r in range(others):
        pairs = [(r, others)]
        for k in range(1, partitions // 2):
            a, b = (r + k) % others, (r - k) % others
            pairs.append((min(a, b), max(a, b)))
        rounds.append(sorted(pairs))
    return rounds


def _lane(rows: list[tuple[str, dict[str, Any]]], batch_size: int, counter: Iterator[int]) -> Lane:
    lane: Lane = []
    for start in range(0, len(rows), batch_size):
        groups: dict[str, Rows] = {}
        for rel_type, row in rows[start : start + batch_size]:
            groups.setdefault(rel_type, []).append(row)
        lane.append(Batch(next(counter), "relationships", dict(sorted(groups.items()))))
    return lane


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


def _chunks(rows: Rows, size: int) -> Iterator[Rows]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
