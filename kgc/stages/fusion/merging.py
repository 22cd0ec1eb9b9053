"""(a) Entities: the candidates' head and tail names resolved by kgc.resolve, with counts, documents
and an evidence sentence each, and the acronym definitions of the documents they came from."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from kgc.config import ResolveConfig
from kgc.models import Candidate, Entity, MergeDecision, PairDecision
from kgc.resolve import Embed, Judge, NameRecord, find_definitions, resolve
from kgc.resolve.decisions import Resolution
from kgc.resolve.types import Cluster


@dataclass
class EntityIndex:
    """Which entity each name (as used in a document) is, the entities, and the decisions behind them."""

    resolution: Resolution
    entities: dict[str, Entity]
    counts: Counter[str] = field(default_factory=Counter)

    def entity(self, name: str, doc: str | None = None) -> str | None:
        return self.resolution.lookup(name, doc)

    @property
    def merges(self) -> list[MergeDecision]:
        return self.resolution.merges

    @property
    def rejected(self) -> list[PairDecision]:
        return self.resolution.rejected

    @property
    def clusters(self) -> dict[str, Cluster]:
        return self.resolution.clusters


def name_records(candidates: Iterable[Candidate]) -> list[NameRecord]:
    """One record per name and document it was extracted from, its evidence sentence as context."""
    out = []
    for c in candidates:
        docs = tuple(dict.fromkeys(p.doc_id for p in c.provenance))
        context = tuple(p.evidence for p in c.provenance[:1] if p.evidence)
        out += [NameRecord(c.head, 1, docs, context), NameRecord(c.tail, 1, docs, context)]
    return out


def merge_entities(
    candidates: list[Candidate],
    cfg: ResolveConfig,
    *,
    texts: dict[str, str] | None = None,
    embed: Embed | None = None,
    judge: Judge | None = None,
) -> EntityIndex:
    """Resolve every name of the candidates into entities. `texts` (document id -> text) are read for
    acronym definitions; `judge` decides the band of uncertain pairs (else they stay apart)."""
    definitions = [(doc, d) for doc, text in (texts or {}).items() for d in find_definitions(text)]
    resolution = resolve(name_records(candidates), cfg, definitions=definitions, embed=embed, judge=judge)
    entities = {
        cid: Entity(id=cid, name=c.canonical, aliases=sorted(set(c.surfaces) - {c.canonical}))
        for cid, c in resolution.clusters.items()
    }
    counts = Counter({f"resolve_{k}": v for k, v in resolution.counts.items()})
    counts["definitions_mined"] = len(definitions)
    return EntityIndex(resolution=resolution, entities=entities, counts=counts)
