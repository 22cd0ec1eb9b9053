"""Clusters become entities: an id and a canonical name each, and a recorded reason for every alias."""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Literal

from kgc.models import MergeDecision, PairDecision
from kgc.resolve.acronyms import ACRONYM_SCORE
from kgc.resolve.canonical import canonical_name
from kgc.resolve.cluster import Grouping
from kgc.resolve.index import NameIndex
from kgc.resolve.types import Cluster, Edge, Node
from kgc.text import slug


@dataclass
class Resolution:
    """The resolved names: which entity each surface form (in which document) belongs to, and why."""

    clusters: dict[str, Cluster]
    names: NameIndex  # which cluster each name is, in each document where that differs
    merges: list[MergeDecision]
    rejected: list[PairDecision]
    counts: Counter[str] = field(default_factory=Counter)

    def lookup(self, name: str, doc: str | None = None) -> str | None:
        """The entity id of `name` (as used in `doc`, when an acronym means different things)."""
        return self.names.lookup(name, doc)


Reason = Literal["normalised", "acronym", "definition", "form", "fuzzy", "embedding", "llm"]
_REASON: dict[str, Reason] = {
    "key": "normalised",
    "acronym": "acronym",
    "definition": "definition",
    "form": "form",
}


def _reason(edge: Edge) -> Reason:
    if edge.reason == "llm":
        return "llm"
    if edge.generator in _REASON:
        return _REASON[edge.generator]
    return "embedding" if edge.reason == "embedding" else "fuzzy"


# A run at scale makes a decision per merged name and per pair kept apart, about a million of each.
# They are made with `model_construct` from values built here, already of the right types, every field
# given (a default makes model_construct inspect its factory's signature: 40x slower than validating)
# and one shared set of the fields given (a set of ~10 names per decision is half its memory).
_MERGE_FIELDS = set(MergeDecision.model_fields)
_PAIR_FIELDS = set(PairDecision.model_fields)


def _merge(
    alias: str,
    canonical: str,
    reason: Reason,
    entity: str,
    via: str,
    generator: str,
    score: float = 1.0,
    scores: dict[str, float] | None = None,
    votes: list[bool | None] | None = None,
    docs: list[str] | None = None,
) -> MergeDecision:
    return MergeDecision.model_construct(
        _fields_set=_MERGE_FIELDS,
        alias=alias,
        canonical=canonical,
        reason=reason,
        score=score,
        entity=entity,
        via=via,
        generator=generator,
        scores={} if scores is None else scores,
        votes=[] if votes is None else votes,
        docs=[] if docs is None else docs,
    )


def _unique_id(name: str, taken: set[str]) -> str:
    base = slug(name)
    eid, n = base, 1
    while eid in taken:  # different names that slug alike ('c++' / 'c')
        n += 1
        eid = f"{base}-{n}"
    taken.add(eid)
    return eid


def _rejected(
    edge: Edge, nodes: list[Node], band: Literal["veto", "low", "llm", "cluster"] | None = None
) -> PairDecision:
    return PairDecision.model_construct(
        _fields_set=_PAIR_FIELDS,
        a=nodes[edge.i].label,
        b=nodes[edge.j].label,
        generator=edge.generator,
        decision="reject" if edge.decision == "reject" else "undecided",
        band=band or ("llm" if edge.band == "high" else edge.band),
        reason=edge.reason,
        scores=edge.scores,
        votes=edge.votes,
    )


