"""Neo4j export and import against a real server (tests/fixtures_neo4j.py starts one)."""

from __future__ import annotations

import json
from pathlib import Path

import neo4j
import pytest

from kgc.errors import ConfigError, ExportError, SchemaError
from kgc.export.neo4j import (
    ExportCheckpoint,
    ExportProgress,
    Neo4jAuthError,
    Neo4jCredentials,
    Neo4jDatabaseNotFoundError,
    Neo4jTarget,
    Neo4jUnavailableError,
    connect,
    export_graph,
)
from kgc.export.neo4j_plan import MAX_ID_BYTES, ExportPlan, plan_export
from kgc.export.neo4j_read import import_graph
from kgc.models import Entity, KnowledgeGraph, Relation
from kgc.schema import RelationSchema, RelationType
from tests.fixtures_neo4j import TcpProxy
from tests.neo4j_launcher.server import Neo4jServer, free_port

SCHEMA = RelationSchema()
# Strings that would break out of a quoted name if pasted into query text.
HOSTILE_TEXT = "x`]->() DETACH DELETE a //'\"}) MATCH (n) DETACH DELETE n"


def small_graph() -> KnowledgeGraph:
    """Covers every property type: lists (empty too), None, unicode, quotes, both edge kinds."""
    entities = [
        Entity(id="backprop", name="Backpropagation", aliases=["backprop", "BP"], type="method", support=3,
               sources=["d1", "d2", "d3"]),
        Entity(id="gradient-descent", name="Gradient descent", aliases=[], type=None, support=2, sources=["d1"]),
        Entity(id="neural-network", name="Neural network", aliases=["NN"], type="model", support=5,
               sources=["d2"], vocab_id="nlp:neural-network", vocab_label="neural network",
               vocab_match="exactMatch", vocab_score=1.0),  # linked to a vocabulary (the link stage)
        Entity(id="strasse", name="Straße — «ü» 神经", aliases=["O'Reilly \"quoted\""], type=None, support=0,
               sources=[]),
        Entity(id="chain-rule", name=HOSTILE_TEXT, aliases=[HOSTILE_TEXT], type="concept", support=1,
               sources=["d3"]),
    ]  # fmt: skip
    relations = [
        Relation(head="chain-rule", relation="Is-a-Prerequisite-of", tail="backprop", support=2, confidence=0.9,
                 sources=["d1", "d3"], evidence=["You need the chain rule for backprop."]),
        Relation(head="backprop", relation="Used-for", tail="neural-network", support=3, confidence=1.0,
                 sources=["d2"], evidence=[HOSTILE_TEXT]),
        Relation(head="backprop", relation="Compare", tail="gradient-descent", support=0, confidence=0.3,
                 inferred=True, decided_by="inference"),
        Relation(head="gradient-descent", relation="part of", tail="neural-network", support=1, confidence=0.5,
                 decided_by="llm", sources=["d1"]),
        Relation(head="neural-network", relation="Hyponym-Of", tail="strasse", support=1, confidence=0.75,
                 decided_by="background"),
    ]  # fmt: skip
    return KnowledgeGraph(entities=entities, relations=relations)


def chain_graph(n_entities: int, n_relations: int) -> KnowledgeGraph:
    """A deterministic graph of `n_relations` distinct edges spread over all schema types."""
    entities = [Entity(id=f"e{i}", name=f"Entity {i}", support=i) for i in range(n_entities)]
    names = SCHEMA.names
    relations = [
        Relation(head=f"e{k % n_entities}", relation=names[k % len(names)], tail=f"e{(k * 7 + 1) % n_entities}",
                 support=k, confidence=round(k / n_relations, 4))
        for k in range(n_relations)
    ]  # fmt: skip
    return KnowledgeGraph(entities=entities, relations=relations)


def sorted_graph(graph: KnowledgeGraph) -> tuple[list[Entity], list[Relation]]:
    return (
        sorted(graph.entities, key=lambda e: e.id),
        sorted(graph.relations, key=lambda r: (r.head, r.relation, r.tail)),
    )


