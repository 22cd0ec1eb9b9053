"""The types entity linking passes around: concepts as read from a vocabulary file, and the link
decisions written to links.jsonl."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

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


class CandidateRecord(BaseModel):
    id: str
    label: str
    matched: str  # the label or synonym the name was compared with
    bands: list[str]
    features: dict[str, float]


class NameLink(BaseModel):
    """One line of links.jsonl: a name, its decision and every candidate with its features."""

    name: str
    match: str  # exactMatch, broadMatch, nil, ambiguous, uncertain
    id: str | None = None
    label: str | None = None
    score: float = 0.0
    band: str = "none"
    reason: str = ""
    entity: str | None = None  # the graph entity, when linked from a run
    candidates: list[CandidateRecord] = Field(default_factory=list)

    @property
    def linked(self) -> bool:
        return self.match in ("exactMatch", "broadMatch")
