"""The vocabulary as entity linking reads it: concepts with labels, synonyms and parents. (The link
decisions, a run artifact, are kgc.models.NameLink.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kgc.errors import KgcError

# How a synonym relates to its concept: 'exact' names the same thing (SKOS altLabel and hiddenLabel,
# OBO EXACT); 'narrow' names something narrower (OBO NARROW: a hit links broadMatch); 'broad' and
# 'related' name something else that is near (never linked automatically).
Strength = Literal["exact", "related", "broad", "narrow"]
STRENGTHS: tuple[Strength, ...] = ("exact", "related", "broad", "narrow")


class VocabularyError(KgcError):
    """A vocabulary file cannot be read, or holds no concept with a label."""


@dataclass(frozen=True)
class Synonym:
    text: str
    strength: Strength = "exact"


@dataclass(frozen=True)
class Concept:
    id: str
    label: str
    synonyms: tuple[Synonym, ...] = ()
    definition: str | None = None
    type: str | None = None
    parents: tuple[str, ...] = ()

    def names(self) -> list[tuple[str, str]]:
        """(text, strength) of the preferred label ('label') and every synonym."""
        return [(self.label, "label"), *((s.text, s.strength) for s in self.synonyms)]


@dataclass(frozen=True)
class Columns:
    """Column names of a CSV/TSV vocabulary; None: found by their usual names."""

    id: str | None = None
    label: str | None = None
    synonyms: str | None = None
    definition: str | None = None
    type: str | None = None
    parents: str | None = None
