"""`kgc export neo4j` end to end: a built run directory into the real Neo4j test server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import neo4j
import pytest

from kgc.config import load_config
from kgc.export.graph_files import write_graph
from kgc.models import KnowledgeGraph
from kgc.pipeline import build
from kgc.testing.scripted_server import ScriptedServer
from tests.neo4j_launcher.server import Neo4jServer
from tests.test_pipeline import RULES, write_corpus


@pytest.mark.neo4j
def test_cli_exports_a_run_twice_without_duplicates(
    tmp_path: Path, neo4j_server: Neo4jServer, clean_neo4j: neo4j.Driver
) -> None:
    corpus = write_corpus(tmp_path)
    with ScriptedServer(rules=RULES) as server:
        overrides = {
            "llm.backend": "openai",
            "llm.base_url": server.base_url,
            "llm.model": "scripted",
            "resolve.embedding_merge": False,
            "seeds.user_seeds": ["machine translation", "BLEU"],
            "seeds.user_seeds_only": True,
        }
        graph = build(corpus, tmp_path / "run", load_config(None, overrides))
    assert graph is not None
    env = {
        **os.environ,
        "NEO4J_URI": neo4j_server.uri,
        "NEO4J_USER": neo4j_server.user,
        "NEO4J_PASSWORD": neo4j_server.password,
    }
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "kgc.cli", "export", "neo4j", str(tmp_path / "run")],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert f"{len(graph.entities)} nodes and {len(graph.relations)} relationships written" in proc.stderr
        assert neo4j_server.password not in proc.stdout + proc.stderr

    nodes = clean_neo4j.execute_query("MATCH (n:Entity) RETURN n.id AS id ORDER BY id").records
    assert [r["id"] for r in nodes] == sorted(e.id for e in graph.entities)
    rels = clean_neo4j.execute_query(
        "MATCH (a)-[r]->(b) RETURN a.id AS a, type(r) AS t, b.id AS b, r.inferred AS inferred ORDER BY a, t, b"
    ).records
    assert [(r["a"], r["t"], r["b"], r["inferred"]) for r in rels] == [
        ("bleu", "EVALUATE_FOR", "machine-translation", False),
        ("bleu", "EVALUATE_FOR", "neural-machine-translation", False),
        ("encoder", "PART_OF", "machine-translation", True),
        ("encoder", "PART_OF", "neural-machine-translation", False),
        ("neural-machine-translation", "HYPONYM_OF", "machine-translation", False),
    ]


@pytest.mark.slow
def test_cli_export_without_graph_or_password_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    command = [sys.executable, "-m", "kgc.cli", "export", "neo4j", str(tmp_path)]
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    assert (proc.returncode, proc.stderr.strip()) == (
        1,
        f"error: no graph at {tmp_path / 'graph.json'}: run `kgc build` or `kgc fuse` first",
    )
    write_graph(KnowledgeGraph(), tmp_path)
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    assert (proc.returncode, proc.stderr.strip()) == (1, "error: no Neo4j password: set NEO4J_PASSWORD")
