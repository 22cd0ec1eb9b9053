"""The export plan (no server): mix-and-batch keeps concurrent batches apart, and covers every row once."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pytest

from kgc.export.neo4j_plan import (
    node_query,
    partition_of,
    plan_export,
    relationship_query,
    relationship_rounds,
)
from kgc.models import Entity, KnowledgeGraph, Relation
from kgc.schema import RelationSchema

SCHEMA = RelationSchema()


def dense_graph(n_entities: int, n_relations: int) -> KnowledgeGraph:
    """Hubs included: entity e0 is an end of every seventh edge."""
    entities = [Entity(id=f"e{i}", name=f"Entity {i}") for i in range(n_entities)]
    names = SCHEMA.names
    relations = []
    for k in range(n_relations):
        head = 0 if k % 7 == 0 else (k * 13) % n_entities
        tail = (k * 31 + 1) % n_entities
        if head == tail:
            tail = (tail + 1) % n_entities
        relations.append(Relation(head=f"e{head}", relation=names[k % len(names)], tail=f"e{tail}"))
    unique = {(r.head, SCHEMA.get(r.relation).cypher_type, r.tail): r for r in relations}
    return KnowledgeGraph(entities=entities, relations=list(unique.values()))


@pytest.mark.parametrize("partitions", [2, 4, 6, 8])
def test_rounds_pair_every_two_partitions_once_and_touch_each_at_most_once_per_round(partitions: int) -> None:
    rounds = relationship_rounds(partitions)
    pairs = [pair for round_ in rounds for pair in round_]
    expected = [(i, i) for i in range(partitions)] + list(itertools.combinations(range(partitions), 2))
    assert sorted(pairs) == sorted(expected)
    for round_ in rounds:
        touched = [p for pair in round_ for p in set(pair)]
        assert len(touched) == len(set(touched))
    assert len(rounds) == partitions  # the same-partition round, then partitions - 1 pairings


@pytest.mark.parametrize("writers", [1, 2, 3, 4])
def test_concurrent_batches_never_share_a_node_and_every_row_is_planned_once(writers: int) -> None:
    graph = dense_graph(300, 2500)
    plan = plan_export(graph, SCHEMA, batch_size=97, writers=writers)

    assert [b.index for b in plan.batches] == list(range(len(plan.batches)))
    node_round, *relationship_rounds_ = plan.rounds
    assert {b.kind for lane in node_round for b in lane} == {"nodes"}
    assert sorted(row["id"] for lane in node_round for b in lane for row in b.groups["Entity"]) == sorted(
        e.id for e in graph.entities
    )
    planned = []
    for round_ in relationship_rounds_:
        assert len(round_) <= writers * 2  # lanes: the same-partition round has one per partition
        lane_nodes = [
            {
                end
                for b in lane
                for rows in b.groups.values()
                for row in rows
                for end in (row["head"], row["tail"])
            }
            for lane in round_
        ]
        for a, b in itertools.combinations(lane_nodes, 2):
            assert not a & b  # two lanes of one round run at once: they must not lock the same node
        planned += [
            (row["head"], rel_type, row["tail"])
            for lane in round_
            for b in lane
            for rel_type, rows in b.groups.items()
            for row in rows
        ]
    assert sorted(planned) == sorted(
        (r.head, SCHEMA.get(r.relation).cypher_type, r.tail) for r in graph.relations
    )
    assert all(b.size <= 97 for b in plan.batches)


def test_partition_of_is_the_same_in_every_process() -> None:
    # A resumed export must plan the same batches: hash() would differ with each PYTHONHASHSEED.
    code = (
        "from kgc.export.neo4j_plan import partition_of; print([partition_of(f'e{i}', 4) for i in range(40)])"
    )
    values = [partition_of(f"e{i}", 4) for i in range(40)]
    here = str(values)
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        assert done.stdout.strip() == here
    assert set(values) == {0, 1, 2, 3}


def test_create_queries_look_nothing_up_and_merge_queries_do() -> None:
    assert node_query("Entity", create=True).startswith(
        "UNWIND $rows AS row CREATE (n:`Entity` {id: row.id, "
    )
    assert "MERGE (n:`Entity` {id: row.id}) SET " in node_query("Entity", create=False)
    create = relationship_query("Entity", "USED_FOR", create=True)
    assert "CREATE (a)-[r:`USED_FOR` {relation: row.relation, " in create and "MERGE" not in create
    assert "MERGE (a)-[r:`USED_FOR`]->(b) SET r.relation = row.relation" in relationship_query(
        "Entity", "USED_FOR", create=False
    )
