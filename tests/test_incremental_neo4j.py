"""After `kgc remove`, `kgc export neo4j --prune` applies the difference in place (real Neo4j server),
reports it, and leaves what kgc did not write alone."""

from __future__ import annotations

from pathlib import Path

import neo4j
import pytest
from typer.testing import CliRunner

from kgc.cli import app
from kgc.testing import ScriptedBackend, scripted_factory
from kgc.update import remove_documents
from tests.neo4j_launcher.server import Neo4jServer
from tests.test_incremental import DOCS, RULES, build, config, write


@pytest.mark.neo4j
def test_an_update_reaches_neo4j_and_spares_what_kgc_did_not_write(
    tmp_path: Path, neo4j_server: Neo4jServer, clean_neo4j: neo4j.Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in [
        ("NEO4J_URI", neo4j_server.uri),
        ("NEO4J_USER", neo4j_server.user),
        ("NEO4J_PASSWORD", neo4j_server.password),
    ]:
        monkeypatch.setenv(name, value)
    cfg = config(**{"extraction.mode": "document"})
    backend = ScriptedBackend(rules=RULES)
    run = tmp_path / "run"
    build(cfg, write(tmp_path / "corpus", DOCS), run, backend)
    runner = CliRunner()
    first = runner.invoke(app, ["export", "neo4j", str(run), "--prune"])
    assert first.exit_code == 0, first.output
    assert "changes: nodes +4 ~0 -0 (=0), relationships +2 ~0 -0 (=0)" in first.output
    clean_neo4j.execute_query(
        "CREATE (:Entity {id: 'mine', name: 'a node of my own'})-[:CITES]->(:Paper {id: 'p1'}) "
        "WITH 1 AS x MATCH (b:Entity {id: 'bleu'}) CREATE (:Entity {id: 'note'})-[:ABOUT]->(b)"
    )

    remove_documents(cfg, run, ["d1", "d3"], llm_factory=scripted_factory(backend, cfg.llm))
    second = runner.invoke(app, ["export", "neo4j", str(run), "--prune"])
    assert second.exit_code == 0, second.output
    # bleu and machine translation lose d1 from their sources; the relation they share keeps d2 only;
    # word embedding, text classification and the relation between them were d3's alone.
    assert "changes: nodes +0 ~2 -2 (=0), relationships +0 ~1 -1 (=0)" in second.output

    nodes = clean_neo4j.execute_query("MATCH (n) RETURN n.id AS id ORDER BY id").records
    assert [r["id"] for r in nodes] == ["bleu", "machine-translation", "mine", "note", "p1"]
    rels = clean_neo4j.execute_query(
        "MATCH (a)-[r]->(b) RETURN a.id AS a, type(r) AS t, b.id AS b, r.support AS s, r.sources AS src "
        "ORDER BY a"
    ).records
    assert [(r["a"], r["t"], r["b"], r["s"], r["src"]) for r in rels] == [
        ("bleu", "EVALUATE_FOR", "machine-translation", 1, ["d2"]),
        ("mine", "CITES", "p1", None, None),
        ("note", "ABOUT", "bleu", None, None),
    ]
