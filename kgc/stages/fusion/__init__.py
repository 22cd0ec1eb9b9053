"""Stage 3: global fusion of all candidates into one graph.

(a) merge entities that name the same thing (normalisation, acronyms, fuzzy and embedding similarity),
(b) keep at most one relation per entity pair, chosen by document support; the LLM decides only ties,
(c) ask the LLM, once per entity neighbourhood, to resolve those ties and propose missing links.
Every merge and every conflict decision is recorded in the graph.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from kgc.config import FusionConfig
from kgc.errors import KgcError
from kgc.llm.client import StageLLM
from kgc.models import Candidate, ConflictDecision, Entity, KnowledgeGraph, MergeDecision, Relation
from kgc.prompts import render
from kgc.schema import RelationSchema
from kgc.text import acronym, normalise_name, slug

log = logging.getLogger(__name__)

Embed = Callable[[list[str]], np.ndarray]  # names -> L2-normalised vectors
_PAREN = re.compile(r"^(?P<name>.+?)\s*\((?P<inner>[^()]+)\)$")
_DIGITS = re.compile(r"\d+")


# ---------------------------------------------------------------- (a) entity merging


@dataclass
class EntityIndex:
    """Maps every surface form to its entity id, with the decisions that built it."""

    entity_of: dict[str, str]  # surface form -> entity id
    entities: dict[str, Entity]
    merges: list[MergeDecision]


@dataclass
class _Cluster:
    keys: list[str]  # normalised keys; keys[0] is the representative
    reasons: dict[str, tuple[str, float]] = field(default_factory=dict)  # key -> (reason, score)


def _split_parenthetical(name: str) -> tuple[str, str | None]:
    """'neural machine translation (NMT)' -> ('neural machine translation', 'NMT')."""
    m = _PAREN.match(name.strip())
    return (m["name"], m["inner"]) if m else (name, None)


def _numbers_differ(a: str, b: str) -> bool:
    """'gpt-3' and 'gpt-4' look alike but are different things."""
    return _DIGITS.findall(a) != _DIGITS.findall(b)


def merge_entities(mentions: Counter[str], cfg: FusionConfig, embed: Embed | None = None) -> EntityIndex:
    """Cluster surface forms (with their mention counts) into entities.

    Leader clustering in order of support: a key joins the best existing cluster above the threshold
    or starts its own, so similarity never chains A~B~C into one entity.
    """
    key_of: dict[str, str] = {}
    key_count: Counter[str] = Counter()
    acronym_hint: dict[str, str] = {}  # acronym key -> expansion key, from 'x y z (XYZ)' forms
    for surface, n in mentions.items():
        base, inner = _split_parenthetical(surface)
        key = normalise_name(base)
        if not key:
            continue
        key_of[surface] = key
        key_count[key] += n
        if inner and acronym(base) == normalise_name(inner):
            acronym_hint[normalise_name(inner)] = key

    order = sorted(key_count, key=lambda k: (-key_count[k], len(k), k))
    cluster_of: dict[str, _Cluster] = {}
    clusters: list[_Cluster] = []

    # Acronyms first: 'nmt' joins 'neural machine translation' when that expansion is in the corpus.
    by_acronym: dict[str, list[str]] = defaultdict(list)
    for k in order:
        if a := acronym(k):
            by_acronym[a].append(k)
    for k in order:
        expansions = [e for e in by_acronym.get(k, []) if e != k]
        if " " in k or not expansions:
            continue
        target = acronym_hint.get(k) or (expansions[0] if len(expansions) == 1 else None)
        if target is None:
            log.info("acronym %r is ambiguous (%s); not merged", k, ", ".join(expansions[:5]))
            continue
        c = cluster_of.get(target)
        if c is None:
            c = _Cluster(keys=[target])
            clusters.append(c)
            cluster_of[target] = c
        c.keys.append(k)
        c.reasons[k] = ("acronym", 1.0)
        cluster_of[k] = c

    rest = [k for k in order if k not in cluster_of]
    vectors: dict[str, np.ndarray] = {}
    if embed is not None and cfg.embedding_merge and rest:
        vectors = dict(zip(rest, embed(rest), strict=True))
    leaders: list[str] = [c.keys[0] for c in clusters]
    for k in rest:
        best: tuple[float, str, str] | None = None  # (score, leader, reason)
        for lead in leaders:
            if _numbers_differ(k, lead):
                continue
            ratio = fuzz.ratio(k, lead)
            if ratio >= cfg.merge_threshold * 100 and (best is None or ratio / 100 > best[0]):
                best = (ratio / 100, lead, "fuzzy")
        if best is None and vectors:
            lead_keys = [lead for lead in leaders if lead in vectors and not _numbers_differ(k, lead)]
            if lead_keys:
                sims = np.stack([vectors[lead] for lead in lead_keys]) @ vectors[k]
                i = int(np.argmax(sims))
                if sims[i] >= cfg.embedding_threshold:
                    best = (float(sims[i]), lead_keys[i], "embedding")
        if best is None:
            c = _Cluster(keys=[k])
            clusters.append(c)
            leaders.append(k)
        else:
            c = cluster_of[best[1]]
            c.keys.append(k)
            c.reasons[k] = (best[2], round(best[0], 4))
        cluster_of[k] = c

    return _build_index(key_of, mentions, cluster_of, clusters)


def _build_index(
    key_of: dict[str, str],
    mentions: Counter[str],
    cluster_of: dict[str, _Cluster],
    clusters: list[_Cluster],
) -> EntityIndex:
    surfaces_of: dict[int, Counter[str]] = defaultdict(Counter)
    for surface, key in key_of.items():
        surfaces_of[id(cluster_of[key])][surface] += mentions[surface]
    entity_of: dict[str, str] = {}
    entities: dict[str, Entity] = {}
    merges: list[MergeDecision] = []
    for c in clusters:
        surfaces = surfaces_of[id(c)]
        lead = c.keys[0]
        # Canonical name: the most used surface form of the representative key, without '(XYZ)'.
        lead_forms = [s for s in surfaces if key_of[s] == lead]
        name = _split_parenthetical(max(lead_forms, key=lambda s: (surfaces[s], -len(s), s)))[0]
        eid = slug(name)
        while eid in entities:  # different names that slug alike ('c++' / 'c')
            eid += "-"
        entities[eid] = Entity(id=eid, name=name, aliases=sorted(s for s in surfaces if s != name))
        for surface in surfaces:
            entity_of[surface] = eid
            if surface == name:
                continue
            key = key_of[surface]
            reason, score = c.reasons.get(key, ("normalised", 1.0))
            merges.append(MergeDecision(alias=surface, canonical=name, reason=reason, score=score))
    return EntityIndex(entity_of=entity_of, entities=entities, merges=merges)


# ---------------------------------------------------------------- (b) conflicts


Edge = tuple[str, str, str]  # (head id, relation, tail id)


@dataclass
class PairEvidence:
    """Every candidate edge seen between one unordered entity pair, with its supporting documents."""

    a: str
    b: str
    options: dict[Edge, set[str]] = field(default_factory=dict)
    evidence: dict[Edge, list[str]] = field(default_factory=dict)

    @property
    def pair_id(self) -> str:
        return f"{self.a}|{self.b}"

    def ranked(self) -> list[tuple[Edge, int]]:
        return sorted(((e, len(d)) for e, d in self.options.items()), key=lambda x: (-x[1], x[0]))


def _edge_key(e: Edge) -> str:
    return "|".join(e)


def collect_pairs(
    candidates: list[Candidate], index: EntityIndex, schema: RelationSchema
) -> tuple[dict[tuple[str, str], PairEvidence], int]:
    """Group candidate edges by unordered entity pair; returns the pairs and the self-loops dropped."""
    pairs: dict[tuple[str, str], PairEvidence] = {}
    self_loops = 0
    for cand in candidates:
        h, t = index.entity_of.get(cand.head), index.entity_of.get(cand.tail)
        rel = schema.resolve(cand.relation)
        if h is None or t is None or rel is None:
            continue
        if h == t:
            self_loops += 1
            continue
        if not rel.directed and h > t:
            h, t = t, h
        a, b = sorted((h, t))
        pe = pairs.setdefault((a, b), PairEvidence(a=a, b=b))
        edge = (h, rel.name, t)
        docs = pe.options.setdefault(edge, set())
        for p in cand.provenance:
            docs.add(p.doc_id)
            if (
                p.evidence
                and len(pe.evidence.setdefault(edge, [])) < 3
                and p.evidence not in pe.evidence[edge]
            ):
                pe.evidence[edge].append(p.evidence)
        for ent in (h, t):
            e = index.entities[ent]
            e.sources = sorted(set(e.sources) | {p.doc_id for p in cand.provenance})
            e.support = len(e.sources)
    return pairs, self_loops


def _confidence(chosen: int, total: int) -> float:
    """Agreement among the pair's candidates times a saturating function of support (1 -> 0.5, 3 -> 0.875)."""
    return round((chosen / total) * (1 - 0.5**chosen), 4) if total else 0.0


