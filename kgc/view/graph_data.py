"""The graph as the browser view needs it: nodes with their topic, aliases, merges and evidence;
edges with provenance and the conflict decided for their entity pair.

Everything here is plain JSON-able data; `kgc/view/assets/view.js` lays it out (communities and
ForceAtlas2 run in the browser, where graphology does them in a fraction of networkx's time) and draws it.
Evidence is stored once in a table and referenced by index: an entity and its edges share sentences.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from typing import Any

from kgc.resolve.index import NameIndex
from kgc.view.run_data import RunData, merge_details

# Enough evidence to judge an entity or an edge without making a 20,000-edge page heavy.
MAX_ENTITY_EVIDENCE = 20
MAX_EDGE_EVIDENCE = 10


def _entity_topics(run: RunData, names: NameIndex) -> dict[str, int]:
    """An entity's topic: the BERTopic topic of the seeds whose extraction mentioned it most."""
    votes: dict[str, Counter[int]] = defaultdict(Counter)
    for cand in run.candidates:
        for p in cand.provenance:
            topic = run.seed_topics.get(p.seed or "", -1)
            if topic < 0:
                continue
            for surface in (cand.head, cand.tail):
                if (eid := names.lookup(surface, p.doc_id)) is not None:
                    votes[eid][topic] += 1
    return {eid: c.most_common(1)[0][0] for eid, c in votes.items()}


def _topic_labels(run: RunData) -> dict[int, str]:
    labels = {}
    for t in run.topics:
        if isinstance(t, dict) and isinstance(t.get("topic"), int):
            keywords = [str(k) for k in t.get("keywords", [])[:3]]
            labels[t["topic"]] = ", ".join(keywords) or f"topic {t['topic']}"
    return labels


def _merges_by_entity(run: RunData) -> dict[str, list[dict[str, Any]]]:
    """Merges per entity id (recorded in the line, else found by the canonical name)."""
    ids = {e.id for e in run.graph.entities}
    by_name = {e.name: e.id for e in run.graph.entities}
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in run.merges:
        eid = m.get("entity") if m.get("entity") in ids else by_name.get(str(m.get("canonical", "")))
        if eid is None:
            continue
        out[eid].append(
            {
                "alias": m.get("alias"),
                "reason": m.get("reason"),
                "score": m.get("score"),
                "extra": merge_details(m),
            }
        )
    return out


class _EvidenceTable:
    """Evidence items `[doc, chunk, text, triplet]`, each a string-table index, stored once."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.items: list[list[int]] = []
        self._string_index: dict[str, int] = {}

    def _intern(self, text: str) -> int:
        i = self._string_index.get(text)
        if i is None:
            i = self._string_index[text] = len(self.strings)
            self.strings.append(text)
        return i

    def add(self, doc: str, chunk: str, text: str, triplet: str) -> int:
        self.items.append([self._intern(doc), self._intern(chunk), self._intern(text), self._intern(triplet)])
        return len(self.items) - 1


def view_payload(run: RunData, undirected: Collection[str] = ()) -> dict[str, Any]:
    """The JSON embedded in the view page."""
    graph = run.graph
    names = run.names()
    degree: Counter[str] = Counter()
    for r in graph.relations:
        degree[r.head] += 1
        degree[r.tail] += 1
    topic_of = _entity_topics(run, names)

    table = _EvidenceTable()
    entity_evidence: dict[str, list[int]] = defaultdict(list)
    evidence_total: Counter[str] = Counter()
    pair_evidence: dict[tuple[str, str], list[int]] = defaultdict(list)
    for cand in run.candidates:
        doc = cand.provenance[0].doc_id if cand.provenance else None
        h, t = names.lookup(cand.head, doc), names.lookup(cand.tail, doc)
        said = f"{cand.head} — {cand.relation} — {cand.tail}"
        for p in cand.provenance:
            if not p.evidence:
                continue
            item: int | None = None
            for eid in {x for x in (h, t) if x is not None}:
                evidence_total[eid] += 1
                if len(entity_evidence[eid]) < MAX_ENTITY_EVIDENCE:
                    item = table.add(p.doc_id, p.chunk_id, p.evidence, said) if item is None else item
                    entity_evidence[eid].append(item)
            if h is not None and t is not None and h != t:
                shared = pair_evidence[(min(h, t), max(h, t))]
                if len(shared) < MAX_EDGE_EVIDENCE:
                    item = table.add(p.doc_id, p.chunk_id, p.evidence, said) if item is None else item
                    shared.append(item)

    conflict_of = {
        (min(c.head, c.tail), max(c.head, c.tail)): {
            "options": c.options,
            "chosen": c.chosen,
            "decided_by": c.decided_by,
        }
        for c in graph.conflicts
    }
    merges = _merges_by_entity(run)
    nodes = [
        {
            "id": e.id,
            "name": e.name,
            "aliases": e.aliases,
            "support": e.support,
            "degree": degree[e.id],
            "topic": topic_of.get(e.id, -1),
            "merges": merges.get(e.id, []),
            "evidence": entity_evidence.get(e.id, []),
            "evidence_total": evidence_total[e.id],
            "vocab": {
                "id": e.vocab_id,
                "label": e.vocab_label,
                "match": e.vocab_match,
                "score": e.vocab_score,
            }
            if e.vocab_match
            else None,
        }
        for e in graph.entities
    ]
    edges = []
    for i, r in enumerate(graph.relations):
        pair = (min(r.head, r.tail), max(r.head, r.tail))
        edges.append(
            {
                "id": str(i),
                "head": r.head,
                "tail": r.tail,
                "relation": r.relation,
                "directed": r.relation not in undirected,
                "support": r.support,
                "confidence": r.confidence,
                "inferred": r.inferred,
                "decided_by": r.decided_by,
                "sources": r.sources,
                "evidence": r.evidence,
                "pair_evidence": pair_evidence.get(pair, []),
                "conflict": conflict_of.get(pair),
            }
        )
    relation_types = sorted(Counter(r.relation for r in graph.relations).items(), key=lambda x: (-x[1], x[0]))
    return {
        "title": run.path.name,
        "nodes": nodes,
        "edges": edges,
        "relation_types": [name for name, _ in relation_types],
        "topics": {str(k): v for k, v in _topic_labels(run).items()},
        "strings": table.strings,
        "evidence": table.items,
    }
