"""(b) Relations after merging: candidate edges re-pointed to entities, grouped by entity pair, and at
most one relation kept per pair, chosen by document support (the background graph, then the LLM,
break ties).

A directed relation given in both directions ('A Used-for B' in three documents, 'B Used-for A' in
one) is one option whose support is both directions together; the direction with more documents
wins and the other is kept on the relation as provenance (`reversed_sources`). When the documents
tie, the direction a sentence's syntax stated (a relation cue's triplet, `provenance.cue`) wins over
the model's; then the one more extraction units gave (seed mode reads a document more than once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kgc.config import FusionConfig
from kgc.errors import KgcError
from kgc.models import Candidate, Relation
from kgc.schema import RelationSchema
from kgc.stages.fusion.merging import EntityIndex

Edge = tuple[str, str, str]  # (head id, relation, tail id)


@dataclass
class Option:
    """One relation type between a pair: its winning direction and the documents of each direction."""

    edge: Edge
    docs: set[str]
    reversed_docs: set[str] = field(default_factory=set)

    @property
    def support(self) -> int:
        return len(self.docs | self.reversed_docs)


@dataclass
class PairEvidence:
    """Every candidate edge seen between one unordered entity pair, with its supporting documents."""

    a: str
    b: str
    edges: dict[Edge, set[str]] = field(default_factory=dict)
    evidence: dict[Edge, list[str]] = field(default_factory=dict)
    stated: dict[Edge, set[str]] = field(default_factory=dict)  # documents whose syntax stated the edge
    units: dict[Edge, int] = field(default_factory=dict)  # candidates (extraction units) giving it

    def _direction_rank(self, e: Edge) -> tuple[int, int, int, Edge]:
        """Documents first, then documents whose syntax stated it, then units; the edge breaks ties."""
        return (-len(self.edges[e]), -len(self.stated.get(e, ())), -self.units.get(e, 0), e)

    @property
    def pair_id(self) -> str:
        return f"{self.a}|{self.b}"

    def options(self) -> list[Option]:
        """One option per relation type, both directions voted together; best supported first."""
        by_relation: dict[str, list[Edge]] = {}
        for e in self.edges:
            by_relation.setdefault(e[1], []).append(e)
        out = []
        for directions in by_relation.values():
            ranked = sorted(directions, key=self._direction_rank)
            win = ranked[0]
            lost = set().union(*(self.edges[e] for e in ranked[1:])) - self.edges[win]
            out.append(Option(edge=win, docs=self.edges[win], reversed_docs=lost))
        return sorted(out, key=lambda o: (-o.support, o.edge))


def edge_key(e: Edge) -> str:
    return "|".join(e)


def collect_pairs(
    candidates: list[Candidate], index: EntityIndex, schema: RelationSchema, cfg: FusionConfig
) -> tuple[dict[tuple[str, str], PairEvidence], int]:
    """Group candidate edges by unordered entity pair; returns the pairs and the self-loops dropped."""
    pairs: dict[tuple[str, str], PairEvidence] = {}
    self_loops = 0
    sources: dict[str, set[str]] = {}
    for cand in candidates:
        doc = cand.provenance[0].doc_id if cand.provenance else None
        h, t = index.entity(cand.head, doc), index.entity(cand.tail, doc)
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
        docs = pe.edges.setdefault(edge, set())
        kept = pe.evidence.setdefault(edge, [])
        pe.units[edge] = pe.units.get(edge, 0) + 1
        for p in cand.provenance:
            docs.add(p.doc_id)
            if p.cue is not None:
                pe.stated.setdefault(edge, set()).add(p.doc_id)
            if p.evidence and len(kept) < cfg.max_evidence and p.evidence not in kept:
                kept.append(p.evidence)
        for ent in (h, t):
            sources.setdefault(ent, set()).update(p.doc_id for p in cand.provenance)
    for ent, docs in sources.items():
        e = index.entities[ent]
        e.sources = sorted(docs)
        e.support = len(docs)
    return pairs, self_loops


def confidence(chosen: int, total: int) -> float:
    """Agreement among the pair's candidates times a saturating function of support (1 -> 0.5, 3 -> 0.875)."""
    return round((chosen / total) * (1 - 0.5**chosen), 4) if total else 0.0


def background_edges(background: list[Edge], index: EntityIndex) -> set[Edge]:
    """The background graph's edges between entities of this run, as (head id, relation, tail id)
    with the relation lower-cased."""
    out = set()
    for h, r, t in background:
        head, tail = index.entity(h), index.entity(t)
        if head is not None and tail is not None:
            out.add((head, r.lower(), tail))
    return out


def decide_by_support(pe: PairEvidence, background: set[Edge]) -> tuple[Option | None, str]:
    """The winning option when support (or the background graph) decides, else (None, 'tie')."""
    ranked = pe.options()
    if len(ranked) == 1 or ranked[0].support > ranked[1].support:
        return ranked[0], "support"
    top = [o for o in ranked if o.support == ranked[0].support]
    known = [o for o in top if (o.edge[0], o.edge[1].lower(), o.edge[2]) in background]
    if len(known) == 1:
        return known[0], "background"
    return None, "tie"


def to_relation(pe: PairEvidence, option: Option, decided_by: str) -> Relation:
    total = sum(len(d) for d in pe.edges.values())
    h, rel, t = option.edge
    return Relation(
        head=h,
        relation=rel,
        tail=t,
        support=option.support,
        confidence=confidence(option.support, total),
        decided_by=decided_by,
        sources=sorted(option.docs),
        reversed_sources=sorted(option.reversed_docs),
        evidence=pe.evidence.get(option.edge, []),
    )


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
