"""Typed data passed between the stages: the rows of the run directory's artifacts (kgc.artifacts)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, Field, computed_field


def content_hash(text: str) -> str:
    """The hash that identifies a text's content across runs (16 hex digits of SHA-256)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class Document(BaseModel):
    """One corpus document with a stable id (file name, line number or the user's id field)."""

    id: str
    text: str
    source: str = ""  # path (and line) it was read from

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def hash(self) -> str:
        """Content hash of `text`: what an update compares to find changed documents."""
        return content_hash(self.text)


class Chunk(BaseModel):
    """A window of a document; `start`/`end` are character offsets into `Document.text`."""

    id: str  # "<doc_id>#<n>"
    doc_id: str
    text: str
    start: int
    end: int

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def hash(self) -> str:
        """Content hash of `text`: extraction units and embeddings are keyed by it."""
        return content_hash(self.text)


class Seed(BaseModel):
    """A seed entity: a normalised topic keyphrase (or a user-given one)."""

    name: str
    topic: int = -1  # BERTopic topic id; -1 for user seeds
    score: float = 1.0
    origin: Literal["topic", "user"] = "topic"


class SeedContext(BaseModel):
    """The chunks retrieved for one seed, already cut to the character budget."""

    seed: str
    chunk_ids: list[str]
    scores: list[float]


class Provenance(BaseModel):
    """Where a candidate triplet came from."""

    doc_id: str
    chunk_id: str
    seed: str | None = None
    evidence: str | None = None
    cue: str | None = None  # the syntax pattern that stated it (kgc.extraction.cues); None: the LLM


class Candidate(BaseModel):
    """A triplet as one LLM call extracted it, before fusion."""

    head: str
    relation: str
    tail: str
    provenance: list[Provenance] = Field(default_factory=list)


class Entity(BaseModel):
    """A fused entity: a canonical name plus the surface forms merged into it."""

    id: str  # stable slug of the canonical name
    name: str
    aliases: list[str] = Field(default_factory=list)
    type: str | None = None
    support: int = 0  # number of distinct documents mentioning it in a candidate
    sources: list[str] = Field(default_factory=list)  # document ids
    # Set by the link stage (kgc.stages.link) when the run links to a vocabulary; None otherwise.
    vocab_id: str | None = None  # the concept's id in the user's vocabulary
    vocab_label: str | None = None  # its preferred label
    vocab_match: str | None = None  # exactMatch, broadMatch, nil, ambiguous or uncertain
    vocab_score: float | None = None


class CandidateRecord(BaseModel):
    """A concept proposed for a name, with what each linking band measured."""

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
    key: str | None = None  # the link stage's key of what the decision depends on (re-used while equal)
    candidates: list[CandidateRecord] = Field(default_factory=list)

    @property
    def linked(self) -> bool:
        return self.match in ("exactMatch", "broadMatch")


class Relation(BaseModel):
    """A fused edge between two entity ids. Undirected relation types store head <= tail."""

    head: str
    relation: str
    tail: str
    support: int = 0  # distinct documents giving this relation between the pair, in either direction
    confidence: float = 0.0
    inferred: bool = False  # proposed by the fusion LLM, not extracted from text
    decided_by: Literal["support", "llm", "inference", "background"] = "support"
    sources: list[str] = Field(default_factory=list)  # document ids giving it in this direction
    reversed_sources: list[str] = Field(default_factory=list)  # ... in the other (outvoted) direction
    evidence: list[str] = Field(default_factory=list)


class MergeDecision(BaseModel):
    """Why a surface form was merged into a canonical entity (one line of merges.jsonl)."""

    alias: str
    canonical: str
    reason: Literal["normalised", "acronym", "definition", "form", "fuzzy", "embedding", "llm"]
    score: float = 1.0
    entity: str | None = None  # the entity id
    via: str | None = None  # the name it was linked to (the alias joined the entity through it)
    generator: str | None = None  # what proposed the pair: key, acronym, definition, ngram, embedding
    scores: dict[str, float] = Field(default_factory=dict)  # string, embedding, shared_docs, ...
    votes: list[bool | None] = Field(default_factory=list)  # the LLM's answers, one per round
    docs: list[str] = Field(default_factory=list)  # only in these documents (an acronym of several meanings)


