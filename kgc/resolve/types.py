"""What entity resolution takes and gives: names in, clusters with explained decisions out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class NameRecord:
    """One name to resolve, with how often it occurs, where, and a line of context."""

    name: str
    count: int = 1
    docs: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    type: str | None = None


# Nodes and edges are made once per distinct name and per scored pair, a million of each at scale:
# slots and shared empty defaults (no documents, no context) keep each a few hundred bytes.


@dataclass(slots=True)
class Node:
    """The surface forms sharing one name key ('NMT', 'nmt', "NMT's" -> 'nmt')."""

    key: str
    surfaces: Counter[str] = field(default_factory=Counter)
    docs: Set[str] = frozenset()
    context: tuple[str, ...] = ()
    types: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return sum(self.surfaces.values())

    @property
    def label(self) -> str:
        """The most used surface form: how the node is shown in decisions and prompts."""
        return max(self.surfaces, key=lambda s: (self.surfaces[s], -len(s), s))

    @property
    def type(self) -> str | None:
        return self.types.most_common(1)[0][0] if self.types else None


Generator = Literal["key", "acronym", "ngram", "embedding", "definition"]


@dataclass(slots=True)
class Edge:
    """A proposed pair of nodes (i < j) and what is known about it after scoring."""

    i: int
    j: int
    generator: str
    scores: dict[str, float] = field(default_factory=dict)
    decision: Literal["merge", "reject", "undecided"] = "reject"
    band: Literal["high", "llm", "low", "veto"] = "low"
    reason: str = ""
    votes: list[bool | None] = field(default_factory=list)

    @property
    def score(self) -> float:
        return max(self.scores.values(), default=0.0)


@dataclass
class Cluster:
    id: str
    canonical: str
    nodes: list[int]
    canonical_reason: str = ""  # which rule chose the shown name (kgc.resolve.canonical)
    weakest: float = 1.0  # lowest pair score inside the cluster that was checked
    weakest_pair: tuple[str, str] | None = None
    surfaces: list[str] = field(default_factory=list)  # every name resolved into it, in some document or all
