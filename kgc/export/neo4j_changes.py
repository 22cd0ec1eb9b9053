"""What an export to Neo4j will change, read before it writes: added, updated, unchanged, deleted.

Only what an earlier kgc export wrote (a `kgc_export` property) under the label is compared, so
nodes and relationships that kgc did not write are neither counted nor touched. After a corpus
update, `kgc export neo4j --prune` applies exactly this difference in place.
"""

from __future__ import annotations

from typing import Any

import neo4j
from pydantic import BaseModel

from kgc.errors import SchemaError
from kgc.models import KnowledgeGraph
from kgc.schema import SAFE_NAME, RelationSchema

STAMP = "kgc_export"  # the property every kgc export sets (kgc.export.neo4j)


class Counts(BaseModel):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0  # with prune; else these are kept as stale

    def describe(self) -> str:
        return f"+{self.added:,} ~{self.updated:,} -{self.deleted:,} (={self.unchanged:,})"


class ExportChanges(BaseModel):
    nodes: Counts
    relationships: Counts

    def describe(self) -> str:
        return (
            f"nodes {self.nodes.describe()}, relationships {self.relationships.describe()} "
            "(+ added, ~ updated, - deleted, = unchanged)"
        )


def export_changes(
    driver: neo4j.Driver,
    database: str | None,
    graph: KnowledgeGraph,
    schema: RelationSchema,
    label: str,
    *,
    prune: bool,
) -> ExportChanges:
    """Compare `graph` with what earlier kgc exports wrote under `label` in `database`."""
    if not SAFE_NAME.fullmatch(label):
        raise SchemaError(f"invalid node label {label!r}: it must match {SAFE_NAME.pattern}")
    node = f"`{label}`"
    nodes = _read(
        driver,
        database,
        f"MATCH (n:{node}) WHERE n.{STAMP} IS NOT NULL RETURN n.id AS key, properties(n) AS p",
    )
    relationships = _read(
        driver,
        database,
        f"MATCH (a:{node})-[r]->(b:{node}) WHERE r.{STAMP} IS NOT NULL "
        "RETURN [a.id, type(r), b.id] AS key, properties(r) AS p",
    )
    wanted_nodes = {e.id: _stored(e.model_dump(mode="json"), "id") for e in graph.entities}
    wanted_relationships = {
        (r.head, schema.get(r.relation).cypher_type, r.tail): _stored(
            r.model_dump(mode="json"), "head", "tail"
        )
        for r in graph.relations
    }
    return ExportChanges(
        nodes=_compare(wanted_nodes, {k: _stored(p, "id", STAMP) for k, p in nodes.items()}, prune),
        relationships=_compare(
            wanted_relationships, {k: _stored(p, STAMP) for k, p in relationships.items()}, prune
        ),
    )


def _read(driver: neo4j.Driver, database: str | None, query: str) -> dict[Any, dict[str, Any]]:
    records = driver.execute_query(query, database_=database, routing_=neo4j.RoutingControl.READ).records
    return {tuple(r["key"]) if isinstance(r["key"], list) else r["key"]: dict(r["p"]) for r in records}


def _stored(props: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Properties as Neo4j keeps them: no keys, no nulls (setting null removes a property)."""
    return {k: v for k, v in props.items() if k not in keys and v is not None}


def _compare(wanted: dict[Any, dict[str, Any]], existing: dict[Any, dict[str, Any]], prune: bool) -> Counts:
    counts = Counts()
    for key, props in wanted.items():
        if key not in existing:
            counts.added += 1
        elif existing[key] == props:
            counts.unchanged += 1
        else:
            counts.updated += 1
    if prune:
        counts.deleted = sum(1 for key in existing if key not in wanted)
    return counts