def db_counts(driver: neo4j.Driver) -> tuple[int, int]:
    nodes = driver.execute_query("MATCH (n) RETURN count(n) AS c").records[0]["c"]
    relationships = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS c").records[0]["c"]
    return nodes, relationships


def relationship_types(driver: neo4j.Driver) -> dict[str, int]:
    records = driver.execute_query("MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS c").records
    return {r["t"]: r["c"] for r in records}


def constraint_names(driver: neo4j.Driver) -> list[str]:
    return sorted(r["name"] for r in driver.execute_query("SHOW CONSTRAINTS YIELD name").records)


def db_snapshot(driver: neo4j.Driver) -> str:
    """Everything in the database as canonical text: equal snapshots mean an unchanged database."""
    nodes = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS l, properties(n) AS p ORDER BY n.id, n.name"
    ).records
    edges = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN a.id AS a, type(r) AS t, b.id AS b, properties(r) AS p ORDER BY a, t, b"
    ).records
    return json.dumps(
        [[dict(r) for r in nodes], [dict(r) for r in edges], constraint_names(driver)], sort_keys=True
    )


@pytest.fixture
def target(clean_neo4j: neo4j.Driver, neo4j_server: Neo4jServer) -> Neo4jTarget:
    # A Neo4jTarget around the session driver: built without I/O, like a notebook user would.
    return Neo4jTarget(driver=clean_neo4j, database=None)


# ---------------------------------------------------------------------------------------------
# Round trip, idempotence, updates


@pytest.mark.neo4j
def test_round_trip_keeps_every_entity_relation_and_property(
    target: Neo4jTarget, clean_neo4j: neo4j.Driver
) -> None:
    graph = small_graph()
    stats = export_graph(graph, target, schema=SCHEMA, batch_size=2)

    assert (stats.nodes_written, stats.relationships_written) == (5, 5)
    assert stats.batches == len(plan_export(graph, SCHEMA, batch_size=2).batches)
    assert stats.create  # an empty database: CREATE, no lookups
    assert db_counts(clean_neo4j) == (5, 5)
    assert relationship_types(clean_neo4j) == {
        "IS_A_PREREQUISITE_OF": 1,
        "USED_FOR": 1,
        "COMPARE": 1,
        "PART_OF": 1,
        "HYPONYM_OF": 1,
    }
    assert sorted_graph(import_graph(target)) == sorted_graph(graph)
    linked = clean_neo4j.execute_query("MATCH (n {vocab_id: 'nlp:neural-network'}) RETURN n.id AS id").records
    assert [r["id"] for r in linked] == ["neural-network"]


@pytest.mark.neo4j
def test_round_trip_under_a_custom_label_leaves_other_labels_alone(
    target: Neo4jTarget, clean_neo4j: neo4j.Driver
) -> None:
    first = small_graph()
    second = chain_graph(4, 6)
    export_graph(first, target, schema=SCHEMA, label="Course-Concept")
    export_graph(second, target, schema=SCHEMA, label="Paper")

    assert sorted_graph(import_graph(target, label="Course-Concept")) == sorted_graph(first)
    assert sorted_graph(import_graph(target, label="Paper")) == sorted_graph(second)
    assert import_graph(target) == KnowledgeGraph()  # nothing under the default label
    assert constraint_names(clean_neo4j) == ["kgc_Course-Concept_id", "kgc_Paper_id"]


@pytest.mark.neo4j
def test_exporting_twice_leaves_the_same_counts(target: Neo4jTarget, clean_neo4j: neo4j.Driver) -> None:
    graph = chain_graph(30, 80)
    first = export_graph(graph, target, schema=SCHEMA, batch_size=25)
    snapshot = db_counts(clean_neo4j), relationship_types(clean_neo4j), constraint_names(clean_neo4j)
    second = export_graph(graph, target, schema=SCHEMA, batch_size=7)

    assert (first.create, second.create) == (True, False)  # the second finds the label filled: MERGE
    assert (first.nodes_written, first.relationships_written) == (30, 80)
    assert (second.nodes_written, second.relationships_written) == (30, 80)
    assert snapshot[0] == (30, 80)
    assert (
        db_counts(clean_neo4j),
        relationship_types(clean_neo4j),
        constraint_names(clean_neo4j),
    ) == snapshot
    assert sorted_graph(import_graph(target)) == sorted_graph(graph)


