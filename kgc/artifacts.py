"""The run directory's contract: every file a run holds, declared once with its format and row type.

Stages name these objects, never file names: a stage declares the artifacts it reads (`inputs`) and
writes (`outputs`), and reads and writes them through `RunDir.read` / `RunDir.write` (kgc.rundir).
The view, `kgc eval`, `kgc explain` and `kgc summary` read them through the same door.

Three formats: `Rows` (JSON Lines, one pydantic model per line), `Json` (one JSON document checked
against a type) and `Text` (GraphML, HTML). `File` is a file with an owner of its own (the LLM cache,
the run lock): declared here so that its name is written once, read and written by that owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, TypeAdapter

from kgc.models import (
    Candidate,
    Chunk,
    ClusterSummary,
    CorpusChange,
    Document,
    Entity,
    ExtractionReport,
    KnowledgeGraph,
    MergeDecision,
    NameLink,
    PairDecision,
    Relation,
    Seed,
    SeedContext,
    SeedsSeen,
    Skipped,
    TopicSummary,
    Unit,
)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True)
class Rows(Generic[M]):
    """A JSON Lines file: one `row` model per line."""

    name: str
    row: type[M]
    about: str

    format = "jsonl"


@dataclass(frozen=True)
class Json(Generic[T]):
    """One JSON document of type `kind` (a model, or a list or dict of them)."""

    name: str
    kind: type[T]
    about: str
    indent: int = 2

    format = "json"

    @cached_property
    def adapter(self) -> TypeAdapter[T]:
        return TypeAdapter(self.kind)


@dataclass(frozen=True)
class Text:
    """A text file kgc writes for other programs (GraphML) or people (HTML)."""

    name: str
    about: str

    format = "text"


@dataclass(frozen=True)
class File:
    """A file with an owner of its own (SQLite cache, lock); only its name is declared here."""

    name: str
    about: str

    format = "file"


Artifact = Rows[Any] | Json[Any] | Text | File


# --- the run's bookkeeping ----------------------------------------------------------------------


class StageRecord(BaseModel):
    """One stage's line in the manifest: the key it ran with and what it wrote."""

    status: Literal["done", "partial"] = "done"  # partial: `failed` items are retried by the next run
    config_hash: str = ""
    input_hash: str = ""
    outputs: list[str] = Field(default_factory=list)
    # Output name -> content hash when the stage finished: a resume re-runs a stage whose files no
    # longer match (cut, edited); empty in manifests of an older kgc, whose outputs are trusted as they are.
    hashes: dict[str, str] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    failed: int = 0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0  # of the whole process so far
    llm: dict[str, float] = Field(default_factory=dict)  # requests, tokens, cost, cache hits...
    finished_at: str = ""


class Manifest(BaseModel):
    kgc_version: str = ""
    corpus: str = ""  # the corpus path the run read, so later commands need no argument
    removed: list[str] = Field(default_factory=list)  # where an older kgc kept the removed ids (now REMOVED)
    stages: dict[str, StageRecord] = Field(default_factory=dict)


# --- the artifacts --------------------------------------------------------------------------------

MANIFEST = Json("manifest.json", Manifest, "each stage's key, status, counts, timings and LLM usage")
CONFIG = Json("config.json", dict[str, Any], "the resolved configuration of the latest run (no secrets)")
LOCK = File(".kgc.lock", "held by the process writing the run (kgc.runlock)")
LOCK_HOLDER = Json(".kgc.lock.json", dict[str, Any], "who holds the lock: pid, host, command, since")
LLM_CACHE = File("llm_cache.sqlite", "every LLM answer, keyed by request (kgc.llm.cache)")
LLM_FAILURES = File("llm_failures.jsonl", "LLM calls left without a valid answer (kgc.llm.client)")
VECTORS = File("embeddings.sqlite", "text vectors by content hash and embedder key (kgc.embeddings.store)")

REMOVED = Json("removed.json", list[str], "ids taken out with `kgc remove`: the corpus stage skips them")
DOCUMENTS = Rows("documents.jsonl", Document, "the corpus's usable documents")
CHUNKS = Rows("chunks.jsonl", Chunk, "the documents cut into windows, with offsets")
SKIPPED = Json("skipped.json", list[Skipped], "inputs that were not read, and why")
CHANGES = Rows("changes.jsonl", CorpusChange, "one line per update of the corpus (appended)")

SEEDS = Rows("seeds.jsonl", Seed, "the seed entities")
TOPICS = Json("topics.json", list[TopicSummary], "the topics the seeds come from")
SEEDS_SEEN = Json("seeds_seen.json", SeedsSeen, "the chunks the seeds were chosen from")

CONTEXTS = Rows("contexts.jsonl", SeedContext, "the chunks retrieved for each seed")

UNITS = Rows("extraction_units.jsonl", Unit, "every extraction call's valid triplets, by content key")
CANDIDATES = Rows("candidates.jsonl", Candidate, "the triplets extracted, with provenance")
EXTRACTION_REPORT = Json("extraction_report.json", ExtractionReport, "triplets dropped, tasks failed")

GRAPH = Json("graph.json", KnowledgeGraph, "the fused graph, everything in it", indent=1)
GRAPHML = Text("graph.graphml", "the fused graph for Gephi, yEd, networkx")
ENTITIES = Rows("entities.jsonl", Entity, "the fused graph's entities")
RELATIONS = Rows("relations.jsonl", Relation, "the fused graph's relations")
MERGES = Rows("merges.jsonl", MergeDecision, "every alias: how and why it joined its entity")
REJECTED_PAIRS = Rows("rejected_pairs.jsonl", PairDecision, "name pairs kept apart, and why")
CLUSTERS = Rows("clusters.jsonl", ClusterSummary, "entities of several names, with their weakest link")

LINKS = Rows(
    "links.jsonl", NameLink, "each entity's link to the vocabulary, with every candidate and its features"
)
LINKS_SSSOM = Text("links.sssom.tsv", "the links as an SSSOM mapping table (exactMatch and broadMatch rows)")
LINKED_GRAPH = Json(
    "graph.linked.json",
    KnowledgeGraph,
    "the graph with its vocabulary links (annotated, canonicalised or restricted)",
    indent=1,
)
LINKED_GRAPHML = Text("graph.linked.graphml", "the linked graph for Gephi, yEd, networkx")

EVAL = Json("eval.json", dict[str, Any], "what `kgc eval` measured (kgc.evaluate.EvalReport)")
EVAL_LINKS = Json("eval_links.json", dict[str, Any], "what `kgc eval --links` measured (kgc.link.metrics)")
VIEW = Text("graph.html", "the interactive graph (`kgc view`)")
REPORT = Text("report.html", "the run in figures (`kgc report`)")

ALL: tuple[Artifact, ...] = (
    MANIFEST,
    CONFIG,
    LOCK,
    LOCK_HOLDER,
    LLM_CACHE,
    LLM_FAILURES,
    VECTORS,
    REMOVED,
    DOCUMENTS,
    CHUNKS,
    SKIPPED,
    CHANGES,
    SEEDS,
    TOPICS,
    SEEDS_SEEN,
    CONTEXTS,
    UNITS,
    CANDIDATES,
    EXTRACTION_REPORT,
    GRAPH,
    GRAPHML,
    ENTITIES,
    RELATIONS,
    MERGES,
    REJECTED_PAIRS,
    CLUSTERS,
    LINKS,
    LINKS_SSSOM,
    LINKED_GRAPH,
    LINKED_GRAPHML,
    EVAL,
    EVAL_LINKS,
    VIEW,
    REPORT,
)
