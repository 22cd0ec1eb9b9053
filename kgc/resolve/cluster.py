"""Clusters from merge edges that cannot chain.

Not connected components: names are taken in order of weight (mentions, then documents), and a name
joins the cluster of a neighbour it has a merge edge to only if it is compatible with every member
already there (no veto, no LLM 'no', and alike or an abbreviation of it). Otherwise it tries its next
neighbour's cluster, then starts its own. Each cluster keeps its weakest checked pair.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from kgc.config import ResolveConfig
from kgc.resolve.scoring import compatible
from kgc.resolve.types import Edge, Node


@dataclass
class Grouping:
    members: list[list[int]] = field(default_factory=list)  # node indices; the first is the centre
    joined_by: dict[int, Edge] = field(default_factory=dict)  # node -> the merge edge it joined through
    weakest: list[tuple[float, int, int] | None] = field(default_factory=list)
    refused: list[Edge] = field(default_factory=list)  # merge edges not followed: a member disagreed
    cluster_of: dict[int, int] = field(default_factory=dict)  # node -> index into members

    def attach(self, v: int, edge: Edge) -> bool:
        """Move `v`, alone in its cluster, into the cluster of the edge's other end (an acronym joining
        its expansion). False when `v` already shares a cluster with other names."""
        c_old = self.cluster_of[v]
        if len(self.members[c_old]) > 1:
            return False
        target = self.cluster_of[edge.j if edge.i == v else edge.i]
        self.members[c_old] = []
        self.members[target].append(v)
        self.cluster_of[v] = target
        self.joined_by[v] = edge
        current = self.weakest[target]
        if current is None or edge.score < current[0]:
            self.weakest[target] = (edge.score, edge.i, edge.j)
        return True


def _weight(n: Node) -> tuple[int, int, int, str]:
    return (-n.count, -len(n.docs), len(n.key), n.key)


def cluster(
    nodes: list[Node], merges: list[Edge], forbidden: set[tuple[int, int]], cfg: ResolveConfig
) -> Grouping:
    g = Grouping()
    adjacent: dict[int, list[Edge]] = defaultdict(list)
    edge_of: dict[tuple[int, int], Edge] = {}
    for e in merges:
        adjacent[e.i].append(e)
        adjacent[e.j].append(e)
        edge_of[(e.i, e.j)] = e
    cluster_of = g.cluster_of
    for v in sorted(range(len(nodes)), key=lambda i: _weight(nodes[i])):
        options: dict[int, Edge] = {}
        for e in adjacent.get(v, []):
            u = e.j if e.i == v else e.i
            c = cluster_of.get(u)
            if c is not None and (c not in options or e.score > options[c].score):
                options[c] = e
        for c, e in sorted(options.items(), key=lambda ce: (-ce[1].score, ce[0])):
            worst = _fits(v, g.members[c], nodes, edge_of, forbidden, cfg)
            if worst is None:
                g.refused.append(e)
                continue
            g.members[c].append(v)
            g.joined_by[v] = e
            cluster_of[v] = c
            current = g.weakest[c]
            if current is None or worst[0] < current[0]:
                g.weakest[c] = worst
            break
        else:
            cluster_of[v] = len(g.members)
            g.members.append([v])
            g.weakest.append(None)
    return g


def _fits(
    v: int,
    members: list[int],
    nodes: list[Node],
    edge_of: dict[tuple[int, int], Edge],
    forbidden: set[tuple[int, int]],
    cfg: ResolveConfig,
) -> tuple[float, int, int] | None:
    """The weakest (score, v, member) if `v` may join `members`, else None."""
    worst: tuple[float, int, int] | None = None
    for m in members:
        pair = (min(v, m), max(v, m))
        if pair in forbidden:
            return None
        if (e := edge_of.get(pair)) is not None:
            score = e.score
        else:
            ok, score = compatible(nodes[v], nodes[m], cfg)
            if not ok:
                return None
        if worst is None or score < worst[0]:
            worst = (score, v, m)
    return worst