def _background_keys(background: list[Edge]) -> set[tuple[str, str, str]]:
    return {(normalise_name(h), r.lower(), normalise_name(t)) for h, r, t in background}


def decide_by_support(
    pe: PairEvidence, index: EntityIndex, background: set[tuple[str, str, str]]
) -> tuple[Edge | None, str]:
    """The winning edge when support (or the background graph) decides, else (None, 'tie')."""
    ranked = pe.ranked()
    if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
        return ranked[0][0], "support"
    top = [e for e, n in ranked if n == ranked[0][1]]
    known = [
        e
        for e in top
        if (
            normalise_name(index.entities[e[0]].name),
            e[1].lower(),
            normalise_name(index.entities[e[2]].name),
        )
        in background
    ]
    if len(known) == 1:
        return known[0], "background"
    return None, "tie"


# ---------------------------------------------------------------- (c) neighbourhood calls


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
class FusionResult:
    graph: KnowledgeGraph
    counts: Counter[str] = field(default_factory=Counter)


def _option_label(edge: Edge, pe: PairEvidence) -> str:
    """How an option is shown: its relation name, marked when it runs from the pair's second entity."""
    return edge[1] if edge[0] == pe.a else f"{edge[1]} (reversed)"


def load_background(path: Path | None) -> list[Edge]:
    """Known edges from a TSV `head<TAB>relation<TAB>tail` (e.g. Graphusion's prerequisite graph)."""
    if path is None:
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise KgcError(f"cannot read background graph {path}: {e.strerror or e}") from e
    edges = []
    for line in lines:
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) == 3 and all(parts):
            edges.append((parts[0], parts[1], parts[2]))
    return edges


