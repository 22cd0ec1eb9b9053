"""Clusters from merge edges that cannot chain.

Not connected components: names are taken in order of weight (mentions, then documents), and a name
joins the cluster of a neighbour it has a merge edge to only if it fits every member already there
(no veto, no LLM 'no', and alike or an abbreviation of it). Members that are one name written
differently (joined by equal keys, another form or an abbreviation: 'detecting MCI', 'MCI detection',
'MCI detection task'; later an acronym and its expansion) count as one: the name must fit one of
them. Close spellings do not count so: two typos can chain two words ('analyzerss' / 'analysess').
Otherwise it tries its next neighbour's cluster, then starts its own. Then clusters a merge edge
connects become one when every name of one fits the other (a name taken early could not join a
cluster formed after it). Each cluster keeps its weakest checked pair.
"""

from __future__ import annotations

from collections import defaultdict

from kgc.config import ResolveConfig
from kgc.resolve.scoring import compatible
from kgc.resolve.types import Edge, Node

Pair = tuple[float, int, int]  # (score, node, node): a checked pair


class Grouping:
    """The clusters of the nodes, and what joined them."""

    def __init__(
        self, nodes: list[Node], merges: list[Edge], forbidden: set[tuple[int, int]], cfg: ResolveConfig
    ):
        self.nodes, self.forbidden, self.cfg = nodes, forbidden, cfg
        self.edge_of = {(e.i, e.j): e for e in merges}
        self.members: list[list[int]] = []  # node indices per cluster; the first is the centre
        self.links: list[Edge] = []  # the merge edges followed: a tree over each cluster
        self.weakest: list[Pair | None] = []
        self.refused: list[Edge] = []  # merge edges not followed: a member disagreed
        self.cluster_of: dict[int, int] = {}  # node -> index into members
        self._name = list(range(len(nodes)))  # union-find over nodes that are one name
        for e in merges:  # equal keys, other forms, abbreviations; not close spellings (typos can chain)
            if e.generator in ("key", "form", "acronym"):
                self.same_name(e.i, e.j)

    def name_of(self, v: int) -> int:
        """A representative of the nodes that are one name with `v`."""
        while self._name[v] != v:
            self._name[v] = self._name[self._name[v]]
            v = self._name[v]
        return v

    def same_name(self, a: int, b: int) -> None:
        self._name[self.name_of(a)] = self.name_of(b)

    def fits(self, v: int, members: list[int]) -> Pair | None:
        """The weakest pair if `v` may join `members`, else None: no member forbids it, and for each
        name among them (its spellings together) one spelling is alike it, or `v` is a spelling of one
        of them."""
        best: dict[int, Pair] = {}  # name -> the best pair with v
        one_of_them: Pair | None = None
        for m in members:
            pair = (min(v, m), max(v, m))
            if pair in self.forbidden:
                return None
            if self.name_of(m) == self.name_of(v):
                one_of_them = (1.0, v, m)  # a spelling of a member: already checked against the rest
                continue
            if (e := self.edge_of.get(pair)) is not None:
                ok, score = True, e.score
            else:
                ok, score = compatible(self.nodes[v], self.nodes[m], self.cfg)
            known = best.get(self.name_of(m))
            if ok and (known is None or score > known[0]):
                best[self.name_of(m)] = (score, v, m)
        if one_of_them is not None:
            return min(best.values(), default=one_of_them)
        if any(self.name_of(m) not in best for m in members):
            return None
        return min(best.values())

    def join(
        self, c: int, target: int, edge: Edge, worst: Pair | None = None, only: list[int] | None = None
    ) -> None:
        """Move cluster `c` (or `only` these of its members) into cluster `target` through `edge`;
        `worst` is their weakest checked pair."""
        moving = self.members[c] if only is None else only
        for m in moving:
            self.members[target].append(m)
            self.cluster_of[m] = target
        self.members[c] = [m for m in self.members[c] if m not in set(moving)]
        self.links.append(edge)
        weakest = [w for w in (self.weakest[target], self.weakest[c], worst) if w is not None]
        self.weakest[target] = min([*weakest, (edge.score, edge.i, edge.j)])

    def join_if_fits(self, edge: Edge, max_pairs: int = 400) -> bool:
        """Join the clusters of the edge's ends when every name of the smaller fits the larger."""
        a, b = self.cluster_of[edge.i], self.cluster_of[edge.j]
        if a == b:
            return True
        small, big = sorted((a, b), key=lambda c: (len(self.members[c]), c))
        if len(self.members[small]) > 1 and len(self.members[small]) * len(self.members[big]) > max_pairs:
            return False  # bounded work; a single name is always checked
        fits = [self.fits(v, self.members[big]) for v in self.members[small]]
        if any(w is None for w in fits):
            return False
        self.join(small, big, edge, min(w for w in fits if w is not None))
        return True

    def join_all(self, edges: list[Edge]) -> None:
        """Join the clusters each edge connects, best edges first, where every name fits; the refused
        edges that end up inside one cluster are no longer refused."""
        for e in sorted(edges, key=lambda e: (-e.score, e.i, e.j)):
            self.join_if_fits(e)
        self.refused = [e for e in self.refused if self.cluster_of[e.i] != self.cluster_of[e.j]]

    def attach(self, short: int, edge: Edge) -> bool:
        """An acronym joins its expansion: they are one name from now on, and the acronym with its
        spellings ('A.I.', 'CRF model') moves to the expansion's cluster unless a member there forbids
        it; other names of its cluster stay where they are."""
        other = edge.j if edge.i == short else edge.i
        self.same_name(short, other)
        c, target = self.cluster_of[short], self.cluster_of[other]
        if c == target:
            return True
        moving = [m for m in self.members[c] if self.name_of(m) == self.name_of(short)]
        fits = [self.fits(v, self.members[target]) for v in moving]
        if any(w is None for w in fits):
            return False
        self.join(c, target, edge, min(w for w in fits if w is not None), only=moving)
        return True


def _weight(n: Node) -> tuple[int, int, int, str]:
    return (-n.count, -len(n.docs), len(n.key), n.key)


def cluster(
    nodes: list[Node], merges: list[Edge], forbidden: set[tuple[int, int]], cfg: ResolveConfig
) -> Grouping:
    g = Grouping(nodes, merges, forbidden, cfg)
    adjacent: dict[int, list[Edge]] = defaultdict(list)
    for e in merges:
        adjacent[e.i].append(e)
        adjacent[e.j].append(e)
    for v in sorted(range(len(nodes)), key=lambda i: _weight(nodes[i])):
        options: dict[int, Edge] = {}
        for e in adjacent.get(v, []):
            u = e.j if e.i == v else e.i
            c = g.cluster_of.get(u)
            if c is not None and (c not in options or e.score > options[c].score):
                options[c] = e
        for c, e in sorted(options.items(), key=lambda ce: (-ce[1].score, ce[0])):
            worst = g.fits(v, g.members[c])
            if worst is None:
                g.refused.append(e)
                continue
            g.members[c].append(v)
            g.links.append(e)
            g.cluster_of[v] = c
            current = g.weakest[c]
            if current is None or worst[0] < current[0]:
                g.weakest[c] = worst
            break
        else:
            g.cluster_of[v] = len(g.members)
            g.members.append([v])
            g.weakest.append(None)
    g.join_all(merges)
    return g
