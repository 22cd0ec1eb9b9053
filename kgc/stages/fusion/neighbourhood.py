"""(c) One LLM call per entity neighbourhood: it settles the ties among the entity's relations and
proposes missing links between the entity and its neighbours (kept as `inferred`)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from kgc.config import FusionConfig
from kgc.llm.client import StageLLM
from kgc.prompts import render
from kgc.schema import RelationSchema
from kgc.stages.fusion.conflicts import Edge, Option, PairEvidence
from kgc.stages.fusion.merging import EntityIndex

log = logging.getLogger(__name__)


class Resolution(BaseModel):
    pair: str
    relation: str | None = None


class NewRelation(BaseModel):
    head: str
    relation: str
    tail: str
    reason: str = ""


class FusionAnswer(BaseModel):
    resolutions: list[Resolution] = Field(default_factory=list)
    new_relations: list[NewRelation] = Field(default_factory=list)


@dataclass
class Neighbourhood:
    entity: str  # entity id
    conflicts: list[PairEvidence]
    neighbours: list[str]  # entity ids
    known: list[Edge]


@dataclass
class LLMDecisions:
    resolved: dict[str, Option | None]  # pair id -> the option chosen (None: the LLM rejected all)
    inferred: list[Edge]
    failed: int  # calls without a valid answer: the stage is partial and its rerun asks them again


def option_label(option: Option, pe: PairEvidence) -> str:
    """How an option is shown: its relation name, marked when it runs from the pair's second entity."""
    return option.edge[1] if option.edge[0] == pe.a else f"{option.edge[1]} (reversed)"


def plan_neighbourhoods(
    ties: list[PairEvidence], chosen: list[Edge], cfg: FusionConfig
) -> list[Neighbourhood]:
    """At most one call per entity: entities with ties first, then the best-connected ones for inference."""
    adjacency: dict[str, set[str]] = defaultdict(set)
    known: dict[str, list[Edge]] = defaultdict(list)
    for edge in chosen:
        adjacency[edge[0]].add(edge[2])
        adjacency[edge[2]].add(edge[0])
        known[edge[0]].append(edge)
        known[edge[2]].append(edge)
    for pe in ties:
        adjacency[pe.a].add(pe.b)
        adjacency[pe.b].add(pe.a)
    conflicts_of: dict[str, list[PairEvidence]] = defaultdict(list)
    for pe in ties:
        # The pair goes to its better-connected end, so fewer entities need a call.
        owner = max((pe.a, pe.b), key=lambda e: (len(adjacency[e]), e))
        conflicts_of[owner].append(pe)
    order = sorted(conflicts_of, key=lambda e: (-len(conflicts_of[e]), e))
    if cfg.infer_links:
        by_degree = sorted(adjacency, key=lambda e: (-len(adjacency[e]), e))
        order += [
            e
            for e in by_degree
            if e not in conflicts_of and len(adjacency[e]) >= cfg.min_degree_for_inference
        ]
    hoods = [
        Neighbourhood(
            entity=e,
            conflicts=conflicts_of.get(e, []),
            neighbours=sorted(adjacency[e], key=lambda n: (-len(adjacency[n]), n))[: cfg.max_neighbours],
            known=known[e][: cfg.max_known_edges],
        )
        for e in order[: cfg.max_neighbourhoods]
    ]
    if dropped := len(order) - len(hoods):
        log.info(
            "fusion: %d neighbourhoods over the limit of %d were not sent", dropped, cfg.max_neighbourhoods
        )
    return hoods


def ask_llm(
    hoods: list[Neighbourhood],
    index: EntityIndex,
    schema: RelationSchema,
    cfg: FusionConfig,
    llm: StageLLM,
    prompts_dir: Path,
    background: list[Edge],
) -> LLMDecisions:
    names = {eid: e.name for eid, e in index.entities.items()}
    background_of: dict[str, list[Edge]] = defaultdict(list)  # entity id -> background edges naming it
    for edge in background:
        for end in {index.entity(edge[0]), index.entity(edge[2])} - {None}:
            background_of[str(end)].append(edge)

    def messages(h: Neighbourhood) -> list[dict[str, str]]:
        conflict_lines = [
            f"- {pe.pair_id}: {names[pe.a]} | {names[pe.b]} | options: "
            + ", ".join(option_label(o, pe) for o in pe.options())
            for pe in h.conflicts
        ]
        bg_lines: list[str] = []
        for eid in [h.entity, *h.neighbours]:
            for edge in background_of.get(eid, []):
                line = f"- {edge[0]} {edge[1]} {edge[2]}"
                if line not in bg_lines:
                    bg_lines.append(line)
        return render(
            prompts_dir,
            cfg.prompt,
            relations=schema.describe(),
            relation_names=", ".join(schema.names),
            entity=names[h.entity],
            known="\n".join(f"- {names[a]} {r} {names[b]}" for a, r, b in h.known) or "(none)",
            conflicts="\n".join(conflict_lines) or "(none)",
            neighbours="\n".join(f"- {names[n]}" for n in h.neighbours) or "(none)",
            background="\n".join(bg_lines[: cfg.max_background_lines]) or "(none)",
            max_new=cfg.max_new_relations if cfg.infer_links else 0,
        )

    def run(h: Neighbourhood) -> tuple[Neighbourhood, FusionAnswer | None]:
        return h, llm.complete(messages(h), FusionAnswer)

    out = LLMDecisions(resolved={}, inferred=[], failed=0)
    for h, answer in llm.map(run, hoods, description="fusing neighbourhoods"):
        if answer is None:
            out.failed += 1
            continue
        _read_resolutions(answer, h, schema, out)
        if cfg.infer_links:
            allowed = {h.entity, *h.neighbours}
            for nr in answer.new_relations[: cfg.max_new_relations]:
                head, tail = index.entity(nr.head), index.entity(nr.tail)
                rel = schema.resolve(nr.relation)
                if head is None or tail is None or rel is None or head == tail:
                    continue
                if head not in allowed or tail not in allowed:
                    continue
                if not rel.directed and head > tail:
                    head, tail = tail, head
                out.inferred.append((head, rel.name, tail))
    return out


def _read_resolutions(
    answer: FusionAnswer, h: Neighbourhood, schema: RelationSchema, out: LLMDecisions
) -> None:
    by_id = {pe.pair_id: pe for pe in h.conflicts}
    for res in answer.resolutions:
        pe = by_id.get(res.pair.strip())
        if pe is None:
            continue
        if res.relation is None or res.relation.strip().lower() in {"", "none", "null"}:
            out.resolved[pe.pair_id] = None
            continue
        options = pe.options()
        labels = {option_label(o, pe).lower(): o for o in options}
        picked = labels.get(res.relation.strip().lower())
        if picked is None and (rel := schema.resolve(res.relation)) is not None:
            picked = next((o for o in options if o.edge[1] == rel.name), None)
        if picked is not None:
            out.resolved[pe.pair_id] = picked
