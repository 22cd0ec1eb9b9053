"""Files for Neo4j's offline bulk importer, `neo4j-admin database import full`: the road for first loads.

The importer writes the store files directly, with no transactions (~130k relationships/s on one
machine by Neo4j's figures), into a database that it creates or overwrites while that database is
stopped. kgc writes what it reads:
- `nodes.csv`: `id:ID(<label>)` and the other Entity fields, typed in the header (`support:long`,
  `aliases:string[]`, ...), plus `kgc_export`, as the transactional export stamps its writes;
- `relationships.csv`: `:START_ID(<label>)`, `:END_ID(<label>)`, `:TYPE` and the Relation fields;
- `import.sh`: the exact command; `constraints.cypher`: the uniqueness constraint to create once the
  database is started (the importer creates no constraint).

Quoting: every string is quoted, so an empty string stays an empty string while a missing value
(None) is an unquoted empty field, which the importer stores as no property. Array elements are
separated by U+001F (a control character no kgc text contains; one that does is refused), because
`;`, the importer's default, occurs in evidence sentences. Fields may span lines
(`--multiline-fields=true`). An empty list is written as no property: reading back gives [] either way.
"""

from __future__ import annotations

import shlex
import types
import typing
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kgc.config import Neo4jConfig
from kgc.errors import ExportError, SchemaError
from kgc.export.neo4j_plan import (
    NODE_PROPERTIES,
    RELATIONSHIP_PROPERTIES,
    checked_label,
    constraint_query,
    typed_relations,
)
from kgc.models import Entity, KnowledgeGraph, Relation
from kgc.rundir import atomic_write_text
from kgc.schema import RelationSchema

ARRAY_DELIMITER = "\x1f"
ARRAY_DELIMITER_OPTION = "U+001F"
NODES_FILE = "nodes.csv"
RELATIONSHIPS_FILE = "relationships.csv"
COMMAND_FILE = "import.sh"
CONSTRAINTS_FILE = "constraints.cypher"
# Python type of a model field -> the importer's header type (str needs none).
_HEADER_TYPES: dict[Any, str] = {str: "", int: ":long", float: ":double", bool: ":boolean"}


@dataclass(frozen=True)
class ImportFiles:
    folder: Path
    nodes: int
    relationships: int
    command: list[str]  # the importer's arguments, run from `folder`


def write_import_files(
    graph: KnowledgeGraph,
    schema: RelationSchema,
    out: Path,
    *,
    label: str = Neo4jConfig().label,
    database: str = "neo4j",
) -> ImportFiles:
    """Write the importer's files for `graph` into the folder `out` (created) and return the command.

    Checks the graph like the transactional export does (schema, ids, endpoints, duplicates) before
    writing anything.
    """
    checked_label(label)
    typed = typed_relations(graph, schema)
    export_id = uuid.uuid4().hex
    node_header = [f"id:ID({label})", *(_header(Entity, name) for name in NODE_PROPERTIES), "kgc_export"]
    node_rows = ([e.id, *(getattr(e, name) for name in NODE_PROPERTIES), export_id] for e in graph.entities)
    rel_header = [
        f":START_ID({label})",
        f":END_ID({label})",
        ":TYPE",
        *(_header(Relation, name) for name in RELATIONSHIP_PROPERTIES),
        "kgc_export",
    ]
    rel_rows = (
        [r.head, r.tail, rel_type, *(getattr(r, name) for name in RELATIONSHIP_PROPERTIES), export_id]
        for rel_type, r in typed
    )
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / NODES_FILE, _csv(node_header, node_rows))
        atomic_write_text(out / RELATIONSHIPS_FILE, _csv(rel_header, rel_rows))
        command = import_command(label, database)
        atomic_write_text(out / COMMAND_FILE, _script(command))
        (out / COMMAND_FILE).chmod(0o755)
        atomic_write_text(out / CONSTRAINTS_FILE, constraint_query(label) + ";\n")
    except OSError as e:
        raise ExportError(f"cannot write the import files into {out}: {e}") from e
    return ImportFiles(folder=out, nodes=len(graph.entities), relationships=len(typed), command=command)


def import_command(label: str, database: str) -> list[str]:
    """`neo4j-admin database import full` for the files, run from their folder."""
    return [
        "neo4j-admin",
        "database",
        "import",
        "full",
        database,
        f"--nodes={label}={NODES_FILE}",
        f"--relationships={RELATIONSHIPS_FILE}",
        f"--array-delimiter={ARRAY_DELIMITER_OPTION}",
        "--multiline-fields=true",
        "--overwrite-destination=true",
    ]


def _script(command: list[str]) -> str:
    return (
        "#!/bin/sh\n"
        "# Load the graph into a STOPPED Neo4j (the database is created or overwritten), then start it\n"
        f"# and create the uniqueness constraint: cypher-shell -d {command[4]} -f {CONSTRAINTS_FILE}\n"
        'set -e\ncd "$(dirname "$0")"\n' + shlex.join(command) + "\n"
    )


def _header(model: type[BaseModel], name: str) -> str:
    annotation = model.model_fields[name].annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]  # X | None
    if typing.get_origin(annotation) is typing.Literal:
        annotation = type(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) is list and typing.get_args(annotation) == (str,):
        return f"{name}:string[]"
    if annotation in _HEADER_TYPES:
        return name + _HEADER_TYPES[annotation]
    raise SchemaError(
        f"{model.__name__}.{name} has a type the Neo4j importer files cannot hold: {annotation}"
    )


def _csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    lines = [",".join(header)]
    lines.extend(",".join(_field(value) for value in row) for row in rows)
    return "\n".join(lines) + "\n"


def _field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        if not value:
            return ""
        return _quoted(ARRAY_DELIMITER.join(_element(str(v)) for v in value))
    return _quoted(str(value))


def _element(text: str) -> str:
    if ARRAY_DELIMITER in text:
        raise ExportError(
            f"a list value holds the control character U+001F, the files' list separator: {text[:80]!r}"
        )
    return text


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
