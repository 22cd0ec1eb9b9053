"""`kgc eval RUN --links GOLD`: the run's links (links.jsonl, one line per entity) against gold names.

A gold name is found as an entity's name or as one of its aliases (graph.json), so the score is of
what the graph says about that name.
"""

from __future__ import annotations

from pathlib import Path

from kgc.artifacts import GRAPH
from kgc.errors import KgcError
from kgc.link.metrics import LinkScores, read_gold, score_links
from kgc.link.model import NameLink

LINKS_FILE = "links.jsonl"


def read_links(path: Path) -> list[NameLink]:
    try:
        return [
            NameLink.model_validate_json(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line
        ]
    except FileNotFoundError:
        raise KgcError(
            f"no {path.name} in {path.parent}: link the run first (kgc link RUN --vocab VOCAB)"
        ) from None
    except (OSError, ValueError) as e:
        raise KgcError(f"cannot read {path}: {e}") from None


def entity_link(run_dir: Path, entity_id: str) -> NameLink | None:
    """The link decision of one entity of a linked run, or None (not linked, or no links.jsonl)."""
    path = run_dir / LINKS_FILE
    if not path.is_file():
        return None
    return next((x for x in read_links(path) if x.entity == entity_id), None)


def evaluate_links(run_dir: Path, gold: Path) -> LinkScores:
    links = read_links(run_dir / LINKS_FILE)
    by_name = {x.name: x for x in links}
    graph_file = run_dir / GRAPH.name
    if graph_file.is_file():
        from kgc.export.graph_files import read_graph

        by_entity = {x.entity: x for x in links if x.entity}
        for e in read_graph(run_dir).entities:
            if e.id in by_entity:
                for alias in e.aliases:
                    by_name.setdefault(alias, by_entity[e.id])
    return score_links(read_gold(gold), by_name)