class PairDecision(BaseModel):
    """A pair of names that was considered and not merged, and why (one line of rejected_pairs.jsonl)."""

    a: str
    b: str
    generator: str
    decision: Literal["reject", "undecided"]
    band: Literal["veto", "low", "llm", "cluster"]
    reason: str
    scores: dict[str, float] = Field(default_factory=dict)
    votes: list[bool | None] = Field(default_factory=list)


class ConflictDecision(BaseModel):
    """How the relation between one entity pair was chosen among competing candidates."""

    head: str
    tail: str
    options: dict[str, int]  # "head|relation|tail" -> support
    chosen: str | None  # same key format; None when the LLM rejected all options
    decided_by: Literal["support", "llm"]


class KnowledgeGraph(BaseModel):
    """The fused graph: what every writer (GraphML, JSON, Neo4j) takes."""

    entities: list[Entity] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    merges: list[MergeDecision] = Field(default_factory=list)
    conflicts: list[ConflictDecision] = Field(default_factory=list)

    def entity(self, entity_id: str) -> Entity:
        for e in self.entities:
            if e.id == entity_id:
                return e
        raise KeyError(entity_id)


# --- what the stages keep about their own work ------------------------------------------------


@dataclass
class Skipped:
    """An input the corpus stage did not read, and why (skipped.json)."""

    where: str  # path, or path:line
    reason: str


class CorpusChange(BaseModel):
    """One update of a run's corpus (one line of changes.jsonl)."""

    time: str = ""
    how: str = "build"  # "build" (the corpus was read again) or "remove" (kgc remove)
    added: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    corpus_hash: str = ""  # of the documents after the update: a rerun never logs the same update twice

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "changed": len(self.changed), "removed": len(self.removed)}


class TopicSummary(BaseModel):
    """One topic for the user to inspect in the run directory (topics.json)."""

    topic: int
    size: int  # number of documents in it (the topic model may have been fitted on a sample of them)
    keywords: list[str]  # keyphrases as found, best first


class SeedsSeen(BaseModel):
    """What the seeds of a run were chosen from (seeds_seen.json)."""

    settings: str  # hash of the settings that chose them; other settings mean a refit
    chunks: list[str]  # content hashes of the chunks they were chosen from


class Unit(BaseModel):
    """One extraction call's validated candidates, keyed by everything its answer depends on."""

    key: str
    candidates: list[Candidate] = Field(default_factory=list)
    dropped: dict[str, int] = Field(default_factory=dict)  # reason -> triplets dropped by validation
    cues: dict[str, int] = Field(default_factory=dict)  # retyped / flipped / added / refused -> triplets


class ExtractionReport(BaseModel):
    """What extraction dropped and which of its tasks failed (extraction_report.json)."""

    dropped: dict[str, int] = Field(default_factory=dict)  # reason -> triplets
    failed_tasks: list[str] = Field(default_factory=list)  # task keys left without a valid answer
    # what relation cues did (kgc.extraction.cues): LLM triplets retyped and flipped, triplets added
    # from cues and cue triplets refused by the name rules
    cues: dict[str, int] = Field(default_factory=dict)


class ClusterSummary(BaseModel):
    """An entity of several names, why it is shown under its name, and its weakest link (one line of
    clusters.jsonl)."""

    id: str
    canonical: str
    canonical_reason: str = ""  # the rule that chose the shown name (kgc.resolve.canonical)
    names: int
    weakest: float = 1.0  # the lowest score of a checked pair inside it
    weakest_pair: tuple[str, str] | None = None
