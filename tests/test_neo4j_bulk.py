"""`kgc export neo4j-import`: files for neo4j-admin's bulk import, imported for real by the importer
of the same Maven artifacts as the test server, then compared with a transactional export."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import neo4j
import pytest

from kgc.errors import ExportError
from kgc.export.graph_files import write_graph
from kgc.export.neo4j import Neo4jTarget, connect, export_graph
from kgc.export.neo4j_bulk import (
    COMMAND_FILE,
    CONSTRAINTS_FILE,
    NODES_FILE,
    RELATIONSHIPS_FILE,
    write_import_files,
)
from kgc.export.neo4j_read import import_graph
from kgc.models import Entity, KnowledgeGraph, Relation
from tests.neo4j_launcher.server import run_admin, start_server, stop_server
from tests.test_neo4j import SCHEMA, small_graph, sorted_graph


def bulk_graph() -> KnowledgeGraph:
    """small_graph() (unicode, quotes, None, empty lists, injection text) plus what CSV makes hard:
    an empty string, a comma, a semicolon, and a line break inside a field."""
    graph = small_graph()
    graph.entities.append(Entity(id="csv-edge", name="a, b; c", aliases=["", "x;y", "two\nlines"], type=""))
    graph.relations.append(
        Relation(head="csv-edge", relation="Used-for", tail="backprop", confidence=1e-05,
                 evidence=['said "so", then;\nmore'], sources=["d,1"])
    )  # fmt: skip
    return graph


def test_files_have_typed_headers_and_quote_every_string(tmp_path: Path) -> None:
    files = write_import_files(bulk_graph(), SCHEMA, tmp_path / "out", label="Concept")

    assert (files.nodes, files.relationships) == (6, 6)
    nodes = (tmp_path / "out" / NODES_FILE).read_text(encoding="utf-8").split("\n")
    assert (
        nodes[0]
        == "id:ID(Concept),name,aliases:string[],type,support:long,sources:string[],vocab_id,vocab_label,vocab_match,vocab_score:double,kgc_export"
    )
    assert nodes[2].startswith(
        '"gradient-descent","Gradient descent",,,2,"d1",,,,,"'
    )  # [] and None: no property
    rels = (tmp_path / "out" / RELATIONSHIPS_FILE).read_text(encoding="utf-8")
    assert rels.startswith(
        ":START_ID(Concept),:END_ID(Concept),:TYPE,relation,support:long,confidence:double,inferred:boolean,"
        "decided_by,sources:string[],reversed_sources:string[],evidence:string[],kgc_export\n"
    )
    assert (
        '"csv-edge","backprop","USED_FOR","Used-for",0,1e-05,false,"support","d,1",,"said ""so"", then;\nmore",'
        in rels
    )
    assert files.command == [
        "neo4j-admin", "database", "import", "full", "neo4j", "--nodes=Concept=nodes.csv",
        "--relationships=relationships.csv", "--array-delimiter=U+001F", "--multiline-fields=true",
        "--overwrite-destination=true",
    ]  # fmt: skip
    assert "neo4j-admin database import full neo4j --nodes=Concept=nodes.csv" in (
        tmp_path / "out" / COMMAND_FILE
    ).read_text(encoding="utf-8")
    assert (tmp_path / "out" / CONSTRAINTS_FILE).read_text(encoding="utf-8") == (
        "CREATE CONSTRAINT `kgc_Concept_id` IF NOT EXISTS FOR (n:`Concept`) REQUIRE n.id IS UNIQUE;\n"
    )


def test_an_invalid_graph_writes_no_file(tmp_path: Path) -> None:
    graph = small_graph()
    graph.relations.append(Relation(head="backprop", relation="Used-for", tail="missing"))
    with pytest.raises(ExportError, match="unknown entity 'missing'"):
        write_import_files(graph, SCHEMA, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_list_value_holding_the_array_delimiter_is_refused(tmp_path: Path) -> None:
    graph = KnowledgeGraph(entities=[Entity(id="a", name="a", aliases=["x\x1fy"])])
    with pytest.raises(ExportError, match="U\\+001F"):
        write_import_files(graph, SCHEMA, tmp_path / "out")


@pytest.mark.neo4j
def test_bulk_import_gives_the_graph_a_transactional_export_gives(
    tmp_path: Path, clean_neo4j: neo4j.Driver
) -> None:
    graph = bulk_graph()
    run = tmp_path / "run"
    write_graph(graph, run)
    out = tmp_path / "import"
    cli = subprocess.run(
        [sys.executable, "-m", "kgc.cli", "export", "neo4j-import", str(run), "--out", str(out)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "60"},
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    command = (out / COMMAND_FILE).read_text(encoding="utf-8").splitlines()[-1]
    assert command in cli.stderr.splitlines()  # printed whole, on one line, even in a narrow terminal

    data_dir = tmp_path / "server"
    admin_args = command.split()[1:]  # run.sh admin puts neo4j-admin's classes on the classpath
    report = run_admin(data_dir / "neo4j", admin_args, cwd=out)
    assert "IMPORT DONE" in report
    server = start_server(data_dir)
    try:
        with connect(server.uri, server.user, server.password) as imported:
            imported.driver.execute_query((out / CONSTRAINTS_FILE).read_text(encoding="utf-8").rstrip(";\n"))
            bulk = import_graph(imported)
            constraints = [
                r["name"] for r in imported.driver.execute_query("SHOW CONSTRAINTS YIELD name").records
            ]
    finally:
        stop_server(server)

    export_graph(graph, Neo4jTarget(driver=clean_neo4j), schema=SCHEMA)
    transactional = import_graph(Neo4jTarget(driver=clean_neo4j))
    assert sorted_graph(bulk) == sorted_graph(transactional) == sorted_graph(graph)
    assert constraints == ["kgc_Entity_id"]
