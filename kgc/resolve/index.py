"""Which entity a name is: the one answer fusion, `kgc explain`, the view and `kgc eval` share.

A name is found by its key (`name_key`: case, spacing, plural, possessive, a leading article, an
acronym in parentheses), so every spelling resolution grouped under one key finds the same entity.
An acronym that stands for different things in different documents ('LM': 'language model' in one,
'linear model' in another) is found, in each of those documents, as that document uses it.

Built by resolution itself (`Resolution.names`) or from a run's entities and merge decisions
(`NameIndex.from_entities`), which is what the other readers of a run have.
"""

from __future__ import annotations

from collections.abc import Iterable

from kgc.models import Entity, MergeDecision
from kgc.resolve.keys import name_key


class NameIndex:
    """Name key -> entity id, and (name key, document) -> entity id where a document decides."""

    def __init__(self) -> None:
        self._entity_of_key: dict[str, str] = {}
        self._in_document: dict[tuple[str, str], str] = {}

    def add_key(self, key: str, entity: str, doc: str | None = None) -> None:
        """`key` (a `name_key`) names `entity` (in `doc` only, when given). The first entity added for
        a key keeps it."""
        if not key:
            return
        if doc is None:
            self._entity_of_key.setdefault(key, entity)
        else:
            self._in_document.setdefault((key, doc), entity)

    def add(self, name: str, entity: str, doc: str | None = None) -> None:
        self.add_key(name_key(name), entity, doc)

    def lookup(self, name: str, doc: str | None = None) -> str | None:
        """The entity `name` is (as `doc` uses it, when given); None for a name it does not know."""
        key = name_key(name)
        if doc is not None and (hit := self._in_document.get((key, doc))) is not None:
            return hit
        return self._entity_of_key.get(key)

    def keys(self) -> list[str]:
        """Every key known outside a single document: what a fuzzy matcher compares a name with."""
        return list(self._entity_of_key)

    def entity_of_key(self, key: str) -> str | None:
        return self._entity_of_key.get(key)

    def __len__(self) -> int:
        return len(self._entity_of_key)

    @classmethod
    def from_entities(cls, entities: Iterable[Entity], merges: Iterable[MergeDecision] = ()) -> NameIndex:
        """The index of a run: each entity's canonical name, then its aliases, then the names merges
        recorded (an alias of an entity that lost all its relations is in merges.jsonl only). An alias
        merged only in some documents is found in those documents only. Canonical names come first,
        so that when two entities of a graph made elsewhere share a key, the one named so keeps it."""
        entities, merges = list(entities), list(merges)
        index = cls()
        per_document = {(m.alias, m.entity) for m in merges if m.docs and m.entity}
        for e in entities:
            index.add(e.name, e.id)
        for e in entities:
            for alias in e.aliases:
                if (alias, e.id) not in per_document:
                    index.add(alias, e.id)
        for m in merges:
            entity = m.entity or index.lookup(m.canonical)  # runs before merges named the entity id
            docs: list[str | None] = [*m.docs] or [None]
            for doc in docs:
                if entity is not None:
                    index.add(m.alias, entity, doc)
        return index