def fuse(
    candidates: list[Candidate],
    schema: RelationSchema,
    cfg: FusionConfig,
    *,
    llm: StageLLM | None,
    prompts_dir: Path,
    embed: Embed | None = None,
    background: list[Edge] | None = None,
) -> FusionResult:
    """All candidates in, one fused graph out."""
    counts: Counter[str] = Counter(candidates=len(candidates))
    mentions: Counter[str] = Counter()
    for c in candidates:
        mentions[c.head] += 1
        mentions[c.tail] += 1
    index = merge_entities(mentions, cfg, embed)
    counts["merges"] = len(index.merges)
    pairs, counts["self_loops"] = collect_pairs(candidates, index, schema)
    bg_keys = _background_keys(background or [])

    chosen: dict[tuple[str, str], tuple[Edge, str]] = {}
    ties: list[PairEvidence] = []
    for key, pe in sorted(pairs.items()):
        edge, how = decide_by_support(pe, index, bg_keys)
        if edge is not None:
            chosen[key] = (edge, how)
        else:
            ties.append(pe)
    counts["conflicts"] = sum(1 for pe in pairs.values() if len(pe.options) > 1)
    counts["ties"] = len(ties)

    inferred: list[Edge] = []
    resolved: dict[str, Edge | None] = {}
    if llm is not None and (cfg.resolve_with_llm or cfg.infer_links):
        hoods = plan_neighbourhoods(ties if cfg.resolve_with_llm else [], chosen, cfg)
        counts["neighbourhood_calls"] = len(hoods)
        resolved, inferred, counts["failed_calls"] = _ask_llm(
            hoods, index, schema, cfg, llm, prompts_dir, background or []
        )
    for pe in ties:
        if pe.pair_id not in resolved:  # the LLM did not answer: the first of the best-supported
            chosen[(pe.a, pe.b)] = (pe.ranked()[0][0], "support")
            continue
        counts["resolved_by_llm"] += 1
        edge = resolved[pe.pair_id]
        if edge is not None:  # None: the LLM rejected every option, so the pair gets no edge
            chosen[(pe.a, pe.b)] = (edge, "llm")

    relations: list[Relation] = []
    conflicts: list[ConflictDecision] = []
    for key, pe in sorted(pairs.items()):
        total = sum(len(d) for d in pe.options.values())
        pick = chosen.get(key)
        if len(pe.options) > 1:
            conflicts.append(
                ConflictDecision(
                    head=pe.a,
                    tail=pe.b,
                    options={_edge_key(e): n for e, n in pe.ranked()},
                    chosen=_edge_key(pick[0]) if pick else None,
                    decided_by="llm" if pe.pair_id in resolved else "support",
                )
            )
        if pick is None:
            continue
        edge, how = pick
        docs = pe.options[edge]
        relations.append(
            Relation(
                head=edge[0],
                relation=edge[1],
                tail=edge[2],
                support=len(docs),
                confidence=_confidence(len(docs), total),
                decided_by=how,
                sources=sorted(docs),
                evidence=pe.evidence.get(edge, []),
            )
        )
    existing = {tuple(sorted((r.head, r.tail))) for r in relations}
    for h, rel, t in inferred:
        if tuple(sorted((h, t))) in existing:
            counts["inferred_existing"] += 1
            continue
        existing.add(tuple(sorted((h, t))))
        relations.append(
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

    used = {r.head for r in relations} | {r.tail for r in relations}
    entities = [e for eid, e in sorted(index.entities.items()) if eid in used]
    counts["entities"] = len(entities)
    counts["relations"] = len(relations)
    graph = KnowledgeGraph(entities=entities, relations=relations, merges=index.merges, conflicts=conflicts)
    return FusionResult(graph=graph, counts=counts)


def plan_neighbourhoods(
    ties: list[PairEvidence], chosen: dict[tuple[str, str], tuple[Edge, str]], cfg: FusionConfig
) -> list[Neighbourhood]:
    """At most one call per entity: entities with ties first, then the best-connected ones for inference."""
    adjacency: dict[str, set[str]] = defaultdict(set)
    known: dict[str, list[Edge]] = defaultdict(list)
    for edge, _ in chosen.values():
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
    hoods = []
    for e in order[: cfg.max_neighbourhoods]:
        hoods.append(
            Neighbourhood(
                entity=e,
                conflicts=conflicts_of.get(e, []),
                neighbours=sorted(adjacency[e], key=lambda n: (-len(adjacency[n]), n))[:15],
                known=known[e][:30],
            )
        )
    dropped = len(order) - len(hoods)
    if dropped:
        log.info(
            "fusion: %d neighbourhoods over the limit of %d were not sent", dropped, cfg.max_neighbourhoods
        )
    return hoods


def _ask_llm(
    hoods: list[Neighbourhood],
    index: EntityIndex,
    schema: RelationSchema,
    cfg: FusionConfig,
    llm: StageLLM,
    prompts_dir: Path,
    background: list[Edge],
) -> tuple[dict[str, Edge | None], list[Edge], int]:
    """The LLM's tie decisions and proposed links, and how many calls got no valid answer (the stage is
    then partial, and its rerun asks those again)."""
    names = {eid: e.name for eid, e in index.entities.items()}
    id_of_key = {normalise_name(e.name): eid for eid, e in index.entities.items()}
    for surface, eid in index.entity_of.items():
        id_of_key.setdefault(normalise_name(surface), eid)
    bg_by_key: dict[str, list[Edge]] = defaultdict(list)
    for edge in background:
        bg_by_key[normalise_name(edge[0])].append(edge)
        bg_by_key[normalise_name(edge[2])].append(edge)

    def messages(h: Neighbourhood) -> list[dict[str, str]]:
        conflict_lines = [
            f"- {pe.pair_id}: {names[pe.a]} | {names[pe.b]} | options: "
            + ", ".join(_option_label(e, pe) for e, _ in pe.ranked())
            for pe in h.conflicts
        ]
        bg_lines: list[str] = []
        for eid in [h.entity, *h.neighbours]:
            for edge in bg_by_key.get(normalise_name(names[eid]), []):
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
            background="\n".join(bg_lines[:20]) or "(none)",
            max_new=5 if cfg.infer_links else 0,
        )

    def run(h: Neighbourhood) -> tuple[Neighbourhood, FusionAnswer | None]:
        return h, llm.complete(messages(h), FusionAnswer)

    resolved: dict[str, Edge | None] = {}
    inferred: list[Edge] = []
    failed = 0
    for h, answer in llm.map(run, hoods, description="fusing neighbourhoods"):
        if answer is None:
            failed += 1
            continue
        by_id = {pe.pair_id: pe for pe in h.conflicts}
        for res in answer.resolutions:
            pe = by_id.get(res.pair.strip())
            if pe is None:
                continue
            if res.relation is None or res.relation.strip().lower() in {"", "none", "null"}:
                resolved[pe.pair_id] = None
                continue
            labels = {_option_label(e, pe).lower(): e for e in pe.options}
            picked = labels.get(res.relation.strip().lower())
            if picked is None and (rel := schema.resolve(res.relation)) is not None:
                picked = next((e for e, _ in pe.ranked() if e[1] == rel.name), None)
            if picked is not None:
                resolved[pe.pair_id] = picked
        if cfg.infer_links:
            allowed = {h.entity, *h.neighbours}
            for nr in answer.new_relations[:5]:
                head = id_of_key.get(normalise_name(nr.head))
                tail = id_of_key.get(normalise_name(nr.tail))
                rel = schema.resolve(nr.relation)
                if head is None or tail is None or rel is None or head == tail:
                    continue
                if head not in allowed or tail not in allowed:
                    continue
                if not rel.directed and head > tail:
                    head, tail = tail, head
                inferred.append((head, rel.name, tail))
    return resolved, inferred, failed
