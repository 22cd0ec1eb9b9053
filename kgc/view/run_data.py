"""Everything the view and the report read from a run directory, loaded once.

Only graph.json is required. The other artifacts may be missing (a run stopped early, a graph made
elsewhere) or damaged: each is read through the run directory's door (kgc.rundir), and one that
cannot be read is noted and left out rather than hiding the graph. The templates get plain dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kgc.artifacts import (
    CANDIDATES,
    EVAL,
    EXTRACTION_REPORT,
    MANIFEST,
    MERGES,
    REJECTED_PAIRS,
    SEEDS,
    TOPICS,
)
from kgc.errors import ExportError, KgcError
from kgc.export.graph_files import read_graph
from kgc.models import Candidate, KnowledgeGraph
from kgc.resolve.index import NameIndex
from kgc.rundir import Manifest, RunDir

T = TypeVar("T")


@dataclass
class RunData:
    """A run's artifacts as the view and the report need them."""

    path: Path
    graph: KnowledgeGraph
    manifest: Manifest
    merges: list[dict[str, Any]]  # merges.jsonl lines, extra fields kept
    rejected_pairs: list[dict[str, Any]]  # rejected_pairs.jsonl: name pairs fusion did not merge, and why
    candidates: list[Candidate]
    seed_topics: dict[str, int]  # seed name -> BERTopic topic
    topics: list[dict[str, Any]]  # topics.json
    extraction_report: dict[str, Any]
    evaluation: dict[str, Any] | None  # eval.json written by `kgc eval`, when it ran
    skipped: list[str] = field(default_factory=list)  # optional artifacts that could not be read

    def names(self) -> NameIndex:
        """Which entity each name is (in each document), as fusion merged them."""
        return NameIndex.from_entities(self.graph.entities, self.graph.merges)


MERGE_CORE_FIELDS = ("alias", "canonical", "reason", "score", "entity")


def merge_details(merge: dict[str, Any]) -> dict[str, Any]:
    """The fields of a merges.jsonl line beyond the core ones, empty values left out: what fusion
    recorded about why (the name it went through, the scores, the LLM's votes, ...)."""
    return {k: v for k, v in merge.items() if k not in MERGE_CORE_FIELDS and v not in (None, "", [], {})}


def load_run(run_dir: str | Path) -> RunData:
    """Read a run directory; raises ExportError when it holds no graph."""
    path = Path(run_dir)
    if not path.is_dir():
        raise ExportError(f"no run directory at {path}")
    graph = read_graph(path)
    run = RunDir(path)
    skipped: list[str] = []

    def optional(name: str, read: Callable[[], T | None]) -> T | None:
        try:
            return read()
        except KgcError as e:  # a damaged optional artifact must not hide the graph
            skipped.append(f"{name}: {e}")
            return None

    # Merges and rejected pairs as written, fields this kgc does not know included (they are shown).
    merges = optional(MERGES.name, lambda: run.read_records(MERGES) if run.exists(MERGES) else None)
    rejected = optional(
        REJECTED_PAIRS.name, lambda: run.read_records(REJECTED_PAIRS) if run.exists(REJECTED_PAIRS) else None
    )
    seeds = optional(SEEDS.name, lambda: run.read_optional(SEEDS)) or []
    topics = optional(TOPICS.name, lambda: run.read_optional(TOPICS)) or []
    report = optional(EXTRACTION_REPORT.name, lambda: run.read_optional(EXTRACTION_REPORT))
    evaluation = optional(EVAL.name, lambda: run.read_optional(EVAL))
    return RunData(
        path=path,
        graph=graph,
        manifest=optional(MANIFEST.name, lambda: run.read_optional(MANIFEST)) or Manifest(),
        merges=[m.model_dump() for m in graph.merges] if merges is None else merges,
        rejected_pairs=rejected or [],
        candidates=optional(CANDIDATES.name, lambda: run.read_optional(CANDIDATES)) or [],
        seed_topics={s.name: s.topic for s in seeds},
        topics=[t.model_dump() for t in topics],
        extraction_report=report.model_dump() if report is not None else {},
        evaluation=evaluation if isinstance(evaluation, dict) else None,
        skipped=skipped,
    )
