"""How a name written in a gold file (or another run) is found in a graph, and how edges compare.

A gold name is matched to a kgc entity the way fusion matches names (`kgc.resolve.NameIndex`: every
surface form merged into the entity, compared by `name_key`). So two gold names that are aliases of
one kgc entity become that one entity and count once. Relaxed matching adds
a fuzzy comparison, stated in every report as `RELAXED_RULE`.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process

from kgc.models import KnowledgeGraph
from kgc.resolve.index import NameIndex
from kgc.resolve.keys import name_key
from kgc.schema import RelationSchema

# token_sort_ratio ignores word order ('translation, machine' = 'machine translation') and tolerates
# a few characters of difference; 85 accepts 'pretrained language model' for 'pre-trained language
# model' and rejects 'machine learning' for 'machine translation' (40).
RELAXED_THRESHOLD = 85.0
_UNMATCHED = "?"  # prefix of a gold name no entity has; entity ids are slugs and never contain '?'

Edge = tuple[str, str, str]  # (head node, relation, tail node)
Pair = tuple[str, str]  # unordered pair, stored sorted


def relaxed_rule(threshold: float) -> str:
    return f"rapidfuzz token_sort_ratio >= {threshold:g} on normalised names, aliases included"


class GraphMatcher:
    """Finds a name among a graph's entities: exactly as fusion would (`kgc.resolve.NameIndex`, the
    entities' names, aliases and merges), or else by the most similar name (relaxed)."""

    def __init__(self, graph: KnowledgeGraph, threshold: float = RELAXED_THRESHOLD):
        self.threshold = threshold
        self.index = NameIndex.from_entities(graph.entities, graph.merges)
        self.names: dict[str, str] = {e.id: e.name for e in graph.entities}
        self._keys = self.index.keys()
        self._relaxed: dict[str, str | None] = {}
        self._spelling: dict[str, str] = {}  # unmatched node -> the name as first written

    def strict(self, name: str, doc: str | None = None) -> str | None:
        """The entity `name` is (in `doc`), as kgc resolves names."""
        return self.index.lookup(name, doc)

    def relaxed(self, name: str) -> str | None:
        """`strict`, else the entity with the most similar name above the threshold."""
        if (found := self.strict(name)) is not None:
            return found
        key = name_key(name)
        if key not in self._relaxed:
            best = process.extractOne(
                key, self._keys, scorer=fuzz.token_sort_ratio, score_cutoff=self.threshold
            )
            self._relaxed[key] = self.index.entity_of_key(best[0]) if best else None
        return self._relaxed[key]

    def node(self, name: str, relaxed: bool = False) -> str:
        """The entity id of `name`, or a node of its own that no graph edge can touch."""
        found = self.relaxed(name) if relaxed else self.strict(name)
        if found is not None:
            return found
        node = _UNMATCHED + name_key(name)
        self._spelling.setdefault(node, name)
        return node

    def label(self, node: str) -> str:
        """A node as a person reads it: the entity's name, or the unmatched name as first written."""
        return self.names.get(node) or self._spelling.get(node, node.removeprefix(_UNMATCHED))


def is_matched(node: str) -> bool:
    return not node.startswith(_UNMATCHED)


def edge(head: str, relation: str, tail: str, schema: RelationSchema) -> Edge:
    """An edge in canonical form: an undirected relation's ends sorted, so either order is equal."""
    rel = schema.resolve(relation)
    if rel is not None and not rel.directed and head > tail:
        head, tail = tail, head
    return (head, rel.name if rel is not None else relation, tail)


def pair(a: str, b: str) -> Pair:
    return (a, b) if a <= b else (b, a)


def graph_edges(graph: KnowledgeGraph, schema: RelationSchema) -> set[Edge]:
    return {edge(r.head, r.relation, r.tail, schema) for r in graph.relations}
