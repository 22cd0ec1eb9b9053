"""`kgc eval RUN --links GOLD`: the run's links (links.jsonl, one line per entity) against gold names.

A gold name is found as an entity's name or as one of its aliases, so the score is of what the graph
says about that name.
"""

from __future__ import annotations

from pathlib import Path

from kgc.artifacts import GRAPH, LINKS
from kgc.errors import KgcError
from kgc.link.metrics import LinkScores, read_gold, score_links
from kgc.models import NameLink
from kgc.rundir import RunDir


def read_links(run_dir: Path) -> list[NameLink] | None:
    """The run's link decisions, or None when it was never linked."""
    if not (run_dir / LINKS.name).is_file():
        return None
    return RunDir(run_dir).read(LINKS)


def entity_link(run_dir: Path, entity_id: str) -> NameLink | None:
    """The link decision of one entity of a linked run, or None (not linked, or no links.jsonl)."""
    return next((x for x in read_links(run_dir) or [] if x.entity == entity_id), None)


def evaluate_links(run_dir: Path, gold: Path) -> LinkScores:
    run = RunDir(run_dir, create=False)
    links = run.read_optional(LINKS)
    if links is None:
        raise KgcError(f"{run_dir} has no {LINKS.name}: build it with link.vocabulary set (the link stage)")
    by_name = {x.name: x for x in links}
    by_entity = {x.entity: x for x in links if x.entity}
    for e in run.read(GRAPH).entities if run.exists(GRAPH) else []:
        if e.id in by_entity:
            for alias in e.aliases:
                by_name.setdefault(alias, by_entity[e.id])
    return score_links(read_gold(gold), by_name)
