"""Read a graph that kgc (or anyone) wrote to Neo4j back into a KnowledgeGraph."""

from __future__ import annotations

from typing import Any

import neo4j
from neo4j import exceptions as neo4j_errors
from pydantic import ValidationError

from kgc.errors import ExportError
from kgc.export.neo4j import DEFAULT_LABEL
from kgc.export.neo4j_connect import Neo4jTarget, translate_error
from kgc.export.neo4j_plan import NODE_PROPERTIES, RELATIONSHIP_PROPERTIES, quoted_label
from kgc.models import Entity, KnowledgeGraph, Relation


def import_graph(target: Neo4jTarget, *, label: str = DEFAULT_LABEL) -> KnowledgeGraph:
    """Read the nodes with `label` (that have an `id`) and the relationships between them.

    A relationship's relation name is its `relation` property, or its type when kgc did not
    write it. Entities are sorted by id, relations by (head, relation, tail).
    """
    node = quoted_label(label)
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
        raise translate_error(
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
