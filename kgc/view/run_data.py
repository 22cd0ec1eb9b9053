"""Everything the view and the report read from a run directory, loaded once.

Only graph.json is required. The other artifacts may be missing (a run stopped early, a graph made
elsewhere) or carry fields this module does not know yet (merges.jsonl grows explanations), so
they are read as plain JSON and every field is looked up defensively.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgc.errors import ExportError
from kgc.export.graph_files import read_graph
from kgc.models import Candidate, KnowledgeGraph
from kgc.resolve.index import NameIndex
from kgc.rundir import Manifest, RunDir


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


def _json_lines(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if isinstance(row, dict):
                rows.append(row)
    return rows


def load_run(run_dir: str | Path) -> RunData:
    """Read a run directory; raises ExportError when it holds no graph."""
    path = Path(run_dir)
    if not path.is_dir():
        raise ExportError(f"no run directory at {path}")
    graph = read_graph(path)
    skipped: list[str] = []

    def optional(name: str, default: Any, read: Any) -> Any:
        p = path / name
        if not p.is_file():
            return default
        try:
            return read(p)
        except (OSError, ValueError) as e:  # a damaged optional artifact must not hide the graph
            skipped.append(f"{name}: {e}")
            return default

    merges = optional("merges.jsonl", None, _json_lines)
    if merges is None:
        merges = [m.model_dump() for m in graph.merges]
    candidates = optional(
        "candidates.jsonl",
        [],
        lambda p: [Candidate.model_validate(row) for row in _json_lines(p)],
    )
    seeds = optional("seeds.jsonl", [], _json_lines)
    evaluation = optional("eval.json", None, lambda p: json.loads(p.read_text(encoding="utf-8")))
    return RunData(
        path=path,
        graph=graph,
        manifest=RunDir(path).manifest() if (path / "manifest.json").is_file() else Manifest(),
        merges=merges,
        rejected_pairs=optional("rejected_pairs.jsonl", [], _json_lines),
        candidates=candidates,
        seed_topics={str(s.get("name")): int(s.get("topic", -1)) for s in seeds if "name" in s},
        topics=optional("topics.json", [], lambda p: json.loads(p.read_text(encoding="utf-8"))),
        extraction_report=optional(
            "extraction_report.json", {}, lambda p: json.loads(p.read_text(encoding="utf-8"))
        ),
        evaluation=evaluation if isinstance(evaluation, dict) else None,
        skipped=skipped,
    )
