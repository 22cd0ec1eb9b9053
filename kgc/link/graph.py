"""A graph seen through its links: canonicalised to the vocabulary's labels, or restricted to it.

- canonicalise: an entity linked exactMatch takes its concept's preferred label as name (its old name
  becomes an alias); entities linked exactMatch to one concept merge, unless kgc.resolve vetoes the
  pair (different numbers, versions, negating prefixes), their relations re-pointed and deduplicated.
- restrict: canonicalise, then keep only linked entities (exactMatch or broadMatch) and the relations
  between them: Graphusion's concept graph.

Pure: a KnowledgeGraph and its links in, a new KnowledgeGraph out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Literal

from kgc.models import Entity, KnowledgeGraph, NameLink, Relation
from kgc.resolve import name_key
from kgc.resolve.scoring import veto
from kgc.resolve.types import Node

Mode = Literal["annotate", "canonicalise", "restrict"]


def _node(name: str) -> Node:
    return Node(key=name_key(name), surfaces=Counter({name: 1}))


def _merge_relations(relations: Iterable[Relation]) -> list[Relation]:
    kept: dict[tuple[str, str, str], Relation] = {}
    for r in relations:
        if r.head == r.tail:
            continue
        key = (r.head, r.relation, r.tail)
        if key not in kept:
            kept[key] = r
            continue
        k = kept[key]
        sources = sorted({*k.sources, *r.sources})
        kept[key] = k.model_copy(
            update={
                "support": max(k.support, r.support, len(sources)),
                "confidence": max(k.confidence, r.confidence),
                "sources": sources,
                "evidence": list(dict.fromkeys([*k.evidence, *r.evidence]))[:3],
                "inferred": k.inferred and r.inferred,
            }
        )
    return list(kept.values())


def apply_links(graph: KnowledgeGraph, links: list[NameLink], mode: Mode) -> KnowledgeGraph:
    if mode == "annotate":
        return graph
    by_entity = {x.entity: x for x in links if x.entity}
    target: dict[str, str] = {}  # entity id -> the entity id it merges into
    home: dict[str, Entity] = {}  # concept id -> the merged entity
    merged: dict[str, Entity] = {}
    for e in graph.entities:
        link = by_entity.get(e.id)
        if link is None or link.match != "exactMatch" or link.id is None or link.label is None:
            target[e.id] = e.id
            merged[e.id] = e
            continue
        renamed = e.model_copy(
            update={"name": link.label, "aliases": sorted({*e.aliases, e.name} - {link.label})}
        )
        first = home.get(link.id)
        if first is None or veto(_node(first.name), _node(e.name)) or veto(_node(e.name), _node(link.label)):
            if first is None:
                home[link.id] = renamed
            target[e.id] = e.id
            merged[e.id] = renamed
            continue
        joined = first.model_copy(
            update={
                "aliases": sorted({*first.aliases, *renamed.aliases} - {first.name}),
                "sources": sorted({*first.sources, *e.sources}),
                "support": len({*first.sources, *e.sources}) or first.support + e.support,
            }
        )
        home[link.id] = merged[first.id] = joined
        target[e.id] = first.id
    relations = [
        r.model_copy(update={"head": target[r.head], "tail": target[r.tail]}) for r in graph.relations
    ]
    entities = [merged[i] for i in dict.fromkeys(target[e.id] for e in graph.entities)]
    if mode == "restrict":
        keep = {e.id for e in entities if (x := by_entity.get(e.id)) is not None and x.linked}
        entities = [e for e in entities if e.id in keep]
        relations = [r for r in relations if r.head in keep and r.tail in keep]
    return graph.model_copy(update={"entities": entities, "relations": _merge_relations(relations)})