def _explain_cluster(c: Cluster, home: int, nodes: list[Node], links: list[Edge]) -> list[MergeDecision]:
    """Why each alias is in the cluster: the merge edge on its path to `home`, the canonical name's node;
    `links` are the merge edges followed inside the cluster."""
    tree: dict[int, list[Edge]] = defaultdict(list)
    for e in links:
        tree[e.i].append(e)
        tree[e.j].append(e)
    reached: dict[int, tuple[Edge, int] | None] = {home: None}  # node -> (edge, the node it came from)
    queue = deque([home])
    while queue:
        u = queue.popleft()
        for e in tree[u]:
            v = e.j if e.i == u else e.i
            if v not in reached:
                reached[v] = (e, u)
                queue.append(v)
    out = []
    for i in c.nodes:
        label = nodes[i].label
        for surface in sorted(nodes[i].surfaces):
            if surface == c.canonical:
                continue
            link = reached.get(i)
            if surface != label or link is None:  # the same key as a joined name: case, plural, punctuation
                via = label if surface != label else c.canonical
                out.append(
                    _merge(
                        alias=surface,
                        canonical=c.canonical,
                        reason="normalised",
                        entity=c.id,
                        via=via,
                        generator="key",
                    )
                )
                continue
            edge, came_from = link
            out.append(
                _merge(
                    alias=surface,
                    canonical=c.canonical,
                    reason=_reason(edge),
                    score=round(edge.score, 4),
                    entity=c.id,
                    via=nodes[came_from].label,
                    generator=edge.generator,
                    scores=edge.scores,
                    votes=edge.votes,
                )
            )
    return out


def build_resolution(
    nodes: list[Node],
    grouping: Grouping,
    by_document: dict[int, dict[str, int]],
    unresolved: list[Edge],
    counts: Counter[str],
) -> Resolution:
    taken: set[str] = set()
    home: dict[str, int] = {}
    clusters: dict[str, Cluster] = {}
    cluster_of_node: dict[int, str] = {}
    names = NameIndex()
    # Largest clusters first, so the best-known entity keeps the plain slug.
    ranked = sorted(
        (m for m in grouping.members if m), key=lambda m: (-sum(nodes[i].count for i in m), nodes[m[0]].key)
    )
    weakest = {id(m): w for m, w in zip(grouping.members, grouping.weakest, strict=True)}
    for members in ranked:
        at, name, why = canonical_name([nodes[i] for i in members])
        home[cid := _unique_id(name, taken)] = members[at]
        w = weakest[id(members)]
        clusters[cid] = Cluster(
            id=cid,
            canonical=name,
            canonical_reason=why,
            nodes=members,
            weakest=w[0] if w else 1.0,
            weakest_pair=(nodes[w[1]].label, nodes[w[2]].label) if w else None,
        )
        for i in members:
            cluster_of_node[i] = cid
            names.add_key(nodes[i].key, cid)
            clusters[cid].surfaces += nodes[i].surfaces

    links: dict[str, list[Edge]] = defaultdict(list)
    for e in grouping.links:
        links[cluster_of_node[e.i]].append(e)
    merges: list[MergeDecision] = []
    for cid, c in clusters.items():
        merges += _explain_cluster(c, home[cid], nodes, links[cid])
    for short, chosen in by_document.items():
        for doc, long in sorted(chosen.items()):
            names.add_key(nodes[short].key, cluster_of_node[long], doc)
        for long in sorted(set(chosen.values())):
            docs = sorted(d for d, x in chosen.items() if x == long)
            target = clusters[cluster_of_node[long]]
            target.surfaces += nodes[short].surfaces
            merges.append(
                _merge(
                    alias=nodes[short].label,
                    canonical=target.canonical,
                    reason="acronym",
                    score=ACRONYM_SCORE,
                    entity=target.id,
                    via=nodes[long].label,
                    generator="acronym",
                    docs=docs,
                )
            )

    rejected = [_rejected(e, nodes) for e in unresolved if e.band != "low" or e.generator == "acronym"]
    for e in grouping.refused:
        e.reason = "another member of the cluster is too different (a chain was prevented)"
        rejected.append(_rejected(e, nodes, "cluster"))
    counts["entities"] = len(clusters)
    counts["merged_names"] = len(merges)
    return Resolution(
        clusters=clusters,
        names=names,
        merges=merges,
        rejected=rejected,
        counts=counts,
    )
