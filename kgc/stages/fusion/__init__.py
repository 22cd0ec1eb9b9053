"""Stage 3: global fusion of all candidates into one graph.

(a) merging: the names of all candidates resolved into entities (kgc.resolve: keys, acronyms and
    their definitions in the documents, n-gram and embedding neighbours, the LLM on the uncertain band),
(b) conflicts: relations re-pointed to the entities, at most one per entity pair, chosen by document
    support over both directions; the background graph, then the LLM, break ties,
(c) neighbourhood calls: one LLM call per entity settles its ties and proposes missing links.
Every merge, rejected pair and conflict decision is recorded. Inputs are plain typed data, so fusion
can be re-run from candidates alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from kgc.config import FusionConfig, ResolveConfig
from kgc.llm.client import StageLLM
from kgc.models import Candidate, ConflictDecision, KnowledgeGraph, PairDecision, Relation
from kgc.resolve import Embed, llm_judge
from kgc.resolve.types import Cluster
from kgc.schema import RelationSchema
from kgc.stages.fusion.conflicts import (
    Edge,
    Option,
    PairEvidence,
    background_edges,
    collect_pairs,
    decide_by_support,
    edge_key,
    load_background,
    to_relation,
)
from kgc.stages.fusion.merging import EntityIndex, merge_entities
from kgc.stages.fusion.neighbourhood import LLMDecisions, ask_llm, plan_neighbourhoods

__all__ = ["Embed", "FusionResult", "fuse", "load_background", "merge_entities"]


@dataclass
class FusionResult:
    graph: KnowledgeGraph
    rejected: list[PairDecision] = field(default_factory=list)
    clusters: dict[str, Cluster] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)


def fuse(
    candidates: list[Candidate],
    schema: RelationSchema,
    cfg: FusionConfig,
    resolution: ResolveConfig,
    *,
    llm: StageLLM | None,
    prompts_dir: Path,
    embed: Embed | None = None,
    background: list[Edge] | None = None,
    texts: dict[str, str] | None = None,
) -> FusionResult:
    """All candidates in, one fused graph out; names become entities as `resolution` says. `texts`
    (document id -> text) give acronym definitions."""
    band = llm is not None and resolution.llm_band is not False
    judge = llm_judge(llm, prompts_dir, resolution.prompt) if llm is not None and band else None
    index = merge_entities(candidates, resolution, texts=texts, embed=embed, judge=judge)  # (a)
    counts: Counter[str] = Counter(candidates=len(candidates), merges=len(index.merges))
    counts.update(index.counts)

    pairs, counts["self_loops"] = collect_pairs(candidates, index, schema, cfg)  # (b)
    chosen, ties = _decide(pairs, index, background or [])
    counts["conflicts"] = sum(1 for pe in pairs.values() if len(pe.options()) > 1)
    counts["ties"] = len(ties)

    decisions = LLMDecisions(resolved={}, inferred=[], failed=0)  # (c)
    if llm is not None and (cfg.resolve_with_llm or cfg.infer_links):
        hoods = plan_neighbourhoods(
            ties if cfg.resolve_with_llm else [], [o.edge for o, _ in chosen.values()], cfg
        )
        counts["neighbourhood_calls"] = len(hoods)
        decisions = ask_llm(hoods, index, schema, cfg, llm, prompts_dir, background or [])
        counts["failed_calls"] = decisions.failed
    for pe in ties:
        if pe.pair_id not in decisions.resolved:  # the LLM did not answer: the first of the best-supported
            chosen[(pe.a, pe.b)] = (pe.options()[0], "support")
            continue
        counts["resolved_by_llm"] += 1
        if (option := decisions.resolved[pe.pair_id]) is not None:  # None: the LLM rejected every option
            chosen[(pe.a, pe.b)] = (option, "llm")

    relations, conflicts = _relations(pairs, chosen, set(decisions.resolved))
    counts["direction_votes"] = sum(1 for r in relations if r.reversed_sources)
    relations += _inferred(decisions.inferred, relations, cfg, counts)
    used = {r.head for r in relations} | {r.tail for r in relations}
    entities = [e for eid, e in sorted(index.entities.items()) if eid in used]
    counts["entities"] = len(entities)
    counts["relations"] = len(relations)
    graph = KnowledgeGraph(entities=entities, relations=relations, merges=index.merges, conflicts=conflicts)
    return FusionResult(graph=graph, rejected=index.rejected, clusters=index.clusters, counts=counts)


def _decide(
    pairs: dict[tuple[str, str], PairEvidence], index: EntityIndex, background: list[Edge]
) -> tuple[dict[tuple[str, str], tuple[Option, str]], list[PairEvidence]]:
    """The pairs that support (or the background graph) decides, and the ties left."""
    known = background_edges(background, index)
    chosen: dict[tuple[str, str], tuple[Option, str]] = {}
    ties: list[PairEvidence] = []
    for key, pe in sorted(pairs.items()):
        option, how = decide_by_support(pe, known)
        if option is not None:
            chosen[key] = (option, how)
        else:
            ties.append(pe)
    return chosen, ties


def _relations(
    pairs: dict[tuple[str, str], PairEvidence],
    chosen: dict[tuple[str, str], tuple[Option, str]],
    asked_llm: set[str],
) -> tuple[list[Relation], list[ConflictDecision]]:
    relations: list[Relation] = []
    conflicts: list[ConflictDecision] = []
    for key, pe in sorted(pairs.items()):
        pick = chosen.get(key)
        if len(pe.options()) > 1:
            conflicts.append(
                ConflictDecision(
                    head=pe.a,
                    tail=pe.b,
                    options={
                        edge_key(e): len(d)
                        for e, d in sorted(pe.edges.items(), key=lambda x: (-len(x[1]), x[0]))
                    },
                    chosen=edge_key(pick[0].edge) if pick else None,
                    decided_by="llm" if pe.pair_id in asked_llm else "support",
                )
            )
        if pick is not None:
            relations.append(to_relation(pe, *pick))
    return relations, conflicts


def _inferred(
    inferred: list[Edge], relations: list[Relation], cfg: FusionConfig, counts: Counter[str]
) -> list[Relation]:
    existing = {tuple(sorted((r.head, r.tail))) for r in relations}
    out = []
    for h, rel, t in inferred:
        if tuple(sorted((h, t))) in existing:
            counts["inferred_existing"] += 1
            continue
        existing.add(tuple(sorted((h, t))))
        out.append(
            Relation(
                head=h,
                relation=rel,
                tail=t,
                confidence=cfg.inferred_confidence,
                inferred=True,
                decided_by="inference",
            )
        )
        counts["inferred"] += 1
    return out