def newer_graph() -> KnowledgeGraph:
    """small_graph() as a later run would produce it: changed properties, one entity and one edge gone,
    one entity and one edge new."""
    old = small_graph()
    entities = [e for e in old.entities if e.id != "strasse"]
    entities[0] = entities[0].model_copy(
        update={"name": "Backpropagation (BP)", "aliases": ["BP"], "support": 4}
    )
    entities.append(Entity(id="autograd", name="Automatic differentiation", support=1, sources=["d4"]))
    relations = [r for r in old.relations if r.tail != "strasse" and r.relation != "Compare"]
    relations[0] = relations[0].model_copy(update={"confidence": 0.95, "evidence": ["new evidence"]})
    relations.append(
        Relation(head="autograd", relation="Used-for", tail="backprop", support=1, confidence=0.6)
    )
    return KnowledgeGraph(entities=entities, relations=relations)


@pytest.mark.neo4j
def test_newer_graph_updates_in_place_and_keeps_stale_data_without_prune(
    target: Neo4jTarget, clean_neo4j: neo4j.Driver
) -> None:
    export_graph(small_graph(), target, schema=SCHEMA)
    newer = newer_graph()
    stats = export_graph(newer, target, schema=SCHEMA)

    assert (stats.nodes_deleted, stats.relationships_deleted) == (0, 0)
    assert db_counts(clean_neo4j) == (6, 6)  # 5 + autograd; 5 - 0 + 1 (stale ones kept)
    back = {e.id: e for e in import_graph(target).entities}
    assert back["backprop"] == newer.entity("backprop")  # SET replaced name, aliases and support
    assert back["strasse"] == small_graph().entity("strasse")  # kept, untouched
    ids = [r["id"] for r in clean_neo4j.execute_query("MATCH (n:Entity) RETURN n.id AS id").records]
    assert len(ids) == len(set(ids))
    edge = clean_neo4j.execute_query(
        "MATCH (:Entity {id: 'chain-rule'})-[r:IS_A_PREREQUISITE_OF]->(:Entity {id: 'backprop'}) "
        "RETURN r.confidence AS c, r.evidence AS e"
    ).records
    assert [(r["c"], r["e"]) for r in edge] == [(0.95, ["new evidence"])]


@pytest.mark.neo4j
def test_prune_deletes_only_what_earlier_exports_wrote(
    target: Neo4jTarget, clean_neo4j: neo4j.Driver
) -> None:
    export_graph(small_graph(), target, schema=SCHEMA)
    # Data a user added by hand under the same label: no kgc_export stamp, so prune keeps it.
    clean_neo4j.execute_query(
        "MATCH (b:Entity {id: 'backprop'}) CREATE (u:Entity {name: 'my note'})-[:KNOWS]->(b), "
        "(b)-[:SEE_ALSO]->(:Other {id: 'x'})"
    )
    newer = newer_graph()
    stats = export_graph(newer, target, schema=SCHEMA, prune=True)

    # Gone: the strasse node and the two edges the newer graph lacks (Compare, Hyponym-Of to strasse).
    assert (stats.nodes_deleted, stats.relationships_deleted) == (1, 2)
    assert sorted_graph(import_graph(target)) == sorted_graph(newer)
    # kgc's nodes and edges, plus the user's node, :Other, KNOWS and SEE_ALSO
    assert db_counts(clean_neo4j) == (5 + 2, 4 + 2)
    assert relationship_types(clean_neo4j) == {
        "IS_A_PREREQUISITE_OF": 1,
        "USED_FOR": 2,
        "PART_OF": 1,
        "KNOWS": 1,
        "SEE_ALSO": 1,
    }


