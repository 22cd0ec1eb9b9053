"""Acronyms found among the names: which long name each short one stands for, document by document.

A short form with one expansion among the names joins it. One with several ('LM': 'language model',
'linear model') is decided in each document by the definition that document gives ('linear model
(LM)') or else by the expansion that document also names; documents that settle nothing keep the
short form apart. Partial abbreviations ('open IE', 'NMT model') join the one long name they shorten.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from kgc.resolve.acronyms import (
    abbreviates,
    abbreviates_partially,
    long_keys,
    looks_like_acronym,
    partial_keys,
    short_keys,
    short_letters,
)
from kgc.resolve.keys import words
from kgc.resolve.scoring import ACRONYM_SCORE, DEFINITION_SCORE
from kgc.resolve.types import Edge, Node

# short form letters -> long form key -> documents defining it ("" when the document is unknown)
Definitions = dict[str, dict[str, set[str]]]


@dataclass
class AcronymLinks:
    edges: list[Edge] = field(default_factory=list)  # short node -> one node of the cluster it joins
    by_document: dict[int, dict[str, int]] = field(default_factory=dict)  # short node -> doc -> long node
    unresolved: list[Edge] = field(default_factory=list)  # short forms with several expansions, undecided
    counts: Counter[str] = field(default_factory=Counter)


def _short_surface(node: Node) -> str | None:
    forms = [s for s in node.surfaces if looks_like_acronym(s)]
    return max(forms, key=lambda s: (node.surfaces[s], s)) if forms and " " not in node.key else None


def _edge(i: int, j: int, generator: str, score_name: str, score: float, reason: str) -> Edge:
    a, b = min(i, j), max(i, j)
    return Edge(a, b, generator, {score_name: score}, decision="merge", band="high", reason=reason)


def partial_abbreviations(nodes: list[Node]) -> list[Edge]:
    """'open IE' -> 'open information extraction' when exactly one name fits."""
    by_partial: dict[str, list[int]] = defaultdict(list)
    for i, n in enumerate(nodes):
        if len(words(n.key)) >= 2:
            for k in partial_keys(n.key):
                by_partial[k].append(i)
    edges = []
    for i, n in enumerate(nodes):
        if (
            " " in n.key
            and (spaced := " ".join(words(n.key))) in by_partial
            and any(looks_like_acronym(w) for s in n.surfaces for w in s.split())
        ):
            longs = [j for j in by_partial[spaced] if j != i and abbreviates_partially(n.key, nodes[j].key)]
            if len(longs) == 1:
                edges.append(_edge(i, longs[0], "acronym", "acronym", ACRONYM_SCORE, "acronym"))
    return edges


def link_short_forms(nodes: list[Node], definitions: Definitions, cluster_of: dict[int, int]) -> AcronymLinks:
    """Which cluster each acronym joins; `cluster_of` is the clustering of every other name, so the
    expansions of an acronym that are already one entity ('temporal knowledge graph', 'temporal
    knowledge graphs', 'temporal-knowledge graph') count as one expansion."""
    out = AcronymLinks()
    node_of_key = {n.key: i for i, n in enumerate(nodes)}
    by_initials: dict[str, list[int]] = defaultdict(list)
    for i, n in enumerate(nodes):
        if len(words(n.key)) >= 2:
            for k in long_keys(n.key):
                by_initials[k].append(i)
    for i, n in enumerate(nodes):
        if (surface := _short_surface(n)) is not None:
            _link_short_form(i, surface, nodes, by_initials, node_of_key, definitions, cluster_of, out)
    return out


def _link_short_form(
    i: int,
    surface: str,
    nodes: list[Node],
    by_initials: dict[str, list[int]],
    node_of_key: dict[str, int],
    definitions: Definitions,
    cluster_of: dict[int, int],
    out: AcronymLinks,
) -> None:
    letters = short_letters(surface)
    defined = {node_of_key[k]: docs for k, docs in definitions.get(letters, {}).items() if k in node_of_key}
    defined.pop(i, None)
    found = {j for k in short_keys(surface) for j in by_initials.get(k, []) if j != i}
    expansions = sorted({j for j in found if abbreviates(letters, nodes[j].key)} | set(defined))
    if not expansions:
        return
    out.counts["acronyms"] += 1
    # One entry per cluster: its best-known expansion, and the documents that define or name it.
    by_cluster: dict[int, list[int]] = defaultdict(list)
    for j in expansions:
        by_cluster[cluster_of[j]].append(j)
    best = {c: max(js, key=lambda j: (j in defined, nodes[j].count, -j)) for c, js in by_cluster.items()}
    defines = {c: set().union(*(defined.get(j, set()) for j in js)) for c, js in by_cluster.items()}
    names = {c: set().union(*(nodes[j].docs for j in js)) for c, js in by_cluster.items()}

    def link(c: int) -> Edge:
        j = best[c]
        if j in defined:
            return _edge(i, j, "definition", "definition", DEFINITION_SCORE, "definition")
        return _edge(i, j, "acronym", "acronym", ACRONYM_SCORE, "acronym")

    if not nodes[i].docs and definitions.get(letters):
        # Documents unknown, but the corpus defines this acronym: only the expansions it defines count.
        by_cluster = {c: js for c, js in by_cluster.items() if defines[c]}
        if not by_cluster:
            out.counts["acronyms_defined_as_something_else"] += 1
            return
    if len(by_cluster) == 1:
        out.edges.append(link(next(iter(by_cluster))))
        return
    # Several expansions: decide in each document of the short form.
    chosen: dict[str, int] = {}
    for doc in sorted(nodes[i].docs):
        options = [c for c in by_cluster if doc in defines[c]] or [c for c in by_cluster if doc in names[c]]
        if len(options) == 1:
            chosen[doc] = options[0]
    targets = set(chosen.values())
    if len(targets) == 1 and len(chosen) == len(nodes[i].docs):
        out.edges.append(link(targets.pop()))
        out.counts["acronyms_settled_by_documents"] += 1
    elif targets:
        out.by_document[i] = {doc: best[c] for doc, c in chosen.items()}
        out.counts["acronyms_split_by_documents"] += 1
    else:
        out.counts["acronyms_ambiguous"] += 1
    for c in by_cluster:
        if c not in targets:
            edge = _edge(
                i, best[c], "acronym", "acronym", ACRONYM_SCORE, "an acronym with several expansions"
            )
            edge.decision, edge.band = "undecided", "low"
            out.unresolved.append(edge)