# ---------------------------------------------------------------------------------------------
# Injection: names that end up in query text


BAD_LABELS = [
    "Entity`) DETACH DELETE n //",
    "Entity}) MATCH (m) DETACH DELETE m //",
    "Ent ity",
    "Entity'",
    'Entity"',
    "Ent\u0456ty",  # Cyrillic i look-alike
    "Entity\n",
    "",
    "1Entity",
    "Entity:Admin",
]


@pytest.mark.neo4j
@pytest.mark.parametrize("label", BAD_LABELS)
def test_unsafe_label_is_rejected_and_nothing_runs(
    label: str, target: Neo4jTarget, clean_neo4j: neo4j.Driver
) -> None:
    export_graph(small_graph(), target, schema=SCHEMA)
    before = db_snapshot(clean_neo4j)

    with pytest.raises(SchemaError, match="invalid node label"):
        export_graph(small_graph(), target, schema=SCHEMA, label=label, prune=True)
    with pytest.raises(SchemaError, match="invalid node label"):
        import_graph(target, label=label)

    assert db_snapshot(clean_neo4j) == before


BAD_RELATIONS = [
    "Part-of`]->(b) DETACH DELETE a //",
    "Used-for]->(b) WITH a MATCH (n) DETACH DELETE n //",
    "Used\u2010for",  # Unicode hyphen, looks like Used-for
    "Comp\u0430re",  # Cyrillic a look-alike
    "DETACH DELETE",
    "Related-to",  # harmless but not in the schema
]


@pytest.mark.neo4j
@pytest.mark.parametrize("relation", BAD_RELATIONS)
def test_relation_outside_the_schema_is_rejected_and_nothing_runs(
    relation: str, target: Neo4jTarget, clean_neo4j: neo4j.Driver
) -> None:
    export_graph(small_graph(), target, schema=SCHEMA)
    before = db_snapshot(clean_neo4j)
    graph = small_graph()
    graph.relations.append(Relation(head="backprop", relation=relation, tail="chain-rule"))

    with pytest.raises(SchemaError, match="unknown relation"):
        export_graph(graph, target, schema=SCHEMA, prune=True)

    assert db_snapshot(clean_neo4j) == before


@pytest.mark.neo4j
@pytest.mark.parametrize(
    "unsafe_type",
    [
        RelationType.model_construct(name="Defines\n", description="", directed=True),
        RelationType.model_construct(name="X`]->(b) DETACH DELETE a //", description="", directed=True),
        RelationType.model_construct(name="Cites\u00a0paper", description="", directed=True),
    ],
    ids=["trailing-newline", "backtick-breakout", "nbsp"],
)
def test_schema_type_that_maps_to_an_unsafe_cypher_type_is_rejected(
    unsafe_type: RelationType, target: Neo4jTarget, clean_neo4j: neo4j.Driver
) -> None:
    export_graph(small_graph(), target, schema=SCHEMA)
    before = db_snapshot(clean_neo4j)
    schema = RelationSchema.model_construct(types=[*SCHEMA.types, unsafe_type])
    graph = small_graph()
    graph.relations.append(Relation(head="backprop", relation=unsafe_type.name, tail="chain-rule"))

    with pytest.raises(SchemaError, match="unsafe relationship type"):
        export_graph(graph, target, schema=schema)

    assert db_snapshot(clean_neo4j) == before


@pytest.mark.neo4j
def test_relation_to_an_unknown_entity_writes_nothing(target: Neo4jTarget, clean_neo4j: neo4j.Driver) -> None:
    graph = small_graph()
    graph.relations.append(Relation(head="backprop", relation="Used-for", tail="missing"))

    with pytest.raises(ExportError, match="unknown entity 'missing'"):
        export_graph(graph, target, schema=SCHEMA)

    assert db_counts(clean_neo4j) == (0, 0)
    assert constraint_names(clean_neo4j) == []


def test_plan_rejects_duplicate_edges_and_ids() -> None:
    graph = small_graph()
    graph.relations.append(graph.relations[0].model_copy(update={"relation": "is a prerequisite of"}))
    with pytest.raises(
        ExportError, match="duplicate relation 'chain-rule' -IS_A_PREREQUISITE_OF-> 'backprop'"
    ):
        plan_export(graph, SCHEMA)
    graph = small_graph()
    graph.entities.append(graph.entities[0])
    with pytest.raises(ExportError, match="duplicate entity id 'backprop'"):
        plan_export(graph, SCHEMA)


def test_plan_rejects_an_id_too_long_for_the_index_naming_the_entity() -> None:
    graph = small_graph()
    graph.entities.append(Entity(id="x" * 10_000, name="a very long name"))
    with pytest.raises(
        ExportError,
        match=r"entity 'a very long name' has an id of 10,000 bytes \('x{40}'...\); Neo4j's index on id "
        r"takes at most 4,096: shorten it in graph.json \(nothing was written\)",
    ):
        plan_export(graph, SCHEMA)
    graph.entities[-1] = Entity(id="é" * (MAX_ID_BYTES // 2 + 1), name="two bytes each")  # counted in bytes
    with pytest.raises(ExportError, match=f"has an id of {MAX_ID_BYTES + 2:,} bytes"):
        plan_export(graph, SCHEMA)


@pytest.mark.neo4j
def test_the_longest_id_allowed_is_written_and_a_longer_one_writes_nothing(
    target: Neo4jTarget, clean_neo4j: neo4j.Driver
) -> None:
    longest = "é" * (MAX_ID_BYTES // 2)
    graph = small_graph()
    graph.entities.append(Entity(id=longest, name="long"))
    graph.relations.append(Relation(head=longest, relation="Used-for", tail="backprop"))
    stats = export_graph(graph, target, schema=SCHEMA)
    assert (stats.nodes_written, stats.relationships_written) == (len(graph.entities), len(graph.relations))
    assert longest in {e.id for e in import_graph(target).entities}

    clean_neo4j.execute_query("MATCH (n) DETACH DELETE n")
    graph.entities.append(Entity(id="x" * 10_000, name="too long"))
    with pytest.raises(ExportError, match="entity 'too long' has an id of 10,000 bytes"):
        export_graph(graph, target, schema=SCHEMA)
    assert db_counts(clean_neo4j) == (0, 0)


# ---------------------------------------------------------------------------------------------
# Failures and resume


def relationships_in(plan: ExportPlan, indices: list[int]) -> int:
    return sum(b.size for b in plan.batches if b.kind == "relationships" and b.index in indices)


@pytest.mark.neo4j
def test_connection_lost_mid_export_then_resume_without_duplicates(
    neo4j_server: Neo4jServer, neo4j_proxy: TcpProxy, clean_neo4j: neo4j.Driver, tmp_path: Path
) -> None:
    graph = chain_graph(50, 120)
    checkpoint = tmp_path / "neo4j_export.checkpoint.json"
    # One writer, so that nothing else is in flight when the connection is cut.
    plan = plan_export(graph, SCHEMA, batch_size=10, writers=1)
    total = len(plan.batches)
    assert [b.kind for b in plan.batches].count("nodes") == 5 and total > 8

    def cut_after_eight(progress: ExportProgress) -> None:
        if progress.batches_done == 8:
            neo4j_proxy.cut()

    flaky = connect(
        f"bolt://127.0.0.1:{neo4j_proxy.port}",
        neo4j_server.user,
        neo4j_server.password,
        timeout=2,
        retry_time=1,
    )
    with flaky, pytest.raises(Neo4jUnavailableError, match=rf"8 of {total} batches committed; run it again"):
        export_graph(
            graph,
            flaky,
            schema=SCHEMA,
            batch_size=10,
            writers=1,
            checkpoint=checkpoint,
            on_progress=cut_after_eight,
        )

    committed = ExportCheckpoint.model_validate_json(checkpoint.read_text())
    assert sorted(committed.committed) == list(range(8))
    partial_relationships = relationships_in(plan, committed.committed)
    assert db_counts(clean_neo4j) == (50, partial_relationships)

    with connect(neo4j_server.uri, neo4j_server.user, neo4j_server.password) as direct:
        resumed = export_graph(graph, direct, schema=SCHEMA, batch_size=10, writers=1, checkpoint=checkpoint)
        assert (resumed.batches_skipped, resumed.batches) == (8, total - 8)
        assert not resumed.create  # a resumed export MERGEs: it cannot know every outcome of the last one
        assert resumed.relationships_written == 120 - partial_relationships
        assert not checkpoint.exists()
        assert db_counts(clean_neo4j) == (50, 120)

        # A plain re-run (no checkpoint) rewrites everything and still adds nothing.
        export_graph(graph, direct, schema=SCHEMA, batch_size=10)
        assert db_counts(clean_neo4j) == (50, 120)
        assert duplicate_edges(clean_neo4j) == 0
        assert sorted_graph(import_graph(direct)) == sorted_graph(graph)


def duplicate_edges(driver: neo4j.Driver) -> int:
    return int(
        driver.execute_query(
            "MATCH (a)-[r]->(b) WITH a, type(r) AS t, b, count(r) AS c WHERE c > 1 RETURN count(*) AS n"
        ).records[0]["n"]
    )


@pytest.mark.neo4j
def test_parallel_writers_cut_mid_export_then_resume(
    neo4j_server: Neo4jServer, neo4j_proxy: TcpProxy, clean_neo4j: neo4j.Driver, tmp_path: Path
) -> None:
    graph = chain_graph(250, 1500)  # distinct edges up to lcm(250, 7) = 1750
    checkpoint = tmp_path / "neo4j_export.checkpoint.json"
    total = len(plan_export(graph, SCHEMA, batch_size=50, writers=4).batches)

    def cut_after_twenty(progress: ExportProgress) -> None:
        if progress.batches_done == 20:
            neo4j_proxy.cut()

    flaky = connect(
        f"bolt://127.0.0.1:{neo4j_proxy.port}",
        neo4j_server.user,
        neo4j_server.password,
        timeout=2,
        retry_time=1,
    )
    with flaky, pytest.raises(Neo4jUnavailableError, match=rf"of {total} batches committed; run it again"):
        export_graph(
            graph,
            flaky,
            schema=SCHEMA,
            batch_size=50,
            writers=4,
            checkpoint=checkpoint,
            on_progress=cut_after_twenty,
        )
    done = ExportCheckpoint.model_validate_json(checkpoint.read_text()).committed
    assert 20 <= len(done) < total

    with connect(neo4j_server.uri, neo4j_server.user, neo4j_server.password) as direct:
        resumed = export_graph(graph, direct, schema=SCHEMA, batch_size=50, writers=4, checkpoint=checkpoint)
        assert (resumed.batches_skipped, resumed.batches) == (len(done), total - len(done))
    assert db_counts(clean_neo4j) == (250, 1500)
    assert duplicate_edges(clean_neo4j) == 0


@pytest.mark.neo4j
def test_dropped_connection_is_retried_and_the_export_completes(
    neo4j_server: Neo4jServer, neo4j_proxy: TcpProxy, clean_neo4j: neo4j.Driver
) -> None:
    graph = chain_graph(50, 120)
    connections_before_drop: list[int] = []

    def drop_after_three(progress: ExportProgress) -> None:
        if progress.batches_done == 3:
            connections_before_drop.append(neo4j_proxy.accepted)
            neo4j_proxy.reset()

    with connect(
        f"bolt://127.0.0.1:{neo4j_proxy.port}", neo4j_server.user, neo4j_server.password, retry_time=10
    ) as target:
        stats = export_graph(graph, target, schema=SCHEMA, batch_size=10, on_progress=drop_after_three)

    assert len(connections_before_drop) == 1
    assert neo4j_proxy.accepted > connections_before_drop[0]  # the driver had to reconnect
    expected_batches = len(plan_export(graph, SCHEMA, batch_size=10).batches)
    assert (stats.batches, stats.nodes_written, stats.relationships_written) == (expected_batches, 50, 120)
    assert db_counts(clean_neo4j) == (50, 120)


@pytest.mark.neo4j
def test_checkpoint_of_another_graph_is_ignored(
    target: Neo4jTarget, clean_neo4j: neo4j.Driver, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "ckpt.json"
    checkpoint.write_text(
        ExportCheckpoint(fingerprint="other", export_id="x", committed=list(range(99))).model_dump_json()
    )

    stats = export_graph(chain_graph(10, 20), target, schema=SCHEMA, batch_size=5, checkpoint=checkpoint)

    assert (stats.batches_skipped, stats.nodes_written, stats.relationships_written) == (0, 10, 20)
    assert db_counts(clean_neo4j) == (10, 20)
    assert not checkpoint.exists()


@pytest.mark.neo4j
def test_wrong_password_is_a_clear_error(neo4j_server: Neo4jServer) -> None:
    with pytest.raises(
        Neo4jAuthError, match="as 'neo4j': the server rejected the user name or password"
    ) as info:
        connect(neo4j_server.uri, neo4j_server.user, "not-the-password")
    assert "not-the-password" not in str(info.value)


@pytest.mark.neo4j
def test_unreachable_server_is_a_clear_error() -> None:
    uri = f"neo4j://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(Neo4jUnavailableError, match=f"connecting to {uri} as 'neo4j': Neo4j is unreachable"):
        connect(uri, "neo4j", "whatever-password", timeout=2)


@pytest.mark.neo4j
def test_missing_database_is_a_clear_error(neo4j_server: Neo4jServer) -> None:
    with pytest.raises(Neo4jDatabaseNotFoundError, match="the server has no database 'nosuchdb'"):
        connect(neo4j_server.uri, neo4j_server.user, neo4j_server.password, database="nosuchdb")


def test_unsupported_uri_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"invalid Neo4j URI 'http://127\.0\.0\.1:7474'"):
        connect("http://127.0.0.1:7474", "neo4j", "whatever-password")


@pytest.mark.neo4j
def test_connect_resolves_the_database_and_exports(
    neo4j_server: Neo4jServer, clean_neo4j: neo4j.Driver
) -> None:
    with connect(neo4j_server.uri, neo4j_server.user, neo4j_server.password, database="neo4j") as named:
        assert named.database == "neo4j"
        assert len(named.database_id) > 10
        stats = export_graph(small_graph(), named, schema=SCHEMA)
    assert (stats.database, stats.nodes_written, stats.relationships_written) == ("neo4j", 5, 5)
    with connect(neo4j_server.uri, neo4j_server.user, neo4j_server.password) as home:
        assert (home.database, home.database_id) == ("neo4j", named.database_id)


# ---------------------------------------------------------------------------------------------
# Credentials from the environment


def test_credentials_come_from_flags_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://abc.databases.neo4j.io")
    monkeypatch.delenv("NEO4J_USER", raising=False)
    monkeypatch.setenv("NEO4J_USERNAME", "aura-user")
    monkeypatch.setenv("NEO4J_PASSWORD", "env-secret")
    monkeypatch.delenv("NEO4J_DATABASE", raising=False)

    from_env = Neo4jCredentials.from_env()
    assert (from_env.uri, from_env.user, from_env.database) == (
        "neo4j+s://abc.databases.neo4j.io",
        "aura-user",
        None,
    )
    assert from_env.password.get_secret_value() == "env-secret"
    assert "env-secret" not in repr(from_env)

    flags = Neo4jCredentials.from_env(uri="bolt://h:1", user="u", password="p", database="db")
    assert (flags.uri, flags.user, flags.password.get_secret_value(), flags.database) == (
        "bolt://h:1",
        "u",
        "p",
        "db",
    )


def test_missing_password_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="set NEO4J_PASSWORD"):
        Neo4jCredentials.from_env(uri="bolt://127.0.0.1:7687")
